"""Who to visit (focus residents, distance order, a time to try), coverage and its audited export, query counts."""
import io
import math
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from blueprints.home.services import LOCAL_TZ
from blueprints.visits.timing import period_of, suggest_period
from extensions import db
from models import AuditEvent, FollowUp, Task, Tenancy, Visit
from models.visits import ResidentVisitState, VisitDayTotal, rebuild_summaries
from tests import factories
from tests.conftest import queries
from tests.test_visits import HX, SYNC, make_visit, text, visit_data

HERE = (35.7986, 112.9237)


def north_of(metres: float) -> tuple[float, float]:
    return HERE[0] + metres / 111_320, HERE[1]


def focus_resident(station, grid, name, metres=100.0, tags=" elderly_alone ", **overrides):
    lat, lon = north_of(metres)
    address = factories.make_address(station, grid, lat=lat, lon=lon)
    resident = factories.make_resident(station, address, name=name, **overrides)
    resident.tags = tags  # the factory files everyone untagged
    db.session.commit()
    return resident


@pytest.fixture
def officer(auth, client, station):
    auth.login("demo-officer")
    client.set_cookie("lang", "en")
    return station.officer


def plan_ids(client, query="") -> list[str]:
    return re.findall(r'id="plan-resident-(\d+)"', text(client.get(f"/visits/plan{query}", headers=HX)))


# --- who to visit --------------------------------------------------------------------------------------

def test_focus_residents_not_visited_lately_are_listed(officer, client, station):
    """Tags, overdue rentals and tasks make a focus resident; a visit in the last 30 days takes them off."""
    s, a, b = station.station, station.grid_a, station.grid_b
    alone = focus_resident(s, a, "独居甲")
    wander = focus_resident(s, a, "走失乙", tags=" wander_risk ")
    plain = focus_resident(s, a, "普通丙", tags=" ")
    other_grid = focus_resident(s, b, "城西丁")
    visited = focus_resident(s, a, "刚走访戊")
    make_visit(officer, visited, datetime.now(timezone.utc) - timedelta(days=5))
    long_ago = focus_resident(s, a, "很久己")
    make_visit(officer, long_ago, datetime.now(timezone.utc) - timedelta(days=40))
    tenant = focus_resident(s, a, "租客庚", tags=" ")
    household = factories.make_household(s, a, registered_on=date.today() - timedelta(days=200))
    db.session.add(Tenancy(station_id=s.id, household_id=household.id, resident_id=tenant.id,
                           move_in=date.today() - timedelta(days=200), registered_on=date.today() - timedelta(days=200)))
    tasked = focus_resident(s, a, "任务辛", tags=" ")
    factories.make_task(s, station.command, assignee=officer, source=f"resident:{tasked.id}")
    db.session.commit()

    ids = plan_ids(client)
    expected = {alone, wander, long_ago, tenant, tasked}
    assert set(ids) == {str(r.id) for r in expected}
    assert not {str(r.id) for r in (plain, other_grid, visited)} & set(ids)
    page = text(client.get("/visits/plan"))
    assert "Tenant of a rental overdue for inspection" in page and "Named in a task" in page
    assert page.index("独居甲") < page.index("很久己"), "never visited comes before visited 40 days ago"


def test_focus_days_come_from_the_config(app, officer, client, station):
    resident = focus_resident(station.station, station.grid_a, "配置甲")
    make_visit(officer, resident, datetime.now(timezone.utc) - timedelta(days=10))
    assert plan_ids(client) == []
    app.config["VISIT_FOCUS_DAYS"] = 7
    try:
        assert plan_ids(client) == [str(resident.id)]
    finally:
        app.config.pop("VISIT_FOCUS_DAYS")


