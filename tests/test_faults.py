"""Faults inside one process: a SQLite file locked by another writer, a database error that is a bug.

The lock is real: another connection holds `BEGIN IMMEDIATE` on the test database's file, as a
second gunicorn worker in the middle of a write does. The user must get 503 with Retry-After
(never a 500), nothing half-written may stay, and the same record sent again after the lock is gone
is saved exactly once. Process-level faults (a worker killed mid-batch, the database going away and
coming back) are in bench/faults.py, with their figures in bench/README.md.
"""
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import replace

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from blueprints.sync import records
from extensions import db
from models import AuditEvent, CheckIn, PatrolPoint, SyncReceipt
from tests.test_sync_api import HEADERS

SHORT_BUSY_TIMEOUT_MS = 150  # the app waits 5 s in production; a test need not


@pytest.fixture
def sqlite_file(app):
    """The test database's file, with the app's connections waiting only briefly for a lock."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("a locked database file is SQLite's failure; PostgreSQL waits for row locks")

    def short_wait(dbapi_connection, _record, _proxy):
        dbapi_connection.execute(f"PRAGMA busy_timeout={SHORT_BUSY_TIMEOUT_MS}")

    event.listen(db.engine, "checkout", short_wait)
    yield db.engine.url.database
    event.remove(db.engine, "checkout", short_wait)


@contextmanager
def write_lock(path: str):
    """Another connection holding SQLite's write lock (BEGIN IMMEDIATE) until the block ends."""
    db.session.commit()
    other = sqlite3.connect(path, isolation_level=None, timeout=5)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()


def _point(station) -> PatrolPoint:
    point = PatrolPoint(station_id=station.station.id, grid_id=station.grid_a.id, name="幸福小区东门",
                        lat=31.2304, lon=121.4737, radius_m=50)
    db.session.add(point)
    db.session.commit()
    return point


def _fields(point) -> dict:
    return {"client_id": str(uuid.uuid4()), "recorded_at": "2026-11-03T21:15:00+08:00", "lat": "31.2304100",
            "lon": "121.4737200", "accuracy": "12.0", "point_id": str(point.id), "note": "东门正常"}


def _item(fields: dict) -> dict:
    data = {k: v for k, v in fields.items() if k not in ("client_id", "recorded_at")}
    return {"client_id": fields["client_id"], "kind": "checkin", "recorded_at": fields["recorded_at"], "data": data}


def _rows() -> tuple[int, int]:
    db.session.rollback()
    return (db.session.scalar(select(func.count()).select_from(CheckIn)),
            db.session.scalar(select(func.count()).select_from(SyncReceipt)))


def test_sync_on_a_locked_file_is_503_and_saves_nothing(auth, client, station, sqlite_file):
    """A batch that meets a held write lock answers 503 + Retry-After; the resend saves each item once."""
    point = _point(station)
    auth.login()
    items = [_item(_fields(point)) for _ in range(5)]
    with write_lock(sqlite_file):
        response = client.post("/api/sync", json={"device_id": "phone", "items": items}, headers=HEADERS)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json()["error"] == "busy" and response.get_json()["message"]
    assert _rows() == (0, 0)  # not one item of the batch stayed

    retry = client.post("/api/sync", json={"device_id": "phone", "items": items}, headers=HEADERS)
    assert [r["status"] for r in retry.get_json()["results"]] == ["created"] * 5
    assert _rows() == (5, 5)


def test_online_check_in_on_a_locked_file_is_503_not_500(auth, client, station, sqlite_file):
    """The htmx form POST gets a 503 toast with Retry-After (outbox.js queues it); no half record."""
    point = _point(station)
    auth.login()
    fields = _fields(point)
    auth.csrf()
    with write_lock(sqlite_file):
        response = auth.post("/patrol/check-ins", data=fields, headers={"HX-Request": "true"})
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["HX-Retarget"] == "#toasts"
    assert "toast" in response.get_data(as_text=True)
    assert _rows() == (0, 0)

    again = auth.post("/patrol/check-ins", data=fields, headers={"HX-Request": "true"})
    assert again.status_code == 200
    assert _rows() == (1, 1)
    assert db.session.scalars(select(CheckIn)).one().client_id == fields["client_id"]


def test_plain_form_post_on_a_locked_file_is_a_503_page(auth, client, station, sqlite_file):
    """Without htmx (JavaScript off) the officer sees the 'busy' page, not an error 500 page."""
    point = _point(station)
    auth.login()
    auth.csrf()
    with write_lock(sqlite_file):
        response = auth.post("/patrol/check-ins", data=_fields(point))
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "<html" in response.get_data(as_text=True)
    assert _rows() == (0, 0)


