"""`flask summaries rebuild`: recounts every table kept on write, and --check finds a stale one."""
from sqlalchemy import delete, func, select, update

import demo
import summaries
from extensions import db
from models import Resident, Station
from models.patrols import PatrolDayTotal
from models.people import ResidentSearchKey
from models.rentals import RentalHousehold
from models.visits import ResidentVisitState, VisitCandidate
from tests.conftest import AuthActions


def _snapshots(station_id: int) -> dict:
    connection = db.session.connection()
    return {name: summaries.snapshot(connection, name, station_id) for name, _ in summaries.REBUILDERS}


def _damage() -> None:
    """What hand-written SQL does: rows lost, a count wrong, keys gone."""
    first_day = db.session.scalar(select(func.min(PatrolDayTotal.local_day)))
    db.session.execute(delete(PatrolDayTotal).where(PatrolDayTotal.local_day == first_day))
    first_household = db.session.scalar(select(func.min(RentalHousehold.id)))
    db.session.execute(update(RentalHousehold).where(RentalHousehold.id == first_household)
                       .values(open_tenants=RentalHousehold.open_tenants + 7))
    db.session.execute(delete(ResidentVisitState))
    db.session.execute(delete(VisitCandidate))
    db.session.execute(delete(ResidentSearchKey))
    db.session.commit()


def test_rebuild_repairs_every_table_and_check_reports_without_saving(app, runner):
    demo.seed("small", 2)
    station_id = db.session.scalar(select(Station.id))
    healthy = _snapshots(station_id)
    assert all(rows for tables in healthy.values() for rows in tables), "the demo fills every kept table"

    fresh = runner.invoke(args=["summaries", "rebuild", "--check"])
    assert fresh.exit_code == 0, fresh.output
    assert fresh.output.count("up to date") == len(summaries.REBUILDERS)  # the seed left them right

    _damage()
    damaged = _snapshots(station_id)
    checked = runner.invoke(args=["summaries", "rebuild", "--check"])
    assert checked.exit_code == 1 and "out of date (nothing saved)" in checked.output
    for name, _ in summaries.REBUILDERS:
        assert f"{name} recounted" in checked.output
    db.session.expire_all()
    assert _snapshots(station_id) == damaged  # --check saved nothing

    repaired = runner.invoke(args=["summaries", "rebuild", "--station", str(station_id)])
    assert repaired.exit_code == 0, repaired.output
    db.session.expire_all()
    assert _snapshots(station_id) == healthy
    assert runner.invoke(args=["summaries", "rebuild", "--check"]).exit_code == 0


def test_search_finds_a_resident_again_after_the_rebuild(app, runner):
    """The user-visible side: the keys gone, the search finds no one; rebuilt, it finds them again."""
    demo.seed("small", 2)
    resident = db.session.scalars(select(Resident).order_by(Resident.id)).first()
    auth = AuthActions(app.test_client())
    auth.login("demo-command", demo.DEMO_PASSWORD)

    def found() -> bool:
        page = auth.client.get("/residents/", query_string={"q": resident.name}, headers={"HX-Request": "true"})
        return f"/residents/{resident.id}" in page.get_data(as_text=True)

    assert found()
    db.session.execute(delete(ResidentSearchKey))
    db.session.commit()
    assert not found()
    assert runner.invoke(args=["summaries", "rebuild"]).exit_code == 0
    assert found()
