"""household_visit_states: each rental household's last visit (met or refused), kept on write for the coverage."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import case, delete, exists, func, select

from extensions import db
from models import RentalHousehold, User, Visit
from models.users import COMMUNITY
from models.visits import LOCAL_TZ, VISITED_OUTCOMES, HouseholdVisitState, rebuild_summaries
from tests import factories
from tests.test_visits import POSITION, SYNC, visit_data
from tests.test_visits_plan import focus_resident


@pytest.fixture
def officer(auth, client, station):
    auth.login("demo-officer")
    client.set_cookie("lang", "en")
    return station.officer


def stored(station_id=None) -> dict:
    """The kept rows: {household: (station, last visit)}."""
    db.session.expire_all()
    query = select(HouseholdVisitState)
    if station_id is not None:
        query = query.where(HouseholdVisitState.station_id == station_id)
    return {s.household_id: (s.station_id, s.last_visited_at) for s in db.session.scalars(query)}


def recount(station_id=None) -> dict:
    """The same from the visits: every visit to a household that someone answered, the household's station."""
    states = {}
    query = select(Visit, RentalHousehold.station_id).join(RentalHousehold, RentalHousehold.id == Visit.household_id)
    if station_id is not None:
        query = query.where(RentalHousehold.station_id == station_id)
    for visit, household_station in db.session.execute(query):
        if visit.outcome in VISITED_OUTCOMES:
            last = states.get(visit.household_id, (household_station, visit.recorded_at))[1]
            states[visit.household_id] = (household_station, max(last, visit.recorded_at))
    return states


def assert_states_match(station_id=None):
    assert stored(station_id) == recount(station_id)


def household_visit(officer, household, when, outcome="met") -> Visit:
    """A stored visit to a household, as the service would store it."""
    visit = Visit(station_id=officer.station_id, officer_id=officer.id, grid_id=household.grid_id,
                  subject_type="household", household_id=household.id, purpose="routine", outcome=outcome,
                  via="online", recorded_at=when, received_at=when, local_hour=when.astimezone(LOCAL_TZ).hour)
    db.session.add(visit)
    db.session.commit()
    return visit


def test_online_visits_to_a_household_keep_its_last_visit(officer, auth, station):
    """A POSTed visit moves the household's last visit: met or refused only, never backwards."""
    household = factories.make_household(station.station, station.grid_a, officer=officer)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    for when, outcome in ((now - timedelta(days=2), "met"), (now - timedelta(days=5), "refused"),
                          (now - timedelta(hours=1), "no_one_home")):
        data = visit_data(subject_type="household", subject_id=str(household.id), recorded_at=when.isoformat(),
                          outcome=outcome)
        assert auth.post("/visits/", data).status_code == 303
        assert_states_match(station.station.id)
    assert stored() == {household.id: (station.station.id, now - timedelta(days=2))}
    data = visit_data(subject_type="household", subject_id=str(household.id), outcome="refused",
                      recorded_at=(now - timedelta(minutes=5)).isoformat())
    assert auth.post("/visits/", data).status_code == 303
    assert stored() == {household.id: (station.station.id, now - timedelta(minutes=5))}, "refused is visited"
    assert_states_match()


def test_a_visit_no_one_answered_leaves_no_state(officer, auth, station):
    household = factories.make_household(station.station, station.grid_a, officer=officer)
    data = visit_data(subject_type="household", subject_id=str(household.id), outcome="no_one_home")
    assert auth.post("/visits/", data).status_code == 303
    assert stored() == {}


def test_synced_and_duplicate_household_visits(officer, client, station):
    household = factories.make_household(station.station, station.grid_a, officer=officer)
    data = visit_data(subject_type="household", subject_id=str(household.id))
    item = {"client_id": data.pop("client_id"), "kind": "visit", "recorded_at": data.pop("recorded_at"),
            "data": data | {"subject_id": household.id, "lat": POSITION[0], "lon": POSITION[1], "accuracy": 9}}
    body = {"device_id": "phone", "items": [item]}
    statuses = [client.post("/api/sync", json=body, headers=SYNC).get_json()["results"][0]["status"]
                for _ in range(2)]
    assert statuses == ["created", "duplicate"]
    visit = db.session.scalars(select(Visit)).one()
    assert stored() == {household.id: (station.station.id, visit.recorded_at)}
    assert_states_match()


