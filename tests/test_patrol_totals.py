"""patrol_day_totals, kept on write: right after every way a check-in is written, and the report
read from them equals a recount from the check-ins themselves."""
import random
import threading
import uuid
from collections import defaultdict
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import delete, func, insert, select, text

from blueprints.home.services import LOCAL_TZ
from blueprints.patrol import reports
from extensions import db
from models import CheckIn, PatrolPoint, User
from models.patrols import PatrolDayTotal, day_totals_select, rebuild_day_totals
from tests import factories
from tests.conftest import AuthActions
from tests.test_patrol import HX, MARKET, check_in_data, make_check_in, make_point
from tests.test_sync_api import HEADERS

TODAY = datetime.now(LOCAL_TZ).date()
KEY = ("station_id", "officer_id", "point_id", "local_day")
COUNTS = ("done", "outside_window", "flagged", "check_ins")


def at(day, hour, minute=0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ).astimezone(timezone.utc)


def kept() -> dict:
    """The kept rows: key -> counts."""
    db.session.rollback()  # a fresh look at what is committed
    t = PatrolDayTotal.__table__
    return {tuple(row[:4]): tuple(row[4:]) for row in db.session.execute(
        select(*(t.c[name] for name in KEY), *(t.c[name] for name in COUNTS)))}


def recounted() -> dict:
    """The same rows counted from check_ins now."""
    db.session.rollback()
    return {tuple(row[:4]): tuple(row[4:]) for row in db.session.execute(day_totals_select())}


def assert_kept_equals_recount() -> dict:
    rows = kept()
    assert rows == recounted()
    return rows


def only_row() -> tuple:
    rows = assert_kept_equals_recount()
    assert len(rows) == 1, rows
    return next(iter(rows.values()))


def _sync(client, *items):
    response = client.post("/api/sync", json={"device_id": "phone", "items": list(items)}, headers=HEADERS)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["results"]


# --- every way in -----------------------------------------------------------------------------------

def test_online_check_ins_add_to_their_day(auth, station):
    """The online POST: at a point, manual (flagged) at it, free (point 0), and outside a window."""
    market = make_point(station.station, station.grid_a, name="菜市场", required_per_day=2)
    night = make_point(station.station, station.grid_a, name="夜市", lat=MARKET[0] + 0.01, window_start=time(20),
                       window_end=time(23))
    auth.login("demo-officer")
    assert auth.post("/patrol/check-ins", check_in_data(point_id=market.id), headers=HX).status_code == 200
    manual = check_in_data(point_id=market.id, lat=None, lon=None, accuracy=None)
    assert auth.post("/patrol/check-ins", manual, headers=HX).status_code == 200
    assert auth.post("/patrol/check-ins", check_in_data(), headers=HX).status_code == 200  # free
    now = datetime.now(LOCAL_TZ)
    late = at(TODAY, 10) if now.hour >= 11 else at(TODAY - timedelta(days=1), 10)
    assert auth.post("/patrol/check-ins", check_in_data(point_id=night.id, lat=str(MARKET[0] + 0.01),
                                                        recorded_at=late.isoformat()), headers=HX).status_code == 200
    rows = assert_kept_equals_recount()
    officer, station_id = station.officer.id, station.station.id
    assert rows[(station_id, officer, market.id, TODAY)] == (2, 0, 1, 2)
    assert rows[(station_id, officer, 0, TODAY)][::3] == (1, 1)
    done, outside, _flagged, n = rows[(station_id, officer, night.id, late.astimezone(LOCAL_TZ).date())]
    assert (done, outside, n) == (0, 1, 1)
    assert len(rows) == 3


def test_online_retry_with_the_same_client_id_counts_once(auth, station):
    point = make_point(station.station, station.grid_a)
    auth.login("demo-officer")
    data = check_in_data(point_id=point.id)
    assert auth.post("/patrol/check-ins", data, headers=HX).status_code == 200
    assert auth.post("/patrol/check-ins", data, headers=HX).status_code == 200
    assert only_row() == (1, 0, 0, 1)


def _fields(point, **overrides) -> dict:
    """A check-in's fields as the phone's form has them (the online POST and the queued item alike)."""
    return {"client_id": str(uuid.uuid4()), "recorded_at": "2026-11-03T21:15:00+08:00",
            "lat": str(MARKET[0] + 0.0001), "lon": str(MARKET[1]), "accuracy": "12.0",
            "point_id": str(point.id) if point else "", "qr_token": "", "note": "", **overrides}