def test_nearest_first_from_where_i_stand(officer, client, station):
    """Sorted by distance from ?lat=&lon=; beyond the radius (3 km) left out; no position: all of them."""
    s, a = station.station, station.grid_a
    far = focus_resident(s, a, "远", metres=2500)
    near = focus_resident(s, a, "近", metres=80)
    middle = focus_resident(s, a, "中", metres=900)
    south = focus_resident(s, a, "南", metres=-400)
    beyond = focus_resident(s, a, "太远", metres=8000)
    ids = plan_ids(client, f"?lat={HERE[0]}&lon={HERE[1]}")
    assert ids == [str(r.id) for r in (near, south, middle, far)]
    page = text(client.get(f"/visits/plan?lat={HERE[0]}&lon={HERE[1]}", headers=HX))
    assert "80 m" in page and "nearest first" in page
    assert str(beyond.id) in plan_ids(client)
    assert len(plan_ids(client, "?lat=abc&lon=1")) == 5, "a bad position is ignored, not an error"


def test_no_one_home_keeps_the_resident_on_the_plan_with_a_time_to_try(officer, auth, client, station):
    """Two unanswered morning visits: the plan suggests another part of the day."""
    resident = focus_resident(station.station, station.grid_a, "白天不在")
    for days, hour in ((3, 9), (1, 10)):
        local = datetime.combine(date.today() - timedelta(days=days), datetime.min.time(), tzinfo=LOCAL_TZ)
        make_visit(officer, resident, (local + timedelta(hours=hour)).astimezone(timezone.utc), outcome="no_one_home")
    page = text(client.get("/visits/plan"))
    assert f'id="suggestion-{resident.id}"' in page
    assert "No one home 2 times (at 9, 10 h): try in the afternoon (12–17)." in page


def test_plan_rows_render_links_texts_and_escape_names(officer, client, station):
    """Each row (written in Python, not the template): links to the resident and to record a visit,
    the distance, the last visit in station time or "never visited", the reasons, names escaped."""
    s, a = station.station, station.grid_a
    odd = focus_resident(s, a, "<b>甲&乙</b>", metres=120, tags=" elderly_alone wander_risk ")
    seen = focus_resident(s, a, "走访过", metres=300)
    moment = datetime(2026, 1, 2, 1, 5, tzinfo=timezone.utc)  # 09:05 in Asia/Shanghai
    make_visit(officer, seen, moment, outcome="met")
    page = text(client.get(f"/visits/plan?lat={HERE[0]}&lon={HERE[1]}", headers=HX))
    assert "<b>甲" not in page and "&lt;b&gt;甲&amp;乙&lt;/b&gt;" in page
    assert f'<a href="/residents/{odd.id}"><strong>' in page
    assert f'href="/visits/new?subject_type=resident&amp;subject_id={odd.id}">Record a visit</a>' in page
    assert '<span class="distance">120 m</span>' in page and '<span class="distance">300 m</span>' in page
    assert "never visited" in page and "last visited 2026-01-02 09:05" in page
    assert ('<span class="tag flag">Elderly living alone</span> <span class="tag flag">Risk of wandering off</span> '
            in page)
    empty = text(client.get("/visits/plan?lat=0.5&lon=0.5", headers=HX))
    assert "No one to visit right now." in empty and "plan-resident-" not in empty


def test_timing_rules():
    assert period_of(9) == "morning" and period_of(13) == "afternoon" and period_of(19) == "evening"
    assert period_of(23) is None
    assert suggest_period([]) is None
    assert suggest_period([9, 10]) == "afternoon"
    assert suggest_period([9, 13]) == "evening"
    assert suggest_period([9, 13, 18, 19]) == "morning"
    assert suggest_period([9, 14], met_hours=[19, 20]) == "evening", "met in the evening before: try that"


def test_who_to_visit_query_count_does_not_grow(officer, client, station):
    """Three statements for the plan whether 3 or 30 residents are due (plus login/session reads)."""
    def run(query):
        with queries() as statements:
            assert client.get(f"/visits/plan{query}", headers=HX).status_code == 200
        return len(statements)

    for i in range(3):
        resident = focus_resident(station.station, station.grid_a, f"甲{i}", metres=100 * i)
        make_visit(officer, resident, datetime.now(timezone.utc) - timedelta(days=60), outcome="no_one_home")
    small = (run(""), run(f"?lat={HERE[0]}&lon={HERE[1]}"))
    for i in range(27):
        resident = focus_resident(station.station, station.grid_a, f"乙{i}", metres=50 * i)
        make_visit(officer, resident, datetime.now(timezone.utc) - timedelta(days=60), outcome="no_one_home")
    assert len(plan_ids(client)) == 30
    assert (run(""), run(f"?lat={HERE[0]}&lon={HERE[1]}")) == small


