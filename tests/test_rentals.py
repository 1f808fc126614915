"""Rentals ledger: registration (online and synced, idempotent), tenants, inspections, compliance, scope."""
import io
import uuid
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from blueprints.home.services import LOCAL_TZ
from extensions import db
from models import Address, AuditEvent, Hazard, Inspection, RentalHousehold, Resident, Tenancy
from tests import factories
from tests.conftest import count_queries
from tests.factories import id_number

TODAY = datetime.now(LOCAL_TZ).date()  # the station's day (the server counts delays in it), not UTC's


def rental_data(station, **overrides):
    data = {"client_id": str(uuid.uuid4()), "recorded_at": "2026-11-03T09:15:00+08:00",
            "community": "城东社区", "street": "解放路12号", "building": "3号楼", "unit": "2单元", "room": "301",
            "grid_id": str(station.grid_a.id), "landlord_name": "王房东", "landlord_doc_type": "resident",
            "landlord_doc_number": id_number(11), "landlord_phone": "13800001111", "rooms": "3",
            "use": "residential", "lease_start": "2026-01-01", "lease_end": "2027-01-01", "notes": "",
            "tenants-0-name": "曾小明", "tenants-0-doc_type": "resident", "tenants-0-doc_number": id_number(21),
            "tenants-0-phone": "13912345678", "tenants-0-move_in": "2026-10-30", "tenants-0-move_out": "",
            "tenants-1-name": "单伟", "tenants-1-doc_type": "resident", "tenants-1-doc_number": id_number(22),
            "tenants-1-phone": "", "tenants-1-move_in": "2026-11-01", "tenants-1-move_out": ""}
    data.update(overrides)
    return data


def register(auth, station, **overrides):
    return auth.post("/rentals/", data=rental_data(station, **overrides))


def count(model):
    return db.session.scalar(select(func.count(model.id)))


def test_registration_creates_household_landlord_and_tenancies(auth, client, station):
    auth.login("demo-officer")
    assert client.get("/rentals/new").status_code == 200
    response = register(auth, station)
    assert response.status_code == 303
    household = db.session.scalars(select(RentalHousehold)).one()
    assert household.grid_id == station.grid_a.id and household.landlord.name == "王房东"
    assert household.registered_on == date(2026, 11, 3) and household.rooms == 3
    tenancies = sorted(household.tenancies, key=lambda t: t.resident.name)
    assert [t.resident.name for t in tenancies] == ["单伟", "曾小明"]
    # 2026-10-30 -> registered 2026-11-03: 4 days, over the 3-day rule
    assert {t.resident.name: t.registration_delay_days for t in tenancies} == {"曾小明": 4, "单伟": 2}
    assert all(t.resident.address_id == household.address_id for t in tenancies)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "曾小明" in page and id_number(21) not in page and "140581********" in page


