"""Patrol points: managed by the command room and leaders, QR sheets with signed codes."""
import re

import pytest
from sqlalchemy import select

from blueprints.patrol import qr
from extensions import db
from models import PatrolPoint
from tests import factories
from tests.test_patrol import HX, make_point, text


def point_form(station, **overrides) -> dict:
    data = {"name": "北关夜市", "grid_id": str(station.grid_a.id), "lat": "35.8012", "lon": "112.9301",
            "radius_m": "50", "required_per_day": "1", "window_start": "20:00", "window_end": "23:00",
            "active": "y"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("login", ["demo-command", "demo-leader"])
def test_command_and_leader_create_a_point(auth, client, station, login):
    auth.login(login)
    assert client.get("/patrol/points/new").status_code == 200
    response = auth.post("/patrol/points", point_form(station))
    assert response.status_code == 303 and response.headers["Location"].endswith("/patrol/points")
    point = db.session.scalars(select(PatrolPoint)).one()
    assert (point.name, point.lat, point.lon, point.radius_m) == ("北关夜市", 35.8012, 112.9301, 50)
    assert point.window_start.hour == 20 and point.window_end.hour == 23 and point.active
    assert "北关夜市" in text(client.get("/patrol/points"))


def test_new_point_form_has_a_map_picker_and_radius_50(auth, client, station):
    auth.login("demo-command")
    page = text(client.get("/patrol/points/new"))
    assert 'id="pick-map"' in page and "leaflet.js" in page and 'data-pick="lat,lon"' in page
    assert re.search(r'id="radius_m"[^>]*value="50"', page)


@pytest.mark.parametrize("overrides, message", [
    ({"lat": "95"}, "纬度必须在 -90 到 90 之间"),
    ({"lon": ""}, "请输入经度，或在地图上选点"),
    ({"radius_m": "5"}, "请输入 10 到 1000 米之间的数"),
    ({"window_end": ""}, "时段的开始和结束须同时填写"),
    ({"name": ""}, "必填"),
])
def test_bad_point_input_is_422_beside_the_field(auth, station, overrides, message):
    auth.login("demo-command")
    response = auth.post("/patrol/points", point_form(station, **overrides), headers=HX)
    assert response.status_code == 422
    assert message in text(response) and 'class="error"' in text(response)
    assert db.session.scalars(select(PatrolPoint)).first() is None


def test_edit_and_deactivate_a_point(auth, station):
    point = make_point(station.station, station.grid_a)
    auth.login("demo-leader")
    response = auth.post(f"/patrol/points/{point.id}", point_form(station, name="菜市场东门", active=None,
                                                                 window_start="", window_end=""))
    assert response.status_code == 303
    db.session.refresh(point)
    assert point.name == "菜市场东门" and point.active is False and point.window_start is None


def test_another_stations_point_is_404(auth, client, station):
    other = factories.make_station()
    foreign = make_point(other, factories.make_grid(other))
    auth.login("demo-command")
    assert client.get(f"/patrol/points/{foreign.id}/edit").status_code == 404
    assert auth.post(f"/patrol/points/{foreign.id}", point_form(station)).status_code == 404


@pytest.mark.parametrize("login", ["demo-officer", "demo-case"])
def test_officers_and_case_team_cannot_manage_points(auth, client, station, login):
    point = make_point(station.station, station.grid_a)
    auth.login(login)
    assert client.get("/patrol/points/new").status_code == 403
    assert auth.post("/patrol/points", point_form(station)).status_code == 403
    assert client.get(f"/patrol/points/{point.id}/edit").status_code == 403
    assert client.get("/patrol/points/qr").status_code == 403
    page = text(client.get("/patrol/points"))
    assert f"/patrol/points/{point.id}/edit" not in page and "/patrol/points/new" not in page, "read-only list"


def test_officer_sees_only_own_grids_points(auth, client, station):
    make_point(station.station, station.grid_a, name="东街小学")
    make_point(station.station, station.grid_b, name="西街网吧")
    auth.login("demo-officer")
    page = text(client.get("/patrol/points"))
    assert "东街小学" in page and "西街网吧" not in page


def test_qr_sheet_has_a_code_and_a_printed_short_code_per_active_point(auth, client, station):
    point = make_point(station.station, station.grid_a, name="东街小学")
    make_point(station.station, station.grid_a, name="已停用", active=False)
    auth.login("demo-command")
    page = text(client.get("/patrol/points/qr"))
    assert page.count('src="data:image/svg+xml') == 1 and "已停用" not in page
    assert qr.short_code(station.station.id, point.id) in page
    single = text(client.get(f"/patrol/points/qr?point={point.id}"))
    assert single.count('class="qr-card"') == 1


def test_tokens_are_signed_per_station_and_point(app):
    token = qr.point_token(1, 7)
    assert re.fullmatch(r"7\.[A-Za-z0-9_-]{16}", token)
    assert qr.verify(token, 1) == 7
    assert qr.verify(token, 2) is None, "another station's secret binding"
    assert qr.verify("8" + token[1:], 1) is None, "the id is covered by the signature"
    assert qr.verify(qr.short_code(1, 7), 1) == 7
    app.config["SECRET_KEY"], saved = "another-secret", app.config["SECRET_KEY"]
    try:
        assert qr.verify(token, 1) is None, "forged without the app secret"
    finally:
        app.config["SECRET_KEY"] = saved


@pytest.mark.parametrize("raw, expected", [
    ("7-123456", "7-123456"), (" ７－１２３４５６ ", "7-123456"), ("7 123456", "7-123456"),
    ("7123456", "7-123456"), ("https://x/patrol/check-in?t=7.abcdefghijklmnop", "7.abcdefghijklmnop"),
    ("hello", None), ("7-12345", None), ("", None),
])
def test_scanned_or_typed_codes_are_normalised(raw, expected):
    assert qr.normalize(raw) == expected