def _item(point, **overrides) -> dict:
    fields = _fields(point, **overrides)
    data = {k: v for k, v in fields.items() if k not in ("client_id", "recorded_at")}
    return {"client_id": fields["client_id"], "kind": "checkin", "recorded_at": fields["recorded_at"], "data": data}


def test_synced_check_in_counts_once_however_often_it_comes(auth, client, station):
    """/api/sync, then the same item again (twice in one batch): one check-in in the totals."""
    point = make_point(station.station, station.grid_a)
    auth.login("demo-officer")
    item = _item(point)
    assert _sync(client, item)[0]["status"] == "created"
    assert [r["status"] for r in _sync(client, item, item)] == ["duplicate", "duplicate"]
    assert kept() == {(station.station.id, station.officer.id, point.id, datetime(2026, 11, 3).date()): (1, 0, 0, 1)}
    assert only_row() == (1, 0, 0, 1)


def test_online_then_synced_copy_counts_once(auth, client, station):
    """The online POST saved it but the phone never saw the answer and queued it: duplicate, counted once."""
    point = make_point(station.station, station.grid_a)
    auth.login("demo-officer")
    fields = _fields(point)
    assert auth.post("/patrol/check-ins", data=fields).status_code in (200, 303)
    item = {"client_id": fields["client_id"], "kind": "checkin", "recorded_at": fields["recorded_at"],
            "data": {k: v for k, v in fields.items() if k not in ("client_id", "recorded_at")}}
    assert _sync(client, item)[0]["status"] == "duplicate"
    assert only_row() == (1, 0, 1, 1)  # flagged: an online check-in with a days-old phone time


def test_a_batch_counts_each_created_item_and_nothing_for_the_rejected(auth, client, station):
    point = make_point(station.station, station.grid_a, required_per_day=3)
    other = factories.make_station()
    foreign = make_point(other, factories.make_grid(other))
    auth.login("demo-officer")
    items = [_item(point, recorded_at=f"2026-11-03T0{h}:00:00+08:00") for h in range(1, 4)]
    results = _sync(client, *items, _item(foreign), _item(None))
    assert [r["status"] for r in results] == ["created"] * 3 + ["rejected", "created"]
    rows = assert_kept_equals_recount()
    assert sorted(rows.values()) == [(1, 0, 0, 1), (3, 0, 0, 3)]


def test_a_rejected_conflict_adds_nothing(auth, client, station):
    """The same client_id with different data is refused: the first check-in's counts stay alone."""
    point = make_point(station.station, station.grid_a)
    auth.login("demo-officer")
    item = _item(point)
    _sync(client, item)
    changed = {**item, "data": {**item["data"], "note": "改过"}}
    assert _sync(client, changed)[0]["status"] == "rejected"
    assert only_row() == (1, 0, 0, 1)


def test_edit_and_delete_move_the_counts(station):
    """Writes through the ORM other than an insert keep the rows too (no such screen today)."""
    market = make_point(station.station, station.grid_a, required_per_day=2)
    west = make_point(station.station, station.grid_b, name="西街")
    yesterday = TODAY - timedelta(days=1)
    first = make_check_in(station.officer, market, at(yesterday, 9))
    second = make_check_in(station.officer, market, at(yesterday, 10))
    assert_kept_equals_recount()
    second.flags = "poor_accuracy"
    second.in_window = False
    db.session.commit()
    assert_kept_equals_recount()[(station.station.id, station.officer.id, market.id, yesterday)] == (1, 1, 1, 2)
    first.point_id, first.local_day = west.id, TODAY  # moved to another point and day
    db.session.commit()
    rows = assert_kept_equals_recount()
    assert rows[(station.station.id, station.officer.id, west.id, TODAY)] == (1, 0, 0, 1)
    first.point_id = None
    db.session.commit()
    assert assert_kept_equals_recount()[(station.station.id, station.officer.id, 0, TODAY)] == (1, 0, 0, 1)
    first.note = "only a note"  # nothing counted changes: no statement
    db.session.commit()
    db.session.delete(db.session.get(CheckIn, first.id))
    db.session.delete(db.session.get(CheckIn, second.id))
    db.session.commit()
    assert kept() == {} == recounted(), "a day row with no check-in left is gone"


def test_demo_seed_keeps_the_totals(app):
    """The seeder bulk-inserts check-ins with Core (no mapper events) and recounts once."""
    import demo

    demo.seed("small", 7)
    rows = assert_kept_equals_recount()
    assert len(rows) > 50
    assert sum(counts[3] for counts in rows.values()) == db.session.scalar(select(func.count(CheckIn.id)))