def test_htmx_registration_redirects_with_hx_redirect(auth, client, station):
    auth.login("demo-officer")
    response = register(auth, station, **{"tenants-1-name": "", "tenants-1-doc_number": "", "tenants-1-move_in": ""})
    assert response.status_code == 303
    response = auth.post("/rentals/", data=rental_data(station, street="解放路99号"), headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"].startswith("/rentals/")


def test_an_existing_address_and_people_are_reused(auth, client, station):
    address = factories.make_address(station.station, station.grid_a, community="城东社区", street="解放路12号",
                                     building="3号楼", unit="2单元", room="301")
    landlord = factories.make_resident(station.station, name="王房东", doc_number=id_number(11))
    auth.login("demo-officer")
    assert register(auth, station).status_code == 303
    household = db.session.scalars(select(RentalHousehold)).one()
    assert household.address_id == address.id and household.landlord_id == landlord.id
    assert count(Address) == 1 and count(Resident) == 3


def test_same_client_id_twice_gives_one_household(auth, client, station):
    auth.login("demo-officer")
    data = rental_data(station)
    first = auth.post("/rentals/", data=data)
    second = auth.post("/rentals/", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count(RentalHousehold) == 1 and count(Tenancy) == 2


def test_synced_rental_uses_the_same_form_and_is_idempotent(auth, client, station):
    """A queued registration arrives flat (tenants-0-name ...) through /api/sync, once."""
    auth.login("demo-officer")
    data = rental_data(station)
    item = {"client_id": data.pop("client_id"), "kind": "rental", "recorded_at": data.pop("recorded_at"),
            "data": data}
    body = {"device_id": "phone", "items": [item]}
    headers = {"X-Requested-With": "pingan-sync"}
    first = client.post("/api/sync", json=body, headers=headers).get_json()["results"][0]
    again = client.post("/api/sync", json=body, headers=headers).get_json()["results"][0]
    assert first["status"] == "created" and again["status"] == "duplicate" and again["id"] == first["id"]
    assert count(RentalHousehold) == 1 and count(Tenancy) == 2
    bad = {**item, "client_id": str(uuid.uuid4()), "data": {**data, "lease_end": "2025-01-01"}}
    result = client.post("/api/sync", json={"device_id": "phone", "items": [bad]}, headers=headers).get_json()
    assert result["results"][0]["status"] == "rejected" and "lease_end" in result["results"][0]["errors"]


@pytest.mark.parametrize("overrides,field,message", [
    ({"lease_end": "2025-12-31"}, "lease_end", "The lease ends before it starts."),
    ({"tenants-0-move_out": "2026-10-01"}, "tenants-0-move_out", "Move-out is before move-in."),
    ({"tenants-0-move_in": (TODAY + timedelta(days=5)).isoformat()}, "tenants-0-move_in", "in the future"),
    ({"tenants-0-doc_number": "14058119900101123"}, "tenants-0-doc_number", "must have 18 characters"),
    ({"landlord_doc_number": id_number(11)[:-1] + ("0" if id_number(11)[-1] != "0" else "1")},
     "landlord_doc_number", "check character"),
    ({"tenants-1-doc_number": id_number(21)}, "tenants-1-doc_number", "listed twice"),
    ({"tenants-0-phone": "123"}, "tenants-0-phone", "Not a valid phone number."),
    ({"grid_id": "999999"}, "grid_id", "Choose one of your grids."),
])
def test_bad_input_is_422_beside_its_field(auth, client, station, overrides, field, message):
    client.set_cookie("lang", "en")
    auth.login("demo-officer")
    response = auth.post("/rentals/", data=rental_data(station, **overrides), headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and message in body and f'id="{field}-error"' in body
    assert "<html" not in body and "王房东" in body  # the fragment, with what was typed
    assert count(RentalHousehold) == 0 and count(Resident) == 0


def test_tenant_in_another_active_tenancy_is_a_warning(auth, client, station):
    other = factories.make_household(station.station, station.grid_a)
    tenant = factories.make_resident(station.station, name="曾小明", doc_number=id_number(21))
    db.session.add(Tenancy(station_id=station.station.id, household_id=other.id, resident_id=tenant.id,
                           move_in=date(2026, 1, 1), registered_on=date(2026, 1, 1)))
    db.session.commit()
    client.set_cookie("lang", "en")
    auth.login("demo-officer")
    response = register(auth, station)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "still lives at" in page
    assert count(RentalHousehold) == 2 and db.session.scalar(
        select(func.count(Tenancy.id)).where(Tenancy.resident_id == tenant.id)) == 2


def test_add_tenant_and_move_out(auth, client, station):
    household = factories.make_household(station.station, station.grid_a)
    client.set_cookie("lang", "en")
    auth.login("demo-officer")
    url = f"/rentals/{household.id}/tenancies"
    response = auth.post(url, data={"tenant-name": "李四", "tenant-doc_type": "resident",
                                    "tenant-doc_number": id_number(31), "tenant-move_in": "2026-11-01"})
    assert response.status_code == 303
    tenancy = db.session.scalars(select(Tenancy)).one()
    early = auth.post(f"/rentals/tenancies/{tenancy.id}/move-out", data={"move_out": "2026-10-01"})
    assert early.status_code == 422 and "Move-out is before move-in." in early.get_data(as_text=True)
    assert auth.post(f"/rentals/tenancies/{tenancy.id}/move-out", data={"move_out": "2026-11-20"}).status_code == 303
    db.session.refresh(tenancy)
    assert tenancy.move_out == date(2026, 11, 20)


def inspection_data(household, **overrides):
    data = {"client_id": str(uuid.uuid4()), "recorded_at": "2026-11-20T10:00:00+08:00",
            "household_id": str(household.id), "inspected_on": TODAY.isoformat(), "fire_extinguisher": "y",
            "escape_route": "y", "ebikes_indoors": "y", "findings": "楼道堆放杂物",
            "hazards-0-description": "电动车室内充电", "hazards-0-due_on": (TODAY + timedelta(days=7)).isoformat()}
    data.update(overrides)
    return data


def test_inspection_with_hazard_and_follow_up(auth, client, station):
    household = factories.make_household(station.station, station.grid_a, registered_on=TODAY - timedelta(days=200))
    auth.login("demo-officer")
    assert client.get(f"/rentals/inspections/new?household={household.id}").status_code == 200
    data = inspection_data(household)
    assert auth.post("/rentals/inspections", data=data).status_code == 303
    assert auth.post("/rentals/inspections", data=data).status_code == 303  # retried: still one
    inspection = db.session.scalars(select(Inspection)).one()
    assert inspection.fire_extinguisher and not inspection.wiring_ok and inspection.ebikes_indoors
    hazard = db.session.scalars(select(Hazard)).one()
    db.session.refresh(household)
    assert household.last_inspected_on == TODAY
    assert auth.post(f"/rentals/hazards/{hazard.id}/resolve", data={"note": "已整改"}).status_code == 303
    db.session.refresh(hazard)
    assert hazard.resolved_on is not None and hazard.resolution == "已整改"


def test_inspection_bad_dates(auth, client, station):
    household = factories.make_household(station.station, station.grid_a)
    client.set_cookie("lang", "en")
    auth.login("demo-officer")
    future = auth.post("/rentals/inspections", data=inspection_data(
        household, inspected_on=(TODAY + timedelta(days=2)).isoformat()))
    assert future.status_code == 422 and "in the future" in future.get_data(as_text=True)
    early_due = auth.post("/rentals/inspections", data=inspection_data(
        household, **{"hazards-0-due_on": (TODAY - timedelta(days=3)).isoformat()}))
    assert early_due.status_code == 422 and "before the inspection" in early_due.get_data(as_text=True)
    assert count(Inspection) == 0


def test_officer_cannot_inspect_another_grid(auth, client, station):
    household = factories.make_household(station.station, station.grid_b)
    auth.login("demo-officer")
    assert client.get(f"/rentals/{household.id}").status_code == 404
    response = auth.post("/rentals/inspections", data=inspection_data(household))
    assert response.status_code == 422 and count(Inspection) == 0


def _compliance_fixture(station):
    """Grid A: one overdue group rental with a late tenant and an ended lease; one fine household."""
    landlord = factories.make_resident(station.station, name="房东")
    overdue = factories.make_household(station.station, station.grid_a, landlord=landlord, officer=station.officer,
                                       use="group", registered_on=TODAY - timedelta(days=100),
                                       last_inspected_on=TODAY - timedelta(days=31),
                                       lease_end=TODAY - timedelta(days=1))
    tenant = factories.make_resident(station.station, name="租客")
    db.session.add(Tenancy(station_id=station.station.id, household_id=overdue.id, resident_id=tenant.id,
                           move_in=TODAY - timedelta(days=20), registered_on=TODAY - timedelta(days=10),
                           registration_delay_days=10))
    fine = factories.make_household(station.station, station.grid_a, landlord=landlord, officer=station.officer,
                                    registered_on=TODAY - timedelta(days=100),
                                    last_inspected_on=TODAY - timedelta(days=60))
    in_b = factories.make_household(station.station, station.grid_b, landlord=landlord,
                                    officer=station.officer_b, registered_on=TODAY - timedelta(days=91))
    db.session.commit()
    return overdue, fine, in_b


def test_compliance_rules_and_report(app, station):
    from blueprints.rentals import ledger

    overdue, fine, in_b = _compliance_fixture(station)
    rows = {row["id"]: row for row in ledger.grid_report(station.command)}
    a, b = rows[station.grid_a.id], rows[station.grid_b.id]
    assert (a["households"], a["inspection_overdue"], a["late_registration"], a["lease_ended"]) == (2, 1, 1, 1)
    assert a["completeness"] == 50 and b["inspection_overdue"] == 1 and b["completeness"] == 0
    assert ledger.household_flags(fine) == []
    assert set(ledger.household_flags(overdue)) == {"inspection_overdue", "late_registration", "lease_ended"}
    app.config["RENTAL_GROUP_INSPECTION_DAYS"] = 45
    try:
        assert "inspection_overdue" not in ledger.household_flags(overdue)
    finally:
        app.config.pop("RENTAL_GROUP_INSPECTION_DAYS")
    officers = {row["name"]: row for row in ledger.officer_report(station.leader)}
    assert officers["张伟"]["overdue"] == 3 and officers["赵敏"]["inspection_overdue"] == 1


def test_compliance_page_and_overdue_list_are_scoped(auth, client, station):
    overdue, fine, in_b = _compliance_fixture(station)
    auth.login("demo-officer")
    page = client.get("/rentals/compliance").get_data(as_text=True)
    assert station.grid_a.name in page and station.grid_b.name not in page
    listing = client.get("/rentals/?overdue=1").get_data(as_text=True)
    assert f'id="household-{overdue.id}"' in listing and f'id="household-{fine.id}"' not in listing
    assert f'id="household-{in_b.id}"' not in listing
    auth.logout()
    auth.login("demo-command")
    listing = client.get("/rentals/?overdue=1").get_data(as_text=True)
    assert f'id="household-{in_b.id}"' in listing
    assert "50%" in client.get("/rentals/compliance").get_data(as_text=True)


def test_case_team_reads_but_may_not_register(auth, client, station):
    household = factories.make_household(station.station, station.grid_b)
    auth.login("demo-case")
    assert client.get(f"/rentals/{household.id}").status_code == 200
    assert client.get("/rentals/new").status_code == 403
    assert register(auth, station).status_code == 403
    assert auth.post("/rentals/inspections", data=inspection_data(household)).status_code == 403


def test_ledger_list_query_count_is_flat(auth, client, station):
    auth.login("demo-command")
    landlord = factories.make_resident(station.station)

    def statements(url):
        return count_queries(client, url)

    factories.make_household(station.station, station.grid_a, landlord=landlord)
    small = statements("/rentals/"), statements("/rentals/?overdue=1"), statements("/rentals/compliance")
    for _ in range(25):
        factories.make_household(station.station, station.grid_a, landlord=landlord)
    assert (statements("/rentals/"), statements("/rentals/?overdue=1"), statements("/rentals/compliance")) == small


def test_export_is_audited_and_masked(auth, client, station):
    landlord = factories.make_resident(station.station, name="王房东")
    factories.make_household(station.station, station.grid_a, landlord=landlord)
    auth.login("demo-officer")
    response = auth.post("/rentals/export")
    assert response.status_code == 200
    values = [c for row in load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True) for c in row]
    assert "王房东" in values and landlord.doc_number not in values
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).one().detail["what"] == "rentals"


def test_registration_page_is_an_offline_field_form(auth, client, station):
    """The form carries data-outbox, client_id, recorded_at and multipart htmx encoding."""
    from blueprints.sync import records

    auth.login("demo-officer")
    body = client.get("/rentals/new").get_data(as_text=True)
    assert 'data-outbox="rental"' in body and 'hx-encoding="multipart/form-data"' in body
    assert 'name="client_id"' in body and 'name="recorded_at"' in body and 'name="tenants-0-name"' in body
    assert records.KINDS["rental"].page == "rentals.new" and "inspection" in records.KINDS


# --- the household's summary of open tenancies and hazards, kept on write -------------------------

def summary(household_id: int) -> tuple:
    """The stored summary columns, read from the database (not the session's copy)."""
    H = RentalHousehold
    return tuple(db.session.execute(select(H.open_tenants, H.open_registration_delay, H.open_hazard_due)
                                    .where(H.id == household_id)).one())


def recount(household_id: int) -> tuple:
    """The summary counted from the tenancies and hazards as they are now."""
    from models.rentals import SUMMARY_COLUMNS, summary_values

    values = summary_values(household_id)
    return tuple(db.session.execute(select(*(values[name] for name in SUMMARY_COLUMNS))).one())


def test_summary_follows_registration_tenants_move_outs_and_hazards(auth, client, station):
    """Right after each write (registration, a tenant added, a move-out, an inspection with a hazard,
    its follow-up, a deleted tenancy, a tenancy moved to another household) the household's open
    tenants, their largest registration delay and its earliest open hazard are the recount; a move
    back through the relationship and deletes too."""
    auth.login("demo-officer")
    assert register(auth, station).status_code == 303
    household = db.session.scalars(select(RentalHousehold)).one()
    assert summary(household.id) == recount(household.id) == (2, 4, None)

    response = auth.post(f"/rentals/{household.id}/tenancies", data={
        "tenant-name": "李四", "tenant-doc_type": "resident", "tenant-doc_number": id_number(31),
        "tenant-move_in": (TODAY - timedelta(days=1)).isoformat()})
    assert response.status_code == 303
    assert summary(household.id) == recount(household.id) == (3, 4, None)

    late = db.session.scalars(select(Tenancy).where(Tenancy.registration_delay_days == 4)).one()
    assert auth.post(f"/rentals/tenancies/{late.id}/move-out", data={"move_out": TODAY.isoformat()}).status_code == 303
    assert summary(household.id) == recount(household.id) == (2, 2, None)

    due = TODAY + timedelta(days=7)
    assert auth.post("/rentals/inspections", data=inspection_data(household)).status_code == 303
    assert summary(household.id) == recount(household.id) == (2, 2, due)
    hazard = db.session.scalars(select(Hazard)).one()
    assert auth.post(f"/rentals/hazards/{hazard.id}/resolve", data={"note": "已整改"}).status_code == 303
    assert summary(household.id) == recount(household.id) == (2, 2, None)

    other = factories.make_household(station.station, station.grid_a)
    moved = db.session.scalars(select(Tenancy).where(Tenancy.move_out.is_(None)).order_by(Tenancy.id)).first()
    moved.household_id = other.id
    db.session.commit()
    assert summary(household.id) == recount(household.id) == (1, 1, None)  # 李四: a day late
    assert summary(other.id) == recount(other.id) == (1, 2, None)  # 单伟
    moved.household = household  # back, through the relationship, on an object expired by the commit
    db.session.commit()
    assert summary(household.id) == recount(household.id) == (2, 2, None)
    assert summary(other.id) == recount(other.id) == (0, None, None)
    db.session.delete(moved)
    db.session.delete(hazard)
    db.session.commit()
    assert summary(household.id) == recount(household.id) == (1, 1, None)


def test_session_copy_of_a_household_sees_its_new_summary(app, station):
    """A household loaded in the session re-reads its summary after a tenancy is flushed."""
    household = factories.make_household(station.station, station.grid_a)
    tenant = factories.make_resident(station.station)
    assert household.open_tenants == 0
    db.session.add(Tenancy(station_id=station.station.id, household_id=household.id, resident_id=tenant.id,
                           move_in=TODAY, registered_on=TODAY, registration_delay_days=5))
    db.session.flush()
    assert (household.open_tenants, household.open_registration_delay) == (1, 5)
    db.session.rollback()


def test_synced_registration_and_inspection_keep_the_summary(auth, client, station):
    auth.login("demo-officer")
    data = rental_data(station)
    headers = {"X-Requested-With": "pingan-sync"}
    item = {"client_id": data.pop("client_id"), "kind": "rental", "recorded_at": data.pop("recorded_at"), "data": data}
    result = client.post("/api/sync", json={"device_id": "phone", "items": [item]}, headers=headers).get_json()
    household_id = result["results"][0]["id"]
    assert summary(household_id) == recount(household_id) == (2, 4, None)
    household = db.session.get(RentalHousehold, household_id)
    inspection = inspection_data(household)
    item = {"client_id": inspection.pop("client_id"), "kind": "inspection",
            "recorded_at": inspection.pop("recorded_at"), "data": inspection}
    result = client.post("/api/sync", json={"device_id": "phone", "items": [item]}, headers=headers).get_json()
    assert result["results"][0]["status"] == "created"
    assert summary(household_id) == recount(household_id) == (2, 4, TODAY + timedelta(days=7))


def test_seeded_households_have_their_summary(app):
    """The demo seeder's Core inserts are followed by a recount of every household."""
    import demo

    demo.seed("small", 5)
    ids = db.session.scalars(select(RentalHousehold.id)).all()
    assert ids and all(summary(hid) == recount(hid) for hid in ids)
    assert any(summary(hid)[0] for hid in ids) and any(summary(hid)[2] for hid in ids)


def _flags_by_exists(today, rules):
    """The rules as they were written before the summary columns (EXISTS over tenancies and
    hazards per household): the oracle for the flags."""
    from sqlalchemy import and_, exists, or_

    from blueprints.rentals.ledger import H
    from models.rentals import GROUP_RENTAL

    last = func.coalesce(H.last_inspected_on, H.registered_on)
    inspection_overdue = or_(
        and_(H.use == GROUP_RENTAL, last < today - timedelta(days=rules.group_inspection_days)),
        and_(H.use != GROUP_RENTAL, last < today - timedelta(days=rules.inspection_days)))
    open_tenancy = exists().where(Tenancy.household_id == H.id, Tenancy.move_out.is_(None))
    return {"inspection_overdue": inspection_overdue,
            "lease_ended": and_(H.lease_end.is_not(None), H.lease_end < today, open_tenancy),
            "late_registration": exists().where(Tenancy.household_id == H.id, Tenancy.move_out.is_(None),
                                                Tenancy.registration_delay_days > rules.registration_days),
            "hazard_overdue": exists().where(Hazard.household_id == H.id, Hazard.resolved_on.is_(None),
                                             Hazard.due_on < today)}


def test_flags_and_reports_match_the_rules_over_tenancies_and_hazards(app, station):
    """The list's flags, a household's flags and the compliance report's counts are what the rules
    give when evaluated over the tenancies and hazards themselves."""
    from sqlalchemy import case

    from blueprints.rentals import ledger

    landlord = factories.make_resident(station.station, name="房东")
    tenant = factories.make_resident(station.station, name="租客")
    households = []
    for n in range(12):
        grid = station.grid_a if n % 2 else station.grid_b
        household = factories.make_household(
            station.station, grid, landlord=landlord if n % 3 else None,
            officer=station.officer if n % 2 else station.officer_b, use="group" if n % 4 == 0 else "residential",
            registered_on=TODAY - timedelta(days=20 * n), lease_end=TODAY - timedelta(days=3 - n))
        households.append(household)
        for k in range(n % 3):  # open, moved out, late or not
            db.session.add(Tenancy(station_id=station.station.id, household_id=household.id, resident_id=tenant.id,
                                   move_in=TODAY - timedelta(days=30), registered_on=TODAY,
                                   move_out=TODAY - timedelta(days=1) if (n + k) % 4 == 0 else None,
                                   registration_delay_days=(n * 2 + k) % 7))
        if n % 2 == 0:
            inspection = Inspection(station_id=station.station.id, household_id=household.id, inspected_on=TODAY)
            db.session.add(inspection)
            db.session.flush()
            db.session.add(Hazard(station_id=station.station.id, household_id=household.id,
                                  inspection_id=inspection.id, description="灭火器过期",
                                  due_on=TODAY + timedelta(days=n - 5),
                                  resolved_on=TODAY if n % 6 == 0 else None))
    db.session.commit()
    rules = ledger.Rules.from_config()
    oracle = _flags_by_exists(TODAY, rules)
    names = ledger.FLAG_NAMES
    expected = {row[0]: [name for name, on in zip(names, row[1:]) if on] for row in db.session.execute(
        select(ledger.H.id, *(case((oracle[name], 1), else_=0) for name in names)))}
    assert any(expected.values()) and not all(expected.values())
    lines, total = ledger.list_households(station.command, today=TODAY)
    assert total == 12 and {line.id: line.flags for line in lines} == expected
    assert all(ledger.household_flags(h, TODAY) == expected[h.id] for h in households)
    overdue, total = ledger.list_households(station.command, today=TODAY, overdue_only=True)
    assert {line.id for line in overdue} == {hid for hid, flags in expected.items() if flags} and total == len(overdue)
    by_grid = {row["id"]: row for row in ledger.grid_report(station.command, TODAY)}
    for grid in (station.grid_a, station.grid_b):
        ids = {h.id for h in households if h.grid_id == grid.id}
        for name in names:
            assert by_grid[grid.id][name] == sum(name in expected[i] for i in ids), (grid.name, name)