def test_login_on_a_locked_file_is_503_then_works(auth, client, station, sqlite_file):
    """Login writes an audit event: a held lock makes it 503 (nothing logged in), the retry logs in."""
    page = client.get("/auth/login")
    from tests.conftest import csrf_from

    token = csrf_from(page)
    form = {"login": "demo-officer", "password": "correct-horse-9", "csrf_token": token}
    with write_lock(sqlite_file):
        refused = client.post("/auth/login", data=form)
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert client.get("/me").status_code == 302  # not logged in by the refused attempt
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "login")) == 0
    assert auth.login().status_code in (302, 303)
    assert client.get("/me").status_code == 200


def test_online_check_in_waits_for_a_short_write_lock(auth, client, station, sqlite_file):
    """Another worker's write that ends within busy_timeout: the online POST waits its turn and saves
    (a deferred transaction that read first would be refused at once, whatever busy_timeout says)."""
    point = _point(station)
    auth.login()
    fields = _fields(point)
    auth.csrf()

    def patient(dbapi_connection, _record, _proxy):
        dbapi_connection.execute("PRAGMA busy_timeout=5000")

    event.listen(db.engine, "checkout", patient)  # after the fixture's short wait: this one counts
    db.session.commit()
    other = sqlite3.connect(sqlite_file, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO stations (name, code) VALUES ('另一个派出所', 'X1')")  # a real write
        release = threading.Timer(0.4, other.execute, ["COMMIT"])
        release.start()
        started = time.monotonic()
        response = auth.post("/patrol/check-ins", data=fields, headers={"HX-Request": "true"})
        waited = time.monotonic() - started
        release.join()
    finally:
        other.close()
        event.remove(db.engine, "checkout", patient)
    assert response.status_code == 200, response.headers.get("Retry-After")
    assert waited >= 0.2  # it really met the lock
    assert _rows() == (1, 1)


def test_a_read_is_not_blocked_by_a_writer(auth, client, station, sqlite_file):
    """WAL: pages keep answering while another connection holds the write lock."""
    auth.login()
    with write_lock(sqlite_file):
        assert client.get("/patrol/check-in").status_code == 200
        assert client.get("/healthz").status_code == 200


def test_other_database_errors_stay_500(auth, client, station, monkeypatch):
    """'no such table' is a bug, not 'busy': it answers 500 without Retry-After (and is logged)."""
    point = _point(station)
    auth.login()

    def broken(user, form, *, via, commit):
        raise OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: check_ins"))

    monkeypatch.setitem(records.KINDS, "checkin", replace(records.KINDS["checkin"], service=broken))
    response = auth.post("/patrol/check-ins", data=_fields(point), headers={"HX-Request": "true"})
    assert response.status_code == 500 and "Retry-After" not in response.headers


def test_lost_connection_is_503(auth, client, station, monkeypatch):
    """A connection the server dropped (PostgreSQL restart, network) is 'try again': 503 + Retry-After."""
    point = _point(station)
    auth.login()

    def dropped(user, form, *, via, commit):
        raise OperationalError("INSERT", {}, Exception("server closed the connection unexpectedly"),
                               connection_invalidated=True)

    monkeypatch.setitem(records.KINDS, "checkin", replace(records.KINDS["checkin"], service=dropped))
    response = auth.post("/patrol/check-ins", data=_fields(point), headers={"HX-Request": "true"})
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0


@pytest.fixture
def database_gone():
    """Every statement that reads the session's user fails as it does while PostgreSQL refuses
    connections (raised by the driver's cursor, whatever code loads the user)."""
    with db.engine.connect():  # the engine exists before the listener is added
        pass

    def refuse(conn, cursor, statement, parameters, context, executemany):
        if "FROM users" in statement:
            raise OperationalError(statement, parameters, Exception(
                'database "pingan" is not currently accepting connections'))

    def switch():
        db.session.remove()
        event.listen(db.engine, "before_cursor_execute", refuse)

    yield switch
    if event.contains(db.engine, "before_cursor_execute", refuse):
        event.remove(db.engine, "before_cursor_execute", refuse)


def test_database_gone_mid_session_is_503_on_pages_and_sync(auth, client, station, database_gone):
    """A logged-in officer while the database is unreachable: 503 + Retry-After everywhere, never a 500
    (the error answer itself must not need the user from the database)."""
    point = _point(station)
    auth.login()
    token = auth.csrf()
    fields, item = _fields(point), _item(_fields(point))
    database_gone()
    page = client.get("/patrol/check-in")
    assert page.status_code == 503 and page.headers["Retry-After"]
    fragment = client.post("/patrol/check-ins", data={**fields, "csrf_token": token},
                           headers={"HX-Request": "true"})
    assert fragment.status_code == 503 and fragment.headers["Retry-After"]
    synced = client.post("/api/sync", json={"device_id": "phone", "items": [item]}, headers=HEADERS)
    assert synced.status_code == 503 and synced.headers["Retry-After"]
    assert synced.get_json()["error"] == "busy"