def test_rebuild_recounts_a_station_only(station):
    point = make_point(station.station, station.grid_a)
    make_check_in(station.officer, point, at(TODAY, 9))
    other = factories.make_station()
    grid = factories.make_grid(other)
    make_check_in(factories.make_user(other, grids=[grid]), make_point(other, grid), at(TODAY, 9))
    before = kept()
    db.session.execute(delete(PatrolDayTotal))
    db.session.execute(insert(PatrolDayTotal).values(station_id=station.station.id, officer_id=station.officer.id,
                                                     point_id=point.id, local_day=TODAY, done=7, outside_window=0,
                                                     flagged=0, check_ins=7))
    rebuild_day_totals(db.session.connection(), station.station.id)
    db.session.commit()
    assert kept() == {k: v for k, v in before.items() if k[0] == station.station.id}


# --- concurrency ------------------------------------------------------------------------------------

def test_concurrent_check_ins_at_one_point_each_count(app, station):
    """Two sessions of one officer sync different check-ins at the same point and day at the same
    moment, round after round: the upsert adds every one exactly once (SQLite and PostgreSQL)."""
    point = make_point(station.station, station.grid_a, required_per_day=5)
    clients = []
    for _ in range(2):
        client = app.test_client()
        AuthActions(client).login()
        clients.append(client)
    rounds = 8
    for round_no in range(rounds):
        barrier, statuses = threading.Barrier(2), []
        # Built here: the workers must not touch this thread's session (point.id may reload it).
        bodies = [{"device_id": f"phone{n}", "items": [
            _item(point, recorded_at=f"2026-11-03T1{n}:{round_no:02d}:00+08:00")]} for n in range(2)]

        def worker(client, n):
            with app.app_context():
                body = bodies[n]
                barrier.wait()
                response = client.post("/api/sync", json=body, headers=HEADERS)
                if response.status_code == 503:  # lost the lock race three times: nothing saved, try again
                    response = client.post("/api/sync", json=body, headers=HEADERS)
                statuses.append((response.status_code, response.get_json()["results"][0]["status"]))

        threads = [threading.Thread(target=worker, args=(c, n)) for n, c in enumerate(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert statuses == [(200, "created")] * 2, statuses
    assert only_row() == (2 * rounds, 0, 0, 2 * rounds)


# --- the report equals a recount ----------------------------------------------------------------------

def _report_from_check_ins(station_id, start, end, grid_id=None):
    """The compliance totals per (officer, grid) computed straight from check_ins, the slow old way."""
    points = {p.id: p for p in db.session.scalars(select(PatrolPoint).where(PatrolPoint.station_id == station_id))}
    per_day = defaultdict(lambda: [0, 0, 0, 0])
    for c in db.session.scalars(select(CheckIn).where(CheckIn.station_id == station_id, CheckIn.local_day >= start,
                                                      CheckIn.local_day <= end)):
        counts = per_day[(c.officer_id, c.point_id, c.local_day)]
        counts[0 if c.in_window is not False else 1] += 1
        counts[2] += 1 if c.flags else 0
        counts[3] += 1
    days = (end - start).days + 1
    result = {}
    officers = db.session.scalars(select(User).where(User.station_id == station_id, User.role == "community",
                                                     User.active.is_(True)))
    for officer in officers:
        mine = [g for g in officer.grids if grid_id in (None, g.id)]
        for index, grid in enumerate(mine):
            required = sum(p.required_per_day for p in points.values()
                           if p.grid_id == grid.id and p.active and p.required_per_day > 0)
            tally = reports.Tally(required=required * days)
            for (officer_id, point_id, _day), (done, outside, flagged, n) in per_day.items():
                point = points.get(point_id)
                if officer_id != officer.id or (point.grid_id if point else None) != (grid.id if point else None):
                    continue
                if point is None and index != 0:
                    continue
                cap = point.required_per_day if point and point.active and point.required_per_day > 0 else 0
                tally.add(reports.Tally(0, min(done, cap), outside, flagged, n))
            result[(officer.id, grid.id)] = tally
    return result


@pytest.mark.parametrize("grid", [None, "b"])
def test_report_equals_a_recount_from_check_ins(auth, client, station, grid):
    """Many check-ins of every kind over 40 days (points with caps, a window, an inactive point, free
    check-ins, a leader's, flags), some edited and deleted; the report's totals, by the page's path
    and the day-by-day path, equal the recount from check_ins."""
    rng = random.Random(7)
    grids = [station.grid_a, station.grid_b]
    points = [make_point(station.station, grids[i % 2], name=f"点{i}", required_per_day=rng.choice((1, 2, 3)),
                         lat=MARKET[0] + i * 0.001) for i in range(5)]
    points.append(make_point(station.station, station.grid_a, name="夜市", window_start=time(20), window_end=time(23)))
    points.append(make_point(station.station, station.grid_b, name="关了", active=False))
    both = factories.make_user(station.station, grids=[station.grid_a, station.grid_b], name="两格")
    people = [station.officer, station.officer_b, both, station.leader]
    made = []
    for _ in range(300):
        officer = rng.choice(people)
        point = rng.choice(points + [None])
        when = at(TODAY - timedelta(days=rng.randrange(40)), rng.randrange(6, 24), rng.randrange(60))
        made.append(make_check_in(officer, point, when, flags=rng.choice(("", "", "", "poor_accuracy")),
                                  in_window=None if point is None else
                                  (None if point.window_start is None else 20 <= when.astimezone(LOCAL_TZ).hour < 23)))
    for check_in in made[:20]:
        check_in.flags = "" if check_in.flags else "manual"
    for check_in in made[20:30]:
        db.session.delete(check_in)
    db.session.commit()
    points[0].required_per_day = 1  # a point changed after its check-ins: the report uses today's settings
    db.session.commit()
    assert_kept_equals_recount()

    grid_id = station.grid_b.id if grid else None
    start, end = TODAY - timedelta(days=30), TODAY
    expected = _report_from_check_ins(station.station.id, start, end, grid_id)
    for daily in (False, True):
        report = reports.compliance(station.station.id, start, end, grid_id, daily=daily)
        got = {(row.officer.id, row.grid.id): row.tally for row in report.by_officer}
        assert got == expected, f"daily={daily}"
        by_grid = defaultdict(reports.Tally)
        for (_officer, grid_key), tally in expected.items():
            by_grid[grid_key].add(tally)
        assert {g.id: t for g, t in report.by_grid} == dict(by_grid)
    assert sum(t.check_ins for t in expected.values()) > 40


# --- the migration fills the table from existing check-ins ---------------------------------------------

def test_migration_counts_existing_check_ins(empty_database_url):
    """Upgrade a database that already holds check-ins: 0012 counts them, downgrade drops the table."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    from app import create_app
    from config import TestConfig

    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="0011")
        now = datetime(2026, 11, 3, 12, 0)
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO stations (id, name, code) VALUES (1, 's', 's')"))
            connection.execute(text("INSERT INTO grids (id, station_id, code, name) VALUES (1, 1, 'g', 'g')"))
            connection.execute(text(
                "INSERT INTO users (id, station_id, username, name, role, is_auxiliary, active, password_hash, "
                "session_version, created_at) VALUES (1, 1, 'u', 'u', 'community', :no, :yes, 'x', 1, :now)"),
                {"now": now, "no": False, "yes": True})
            connection.execute(text(
                "INSERT INTO patrol_points (id, station_id, grid_id, name, lat, lon, radius_m, required_per_day, "
                "active, created_at) VALUES (1, 1, 1, 'p', 35.0, 112.0, 50, 1, :yes, :now)"), {"now": now, "yes": True})
            nov3, nov4 = datetime(2026, 11, 3).date(), datetime(2026, 11, 4).date()
            rows = [(1, nov3, None, ""), (1, nov3, False, "poor_accuracy"), (1, nov4, True, ""), (None, nov3, None, "manual")]
            for point_id, day, in_window, flags in rows:
                connection.execute(text(
                    "INSERT INTO check_ins (station_id, officer_id, point_id, method, flags, via, recorded_at, "
                    "received_at, local_day, in_window) VALUES (1, 1, :p, 'gps', :f, 'online', :now, :now, :d, :w)"),
                    {"p": point_id, "f": flags, "now": now, "d": day, "w": in_window})
        upgrade(revision="0012")
        with db.engine.connect() as connection:
            got = sorted((r[0], r[1], str(r[2]), *r[3:]) for r in connection.execute(text(
                "SELECT officer_id, point_id, local_day, done, outside_window, flagged, check_ins "
                "FROM patrol_day_totals")))
        assert got == [(1, 0, "2026-11-03", 1, 0, 1, 1), (1, 1, "2026-11-03", 1, 1, 1, 2),
                       (1, 1, "2026-11-04", 1, 0, 0, 1)]
        downgrade(revision="0011")
        assert "patrol_day_totals" not in inspect(db.engine).get_table_names()
        db.engine.dispose()
