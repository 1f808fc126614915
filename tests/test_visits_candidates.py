"""The visit plan's candidates (visit_candidates), kept on write: right after every write that moves
a resident in or out of the plan's reach, the table equals a recount from residents, addresses and
tenancies."""
import uuid
from datetime import date, timedelta

from sqlalchemy import select

from extensions import db
from models import Address, RentalHousehold, Resident, Tenancy
from models.visits import VisitCandidate, rebuild_candidates
from tests import factories
from tests.factories import id_number
from tests.test_rentals import rental_data
from tests.test_residents import _import, resident_data

TODAY = date.today()


def recount() -> set[tuple]:
    """Every focus resident (household 0) and every open tenancy, at the resident's address."""
    rows = set()
    for resident in db.session.scalars(select(Resident)):
        address = db.session.get(Address, resident.address_id) if resident.address_id else None
        if address is None:
            continue
        place = (resident.station_id, address.grid_id, address.lat, address.lon, resident.is_focus)
        if resident.is_focus:
            rows.add((resident.id, 0, *place))
        for tenancy in db.session.scalars(select(Tenancy).where(Tenancy.resident_id == resident.id,
                                                                Tenancy.move_out.is_(None))):
            rows.add((resident.id, tenancy.household_id, *place))
    return rows


def stored() -> set[tuple]:
    db.session.expire_all()
    c = VisitCandidate
    return set(db.session.execute(select(c.resident_id, c.household_id, c.station_id, c.grid_id, c.lat, c.lon,
                                         c.is_focus)).tuples())


def assert_fresh():
    assert stored() == recount()


def residents_in(rows):
    return {row[0] for row in rows}


def test_created_and_edited_residents(auth, client, station):
    """Tags make a focus resident a candidate, and removing them takes them off; a new address moves
    the row."""
    auth.login("demo-officer")
    data = resident_data(grid_id=station.grid_a.id, tags=["elderly_alone"])
    assert auth.post("/residents/", data=data).status_code == 303
    resident = db.session.scalars(select(Resident)).one()
    assert_fresh()
    assert residents_in(stored()) == {resident.id}
    first_address = resident.address_id

    data.update(tags=["disability"], doc_number=resident.doc_number)
    assert auth.post(f"/residents/{resident.id}", data=data).status_code == 303
    assert_fresh()
    assert stored() == set()

    data.update(tags=["wander_risk"], street="建设街8号")
    assert auth.post(f"/residents/{resident.id}", data=data).status_code == 303
    db.session.refresh(resident)
    assert resident.address_id != first_address
    assert_fresh()
    assert residents_in(stored()) == {resident.id}

    db.session.delete(resident)
    db.session.commit()
    assert stored() == set()


def test_imported_focus_residents_are_candidates(auth, client, station):
    auth.login("demo-leader")
    rows = [["张三", "居民身份证", id_number(401), "13812345678", "常住", "城东社区", "解放路1号", "1号楼", "1单元",
             "101", "", "独居老人", ""]]
    assert _import(auth, rows).status_code == 200
    assert_fresh()
    assert len(stored()) == 1


def test_a_moved_address_moves_its_residents(app, station):
    """The grid and position are the resident's address's: editing the address moves every row."""
    s = station.station
    address = factories.make_address(s, station.grid_a, lat=35.8, lon=112.9)
    focus = factories.make_resident(s, address, name="独居甲")
    focus.tags = " elderly_alone "
    tenant = factories.make_resident(s, address, name="租客乙")
    household = factories.make_household(s, station.grid_a)
    db.session.add(Tenancy(station_id=s.id, household_id=household.id, resident_id=tenant.id, move_in=TODAY,
                           registered_on=TODAY))
    db.session.commit()
    assert_fresh()
    assert len(stored()) == 2
    address.lat, address.lon = 35.81, 112.91
    db.session.commit()
    assert_fresh()
    assert {(row[4], row[5]) for row in stored()} == {(35.81, 112.91)}
    address.grid_id = station.grid_b.id
    db.session.commit()
    assert_fresh()
    assert {row[3] for row in stored()} == {station.grid_b.id}
    elsewhere = factories.make_address(s, station.grid_a, lat=35.7, lon=112.8)
    tenant.address = elsewhere  # through the relationship
    db.session.commit()
    assert_fresh()


def test_tenants_registration_move_out_and_deletes(auth, client, station):
    """A registration's tenants, an added tenant, a move-out, a tenancy moved to another household
    (by id and through the relationship) and a deleted tenancy."""
    auth.login("demo-officer")
    assert auth.post("/rentals/", data=rental_data(station)).status_code == 303
    household = db.session.scalars(select(RentalHousehold)).one()
    assert_fresh()
    assert {row[1] for row in stored()} == {household.id} and len(stored()) == 2

    response = auth.post(f"/rentals/{household.id}/tenancies", data={
        "tenant-name": "李四", "tenant-doc_type": "resident", "tenant-doc_number": id_number(31),
        "tenant-move_in": (TODAY - timedelta(days=1)).isoformat()})
    assert response.status_code == 303
    assert_fresh()
    assert len(stored()) == 3

    tenancy = db.session.scalars(select(Tenancy).order_by(Tenancy.id)).first()
    response = auth.post(f"/rentals/tenancies/{tenancy.id}/move-out", data={"move_out": TODAY.isoformat()})
    assert response.status_code == 303
    assert_fresh()
    assert tenancy.resident_id not in residents_in(stored())

    other = factories.make_household(station.station, station.grid_a)
    moved = db.session.scalars(select(Tenancy).where(Tenancy.move_out.is_(None)).order_by(Tenancy.id)).first()
    moved.household_id = other.id
    db.session.commit()
    assert_fresh()
    assert (moved.resident_id, other.id) in {row[:2] for row in stored()}
    moved.household = household
    db.session.commit()
    assert_fresh()
    db.session.delete(moved)
    db.session.commit()
    assert_fresh()
    assert len(stored()) == 1


def test_synced_registration(auth, client, station):
    auth.login("demo-officer")
    data = rental_data(station)
    item = {"client_id": data.pop("client_id") or str(uuid.uuid4()), "kind": "rental",
            "recorded_at": data.pop("recorded_at"), "data": data}
    result = client.post("/api/sync", json={"device_id": "phone", "items": [item]},
                         headers={"X-Requested-With": "pingan-sync"}).get_json()
    assert result["results"][0]["status"] == "created"
    assert_fresh()
    assert len(stored()) == 2


def test_demo_seed_and_rebuild(app):
    """The seeders' Core inserts skip the listener: the seed rebuilds the rows, which equal a recount."""
    from demo import seed

    context = seed("small")
    rows = stored()
    assert any(row[1] == 0 for row in rows) and any(row[1] for row in rows), "focus and tenancy rows"
    assert_fresh()
    rebuild_candidates(db.session.connection(), context.station.id)
    assert_fresh()