def test_edited_and_deleted_visits_move_the_households_last_visit(officer, station):
    """No screen edits or deletes a visit today; the ORM events keep the states right if one does."""
    s = station.station
    first, second = factories.make_household(s, station.grid_a), factories.make_household(s, station.grid_b)
    now = datetime.now(timezone.utc)
    older = household_visit(officer, first, now - timedelta(days=40))
    newer = household_visit(officer, first, now - timedelta(days=3))
    assert stored() == {first.id: (s.id, newer.recorded_at)}
    newer.outcome = "no_one_home"
    db.session.commit()
    assert stored() == {first.id: (s.id, older.recorded_at)}, "no one home is not a visit"
    newer.outcome = "refused"
    db.session.commit()
    assert stored() == {first.id: (s.id, newer.recorded_at)}
    older.recorded_at = now - timedelta(days=1)
    db.session.commit()
    assert stored() == {first.id: (s.id, older.recorded_at)}
    older.recorded_at = now - timedelta(days=60)
    db.session.commit()
    assert stored() == {first.id: (s.id, newer.recorded_at)}, "moved back: the other visit is the last"
    # The subject changes: to the other household, then to a resident.
    db.session.expire_all()  # the old values are loaded on change (active_history) even from expired rows
    newer.household_id = second.id
    db.session.commit()
    assert stored() == {first.id: (s.id, older.recorded_at), second.id: (s.id, newer.recorded_at)}
    resident = focus_resident(s, station.grid_a, "改为居民")
    older.subject_type, older.household_id, older.resident_id = "resident", None, resident.id
    db.session.commit()
    assert stored() == {second.id: (s.id, newer.recorded_at)}
    assert_states_match()
    db.session.delete(newer)
    db.session.commit()
    assert stored() == {}
    db.session.delete(older)
    db.session.commit()
    assert_states_match()


def test_demo_seed_and_rebuild_match_a_recount(app):
    """The seeder's bulk inserts skip the events: it rebuilds the states, which equal a recount."""
    from demo import seed
    station_id = seed("small").station.id
    states = stored(station_id)
    assert states and any(last for _s, last in states.values()), "the seed visits households"
    assert_states_match(station_id)
    rebuild_summaries(db.session.connection(), station_id)
    db.session.commit()
    assert stored(station_id) == states


def test_summaries_rebuild_check_finds_and_repairs_lost_states(app, runner):
    from demo import seed
    seed("small")
    healthy = stored()
    db.session.execute(delete(HouseholdVisitState))
    db.session.commit()
    checked = runner.invoke(args=["summaries", "rebuild", "--check"])
    assert checked.exit_code == 1 and "visit_states_and_day_totals recounted" in checked.output
    assert stored() == {}, "--check saves nothing"
    assert runner.invoke(args=["summaries", "rebuild"]).exit_code == 0
    assert stored() == healthy


def test_coverage_households_equal_the_visits_own_count(app):
    """On the seed, the coverage's households visited in 30/90 days per grid equal the count it made
    before (an EXISTS over each household's visits), after more visits are recorded, edited and deleted."""
    from blueprints.visits.coverage import coverage
    from blueprints.visits.services import today_local
    from demo import seed
    station_id = seed("small").station.id
    officer = db.session.scalars(select(User).where(User.station_id == station_id, User.role == COMMUNITY)
                                 .order_by(User.id)).first()
    households = db.session.scalars(select(RentalHousehold).where(RentalHousehold.station_id == station_id)
                                    .order_by(RentalHousehold.id).limit(6)).all()
    now = datetime.now(timezone.utc)
    made = [household_visit(officer, h, now - timedelta(days=days), outcome)
            for h, days, outcome in zip(households, (1, 20, 45, 80, 100, 5), ("met", "refused", "met", "met", "met",
                                                                                 "no_one_home"))]
    made[0].outcome = "no_one_home"
    db.session.delete(made[2])
    db.session.commit()

    def old_rule(since):
        H = RentalHousehold
        visited = exists().where(Visit.household_id == H.id, Visit.recorded_at >= since,
                                 Visit.outcome.in_(VISITED_OUTCOMES))
        return func.sum(case((visited, 1), else_=0))

    H = RentalHousehold
    expected = {grid_id: (total, int(v30 or 0), int(v90 or 0)) for grid_id, total, v30, v90 in db.session.execute(
        select(H.grid_id, func.count(H.id), old_rule(now - timedelta(days=30)), old_rule(now - timedelta(days=90)))
        .where(H.station_id == station_id).group_by(H.grid_id))}
    report = coverage(station_id, today_local())
    got = {row.grid.id: (row.households, row.households_30, row.households_90) for row in report.grids
           if row.grid.id in expected}
    assert got == expected and any(v30 for _t, v30, _v90 in got.values())