# --- coverage --------------------------------------------------------------------------------------------

@pytest.fixture
def covered(station):
    """Grid A: 2 households (1 visited 10 days ago), 2 focus residents (1 met 50 days ago, 1 not home)."""
    s, a, officer = station.station, station.grid_a, station.officer
    h1, _h2 = factories.make_household(s, a), factories.make_household(s, a)
    make_visit(officer, focus_resident(s, a, "覆盖甲"), datetime.now(timezone.utc) - timedelta(days=50))
    make_visit(officer, focus_resident(s, a, "覆盖乙"), outcome="no_one_home")
    visit = make_visit(officer, focus_resident(s, a, "普通", tags=" "), subject_type="household",
                       resident_id=None, household_id=h1.id,
                       recorded_at=datetime.now(timezone.utc) - timedelta(days=10))
    db.session.add(FollowUp(station_id=s.id, officer_id=officer.id, grid_id=a.id, visit_id=visit.id,
                            subject_type="household", household_id=h1.id, due_on=date.today() - timedelta(days=3)))
    db.session.commit()
    return station


def test_coverage_per_grid_and_officer(auth, client, covered):
    auth.login("demo-command")
    client.set_cookie("lang", "en")
    page = text(client.get("/visits/coverage"))
    row = page[page.index(f'id="coverage-grid-{covered.grid_a.id}"'):]
    row = row[:row.index("</tr>")]
    # households 2: 50 % in 30 and 90 days; focus 2: 0 % in 30, 50 % in 90 (no one home does not count).
    assert re.findall(r"<td>(.*?)</td>", row)[1:8] == [
        "2", "50%", "50%", "2", "0%", "50%", "2"]
    assert 'class="tag overdue">1<' in row
    officer_row = page[page.index(f'id="coverage-officer-{covered.officer.id}"'):]
    assert officer_row.startswith(f'id="coverage-officer-{covered.officer.id}"><td>张伟</td><td>2</td><td>3</td><td>1</td>')
    total = page[page.index('id="coverage-grid-total"'):]
    assert total.startswith('id="coverage-grid-total">\n    <td><strong>Total</strong></td>')


def test_coverage_rows_escape_names(auth, client, covered):
    """The tables' rows are written in Python: grid and officer names are escaped there."""
    covered.grid_a.name = "<i>A&B</i>"
    covered.officer.name = "<b>张</b>"
    db.session.commit()
    auth.login("demo-command")
    page = text(client.get("/visits/coverage"))
    assert "&lt;i&gt;A&amp;B&lt;/i&gt;" in page and "<i>A" not in page
    assert "&lt;b&gt;张&lt;/b&gt;" in page and "<b>张" not in page


@pytest.mark.parametrize("username, status", [("demo-officer", 403), ("demo-case", 403), ("demo-leader", 200)])
def test_coverage_roles(auth, client, station, username, status):
    auth.login(username)
    assert client.get("/visits/coverage").status_code == status


def test_coverage_export_is_excel_and_audited(auth, client, covered):
    auth.login("demo-command")
    response = auth.post("/visits/coverage/export")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    names = [row[0] for row in book.worksheets[0].iter_rows(min_row=3, values_only=True)]
    assert covered.grid_a.name in names
    event_ = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert event_.user_id == covered.command.id and event_.detail["report"] == "visit_coverage"
    assert client.post("/visits/coverage/export").status_code == 400, "no CSRF token, no export"


def test_coverage_query_count_does_not_grow(auth, client, covered):
    auth.login("demo-command")

    def run():
        with queries() as statements:
            assert client.get("/visits/coverage").status_code == 200
        return len(statements)

    before = run()
    s = covered.station
    for i in range(20):
        grid = covered.grid_a if i % 2 else covered.grid_b
        make_visit(covered.officer, focus_resident(s, grid, f"多{i}"), outcome="met")
        factories.make_household(s, grid)
    assert run() == before


