"""The station-wide banner: 304 while nothing changed, the fragment with distance when a case is open,
stood down when found, one station's alerts never reach another, and workers agree through Redis."""
import os
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from blueprints.home.services import LOCAL_TZ
from extensions import db
from tests import factories
from tests.conftest import AuthActions

REDIS_URL = os.environ.get("TEST_REDIS_URL")


def poll(client, etag=None, **position):
    headers = {"HX-Request": "true"}
    if etag:
        headers["If-None-Match"] = etag
    query = "&".join(f"{k}={v}" for k, v in position.items())
    return client.get("/missing/alerts" + ("?" + query if query else ""), headers=headers)


def test_every_page_loads_the_banner_poller(client, auth, station):
    auth.login()
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'<script src="/static/js/alerts.js[^"]*" defer></script>', page) and 'id="alerts"' in page


def test_nothing_changed_answers_304(client, auth, station):
    """The per-phone check: the same ETag comes back as an empty 304."""
    auth.login()
    first = poll(client)
    assert first.status_code == 200 and "missing-banner" not in first.get_data(as_text=True)
    etag = first.headers["ETag"]
    again = poll(client, etag, lat="35.79", lon="112.92")  # no open case: the position does not matter
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag


def test_the_304_costs_at_most_two_queries(app, client, auth, station):
    """Loading the user and reading the station's alert version; nothing grows with the cases."""
    for _ in range(5):
        factories.make_missing_case(station.station, station.command, status="found")
    auth.login()
    etag = poll(client).headers["ETag"]
    statements = []

    def count(conn, cursor, statement, *args):
        if statement.split()[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert poll(client, etag).status_code == 304
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) <= 2, statements


def test_an_open_case_shows_photo_name_place_and_distance(client, auth, station):
    auth.login("demo-officer")
    etag = poll(client).headers["ETag"]
    factories.make_missing_case(station.station, station.command, description="白发，驼背")
    response = poll(client, etag, lat="35.8076", lon="112.9237")  # ~1 km north of the last-seen place
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "走失" in body and "李秀英" in body and "白发，驼背" in body and "城东菜市场" in body
    assert "距您 1.0 公里" in body
    without = poll(client).get_data(as_text=True)
    assert "李秀英" in without and "距您" not in without and "显示我的距离" in without
    near = poll(client, lat="35.7990", lon="112.9237").get_data(as_text=True)
    assert "距您 50 米" in near  # the position goes to the server rounded to ~100 m


def test_a_change_of_position_or_of_the_case_changes_the_tag(client, auth, station):
    case = factories.make_missing_case(station.station, station.command)
    auth.login()
    first = poll(client, lat="35.80", lon="112.92")
    assert poll(client, first.headers["ETag"], lat="35.80", lon="112.92").status_code == 304
    assert poll(client, first.headers["ETag"], lat="35.85", lon="112.92").status_code == 200
    data = {"client_id": str(uuid.uuid4()), "recorded_at": datetime.now(timezone.utc).isoformat(),
            "case_id": str(case.id), "seen_at": datetime.now(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M"), "place": "南街"}
    assert auth.post(f"/missing/{case.id}/sightings", data=data).status_code == 303
    assert poll(client, first.headers["ETag"], lat="35.80", lon="112.92").status_code == 200


def test_found_stands_the_banner_down_with_a_found_notice(client, auth, station):
    case = factories.make_missing_case(station.station, station.command)
    auth.login("demo-command")
    etag = poll(client).headers["ETag"]
    found_at = (datetime.now(LOCAL_TZ) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    assert auth.post(f"/missing/{case.id}/found", data={
        "found_at": found_at, "found_place": "城西公园", "found_by": "张伟", "condition": "well"}).status_code == 303
    response = poll(client, etag)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "missing-banner" not in body
    assert f'data-closed-case-id="{case.id}"' in body and "搜寻解除" in body and "城西公园" in body


def test_another_stations_case_raises_no_banner_here(client, auth, station):
    other = factories.make_station()
    reporter = factories.make_user(other, "command")
    auth.login()
    etag = poll(client).headers["ETag"]
    factories.make_missing_case(other, reporter, name="外所走失者")
    response = poll(client, etag)
    assert response.status_code == 304


def test_logged_out_poll_is_401_for_the_poller(client, station):
    response = poll(client)
    assert response.status_code == 401 and response.headers.get("HX-Redirect")


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL not set (CI sets it)")
def test_two_workers_agree_through_redis(app, station):
    """Worker A records the report; worker B's next poll sees the new version from Redis."""
    import redis

    from config import TestConfig

    server = redis.Redis.from_url(REDIS_URL)
    server.flushdb()
    config = {**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
              "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
              "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"], "REDIS_URL": REDIS_URL}
    from app import create_app

    worker_a, worker_b = create_app(config), create_app(config)
    try:
        db.session.commit()
        client_a, client_b = worker_a.test_client(), worker_b.test_client()
        auth_a, auth_b = AuthActions(client_a), AuthActions(client_b)
        with worker_a.app_context():
            auth_a.login("demo-officer")
        with worker_b.app_context():
            auth_b.login("demo-command")
            etag = poll(client_b).headers["ETag"]
        key = f"pingan:missing:alert:{station.station.id}"
        with worker_a.app_context():
            data = {"client_id": str(uuid.uuid4()), "recorded_at": datetime.now(timezone.utc).isoformat(),
                    "name": "李秀英", "sex": "female", "risk": "dementia", "last_seen_place": "城东菜市场",
                    "last_seen_at": datetime.now(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")}
            assert auth_a.post("/missing/", data=data).status_code == 303
        assert int(server.hget(key, "v")) >= 1 and int(server.hget(key, "open")) == 1
        with worker_b.app_context():
            response = poll(client_b, etag)
            assert response.status_code == 200 and "李秀英" in response.get_data(as_text=True)
            assert poll(client_b, response.headers["ETag"]).status_code == 304
        server.delete(key)  # Redis flushed or restarted: the database still knows the version
        with worker_b.app_context():
            assert poll(client_b, response.headers["ETag"]).status_code == 304
        assert server.exists(key)
    finally:
        server.flushdb()
        for worker in (worker_a, worker_b):
            with worker.app_context():
                db.session.remove()