def test_distance_helper_is_sane():
    """The test's own geometry: 0.001 deg of latitude is ~111 m."""
    assert math.isclose(north_of(111.32)[0] - HERE[0], 0.001, rel_tol=1e-6)


# --- the command room's screen and analysis ---------------------------------------------------------------

def test_command_room_shows_todays_visits_and_overdue_follow_ups(auth, client, covered):
    """The visits Source: today's count, the feed line, the map marker and the grid column."""
    auth.login("demo-command")
    client.set_cookie("lang", "en")
    resident = focus_resident(covered.station, covered.grid_a, "今日走访")
    visit = make_visit(covered.officer, resident, lat=HERE[0], lon=HERE[1])
    page = text(client.get("/command/"))
    assert f'/visits/{visit.id}' in page and "今日走访" in page and "Follow-ups overdue" in page
    analysis = client.get("/command/analysis")
    assert analysis.status_code == 200 and "Someone at home" in text(analysis)


def test_command_screen_visits_queries_do_not_grow(auth, client, covered):
    auth.login("demo-command")

    def run():
        with queries() as statements:
            assert client.get("/command/").status_code == 200
        return len(statements)

    before = run()
    for i in range(10):
        make_visit(covered.officer, focus_resident(covered.station, covered.grid_a, f"屏{i}"), lat=HERE[0],
                   lon=HERE[1])
    assert run() == before


def test_focus_flag_follows_the_tags_on_every_write(station):
    """Resident.is_focus (indexed, used by the plan and coverage) mirrors the tags whoever writes them."""
    from models import Resident

    s, a = station.station, station.grid_a
    person = focus_resident(s, a, "标记甲", tags=" disability ")
    db.session.commit()
    assert person.is_focus is False
    person.tags = " disability wander_risk "
    db.session.commit()
    assert db.session.scalar(select(Resident.is_focus).where(Resident.id == person.id)) is True
    person.tags = " "
    db.session.commit()
    assert db.session.scalar(select(Resident.is_focus).where(Resident.id == person.id)) is False
    assert focus_resident(s, a, "标记乙").is_focus is True  # elderly_alone by default


# --- summaries kept on write (resident_visit_states, visit_day_totals) ------------------------------------

def recount(station_id):
    """The summaries recounted from the visits: (last visit per resident, day totals)."""
    from models.visits import LOCAL_TZ as TZ
    states, days = {}, {}
    for visit in db.session.scalars(select(Visit).where(Visit.station_id == station_id)):
        if visit.resident_id and visit.outcome in ("met", "refused"):
            states[visit.resident_id] = max(states.get(visit.resident_id, visit.recorded_at), visit.recorded_at)
        key = (visit.recorded_at.astimezone(TZ).date(), visit.grid_id or 0, visit.officer_id)
        counts = days.setdefault(key, [0, 0])
        counts[0] += 1
        counts[1] += visit.outcome == "no_one_home"
    return states, {key: tuple(value) for key, value in days.items()}


def stored(station_id):
    db.session.expire_all()
    states = {s.resident_id: s.last_visited_at for s in db.session.scalars(
        select(ResidentVisitState).where(ResidentVisitState.station_id == station_id))}
    days = {(t.local_day, t.grid_id, t.officer_id): (t.visits, t.no_one_home) for t in db.session.scalars(
        select(VisitDayTotal).where(VisitDayTotal.station_id == station_id))}
    return states, days


def assert_summaries_match(station_id):
    assert stored(station_id) == recount(station_id)


def test_online_visits_keep_the_last_visit_and_day_totals(officer, auth, station):
    """A POSTed visit moves the resident's last visit (met/refused only, never backwards) and counts in its day."""
    resident = focus_resident(station.station, station.grid_a, "记录甲")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    for when, outcome in ((now - timedelta(days=2), "met"), (now - timedelta(days=5), "refused"),
                          (now - timedelta(hours=1), "no_one_home")):
        data = visit_data(resident, recorded_at=when.isoformat(), outcome=outcome)
        assert auth.post("/visits/", data).status_code == 303
    states, days = stored(station.station.id)
    assert states == {resident.id: now - timedelta(days=2)}, "an older visit or no one home does not move it"
    assert sum(v for v, _n in days.values()) == 3 and sum(n for _v, n in days.values()) == 1
    assert_summaries_match(station.station.id)


def test_synced_and_duplicate_visits_are_counted_once(officer, client, station):
    resident = focus_resident(station.station, station.grid_a, "同步乙")
    data = visit_data(resident)
    item = {"client_id": data.pop("client_id"), "kind": "visit", "recorded_at": data.pop("recorded_at"),
            "data": data | {"subject_id": resident.id, "lat": HERE[0], "lon": HERE[1], "accuracy": 9}}
    body = {"device_id": "phone", "items": [item]}
    for _ in range(2):
        assert client.post("/api/sync", json=body, headers=SYNC).status_code == 200
    states, days = stored(station.station.id)
    assert list(states) == [resident.id] and sum(v for v, _n in days.values()) == 1
    assert_summaries_match(station.station.id)


def test_rejected_visit_leaves_the_summaries_alone(officer, auth, station):
    resident = focus_resident(station.station, station.grid_a, "拒收丙")
    future = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    assert auth.post("/visits/", visit_data(resident, recorded_at=future)).status_code == 422
    assert stored(station.station.id) == ({}, {})


def test_edited_and_deleted_visits_move_the_summaries(officer, station):
    """No screen edits or deletes a visit today; the ORM events still keep the summaries right if one does."""
    resident = focus_resident(station.station, station.grid_a, "改删丁")
    now = datetime.now(timezone.utc)
    older = make_visit(officer, resident, now - timedelta(days=40))
    newer = make_visit(officer, resident, now - timedelta(days=3))
    newer.outcome = "no_one_home"
    db.session.commit()
    assert stored(station.station.id)[0] == {resident.id: older.recorded_at}, "no one home is not a visit"
    assert_summaries_match(station.station.id)
    older.recorded_at = now - timedelta(days=10)
    db.session.commit()
    assert_summaries_match(station.station.id)
    db.session.delete(older)
    db.session.commit()
    assert stored(station.station.id)[0] == {}
    assert_summaries_match(station.station.id)
    db.session.delete(newer)
    db.session.commit()
    assert stored(station.station.id) == ({}, {})


def test_demo_seed_and_rebuild_match_a_recount(app):
    """The seeder's bulk inserts skip the events: it rebuilds the summaries, which equal a recount."""
    from demo import seed
    context = seed("small")
    station_id = context.station.id
    assert stored(station_id)[1], "the seed has visits"
    assert_summaries_match(station_id)
    rebuild_summaries(db.session.connection(), station_id)
    assert_summaries_match(station_id)


def brute_force_plan(user, position):
    """Who to visit recomputed from scratch in Python: every resident, every visit, every tenancy."""
    from blueprints.rentals import ledger
    from domain.geo import distance_m
    from models.tasks import OPEN_STATUSES
    from models import Address, Resident, RentalHousehold
    since = datetime.now(timezone.utc) - timedelta(days=30)
    today_ = datetime.now(LOCAL_TZ).date()
    overdue = set(db.session.scalars(select(RentalHousehold.id).where(
        RentalHousehold.station_id == user.station_id,
        ledger._flags(today_, ledger.Rules.from_config())["inspection_overdue"])))
    tenants = {t.resident_id for t in db.session.scalars(select(Tenancy)) if t.move_out is None
               and t.household_id in overdue}
    tasked = {int(t.source.split(":")[1]) for t in db.session.scalars(select(Task))
              if t.source and t.source.startswith("resident:") and t.status in OPEN_STATUSES}
    visits = list(db.session.scalars(select(Visit)))
    rows = []
    for resident in db.session.scalars(select(Resident).where(Resident.station_id == user.station_id)):
        address = db.session.get(Address, resident.address_id)
        reasons = [r for r in ("elderly_alone", "wander_risk") if f" {r} " in resident.tags]
        reasons += ["rental_overdue"] if resident.id in tenants else []
        reasons += ["task"] if resident.id in tasked else []
        if not reasons or address.grid_id not in user.grid_ids:
            continue
        answered = [v.recorded_at for v in visits if v.resident_id == resident.id and v.outcome in ("met", "refused")]
        if answered and max(answered) >= since:
            continue
        metres = distance_m(*position, address.lat, address.lon) if position else None
        if metres is not None and metres > 3000:
            continue
        rows.append((metres, resident.id, reasons, max(answered) if answered else None))
    if position:
        rows.sort(key=lambda r: (r[0], r[1]))
    else:
        rows.sort(key=lambda r: (r[3] is not None, r[3] or datetime.min.replace(tzinfo=timezone.utc), r[1]))
    return [(r[1], r[2], r[3], None if r[0] is None else round(r[0], 6)) for r in rows[:50]]


def test_coverage_focus_counts_equal_a_recount(officer, station):
    """Focus residents per grid (read from visit_candidates' focus rows) and those visited in 30/90
    days are what a plain count over residents, addresses and visits gives, after tags change and
    addresses move."""
    import random

    from blueprints.visits import coverage
    from models import Address, Resident
    rng = random.Random(16)
    s, now = station.station, datetime.now(timezone.utc)
    people = []
    for i in range(40):
        tags = rng.choice([" elderly_alone ", " wander_risk ", " ", " disability "])
        people.append(focus_resident(s, rng.choice([station.grid_a, station.grid_b]), f"覆盖{i}", tags=tags))
        for _ in range(rng.randrange(3)):
            make_visit(officer, people[-1], now - timedelta(days=rng.uniform(0, 120)),
                       outcome=rng.choice(["met", "refused", "no_one_home"]))
    for person in people[:10]:
        person.tags = rng.choice([" elderly_alone ", " "])
    for person in people[10:15]:
        db.session.get(Address, person.address_id).grid_id = station.grid_b.id
    db.session.commit()

    expected = {}
    for resident in db.session.scalars(select(Resident).where(Resident.station_id == s.id, Resident.is_focus)):
        grid_id = db.session.get(Address, resident.address_id).grid_id
        answered = [v.recorded_at for v in db.session.scalars(select(Visit).where(Visit.resident_id == resident.id))
                    if v.outcome in ("met", "refused")]
        last = max(answered) if answered else None
        counts = expected.setdefault(grid_id, [0, 0, 0])
        counts[0] += 1
        counts[1] += bool(last and last >= now - timedelta(days=30))
        counts[2] += bool(last and last >= now - timedelta(days=90))
    report = coverage.coverage(s.id, date.today())
    got = {row.grid.id: [row.focus, row.focus_30, row.focus_90] for row in report.grids if row.focus}
    assert got and got == expected


@pytest.mark.parametrize("position", [HERE, None])
def test_plan_equals_a_brute_force_recomputation(officer, station, position):
    """Sixty residents of every kind at random places and random visits: the plan is what a plain
    Python recount over every row gives, in the same order."""
    import random

    from blueprints.visits import plan
    rng = random.Random(6)
    s, now = station.station, datetime.now(timezone.utc)
    for i in range(60):
        tags = rng.choice([" elderly_alone ", " wander_risk ", " ", " elderly_alone wander_risk "])
        grid = rng.choice([station.grid_a, station.grid_a, station.grid_b])
        resident = focus_resident(s, grid, f"随机{i}", metres=rng.uniform(-3500, 3500), tags=tags)
        if i % 7 == 0:
            household = factories.make_household(s, grid, registered_on=date.today() - timedelta(days=rng.choice((10, 200))))
            db.session.add(Tenancy(station_id=s.id, household_id=household.id, resident_id=resident.id,
                                   move_in=date.today() - timedelta(days=200),
                                   registered_on=date.today() - timedelta(days=200)))
        if i % 11 == 0:
            factories.make_task(s, station.command, assignee=officer, source=f"resident:{resident.id}")
        for _ in range(rng.randrange(3)):
            make_visit(officer, resident, now - timedelta(days=rng.uniform(0, 120)),
                       outcome=rng.choice(["met", "refused", "no_one_home"]))
    db.session.commit()
    got = [(r.resident.id, r.reasons, r.last_visit, None if r.distance_m is None else round(r.distance_m, 6))
           for r in plan.who_to_visit(officer, position)]
    assert got and got == brute_force_plan(officer, position)
