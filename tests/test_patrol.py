"""Patrol check-ins: the officer's two-tap check-in, its scoring, bad input, today, feed and roles."""
import html
import io
import json
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from blueprints.home.services import LOCAL_TZ
from blueprints.patrol import qr, services
from blueprints.patrol.forms import CheckInForm
from blueprints.sync import attachments, records
from extensions import db
from models import Attachment, CheckIn, PatrolPoint, SyncReceipt
from tests import factories

MARKET = (35.7986, 112.9237)  # lat, lon of the test point (Gaoping)
HX = {"HX-Request": "true"}


# --- helpers shared by the patrol test modules -------------------------------------------------------

def make_point(station, grid, **overrides) -> PatrolPoint:
    fields = {"station_id": station.id, "grid_id": grid.id, "name": "菜市场", "lat": MARKET[0], "lon": MARKET[1],
              "radius_m": 50, "required_per_day": 1, "active": True}
    fields.update(overrides)
    point = PatrolPoint(**fields)
    db.session.add(point)
    db.session.commit()
    return point


def make_check_in(officer, point, when=None, **overrides) -> CheckIn:
    """A stored check-in, as the service would store it (for reports and lists)."""
    when = when or datetime.now(timezone.utc)
    fields = {"station_id": officer.station_id, "officer_id": officer.id, "point_id": point.id if point else None,
              "grid_id": point.grid_id if point else None, "lat": point.lat if point else None,
              "lon": point.lon if point else None, "accuracy_m": 10.0, "distance_m": 0.0, "within_geofence": True,
              "method": "gps", "flags": "", "via": "online", "recorded_at": when, "received_at": when,
              "local_day": when.astimezone(LOCAL_TZ).date(), "in_window": services.in_window(point, when)}
    fields.update(overrides)
    check_in = CheckIn(**fields)
    db.session.add(check_in)
    db.session.commit()
    return check_in


def check_in_data(**overrides) -> dict:
    data = {"client_id": str(uuid.uuid4()), "recorded_at": datetime.now(timezone.utc).isoformat(),
            "lat": str(MARKET[0] + 0.0001), "lon": str(MARKET[1]), "accuracy": "12"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def text(response) -> str:
    return response.get_data(as_text=True)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def point(station):
    return make_point(station.station, station.grid_a, name="城东菜市场")


@pytest.fixture
def officer(auth, station):
    auth.login("demo-officer")
    return station.officer


# --- the check-in page -------------------------------------------------------------------------------

def test_check_in_page_carries_the_offline_form_and_own_grid_points(client, officer, station, point):
    """The page has the outbox form contract and embeds only the officer's grid points, no codes."""
    make_point(station.station, station.grid_b, name="城西网吧")
    page = text(client.get("/patrol/check-in"))
    assert 'id="checkin-form"' in page and 'data-outbox="checkin"' in page
    assert 'hx-post="/patrol/check-ins"' in page and 'hx-encoding="multipart/form-data"' in page
    client_id = re.search(r'name="client_id" type="hidden" value="([^"]+)"', page)
    assert client_id and uuid.UUID(client_id.group(1)).version == 4
    assert re.search(r'name="recorded_at" type="hidden" value="\d{4}-', page)
    data = json.loads(re.search(r'<script type="application/json" id="patrol-points">(.*?)</script>', page,
                                re.S).group(1))
    assert [p["name"] for p in data] == ["城东菜市场"]
    assert set(data[0]) == {"id", "name", "lat", "lon", "radius", "grid"}
    assert qr.short_code(station.station.id, point.id) not in page, "the code would prove nothing if shown"
    assert "<script>" not in page and 'style="' not in page


def test_qr_link_opens_the_page_with_the_code_filled(client, officer, station, point):
    """A phone camera opening the QR's URL lands on the form with the token in place."""
    token = qr.point_token(station.station.id, point.id)
    page = text(client.get(f"/patrol/check-in?t={token}"))
    assert f'value="{token}"' in page


# --- recording ---------------------------------------------------------------------------------------

def test_gps_check_in_at_the_point_is_saved_with_server_scoring(auth, client, officer, point):
    """Tap two: saved; the answer is the outcome line for the page's result box (the page keeps its
    form and clears it, tests/e2e); the server measured the distance."""
    data = check_in_data(point_id=point.id)
    response = auth.post("/patrol/check-ins", data, headers=HX)
    assert response.status_code == 200
    body = text(response)
    assert "签到成功" in body and "城东菜市场" in body and "11 米" in body
    assert response.headers["HX-Retarget"] == "#checkin-result" and response.headers["HX-Reswap"].startswith("innerHTML")
    assert response.headers["HX-Trigger"] == "pingan:saved", "outbox.js clears the form for the next one"
    assert "<form" not in body and data["client_id"] not in body
    saved = db.session.scalars(select(CheckIn)).one()
    assert saved.officer_id == officer.id and saved.point_id == point.id and saved.method == "gps"
    assert 10 < saved.distance_m < 12 and saved.within_geofence is True and saved.flags == ""
    assert saved.accuracy_m == 12 and saved.via == "online" and saved.client_id == data["client_id"]
    assert saved.local_day == datetime.now(LOCAL_TZ).date() and saved.received_at is not None


def test_a_refused_check_in_answers_the_form_with_the_same_points_as_the_page(auth, client, officer, station,
                                                                            point):
    """A refused check-in comes back as the whole box, the message beside the field and the officer's
    active points in the page's order; another grid's point and an inactive one are not offered."""
    make_point(station.station, station.grid_a, name="A 公园", lat=MARKET[0] + 0.01)
    make_point(station.station, station.grid_a, name="停用的点", active=False)
    make_point(station.station, station.grid_b, name="城西网吧")
    options = re.compile(r'<option value="(\d+)"[^>]*>([^<]+)</option>')
    on_page = options.findall(text(client.get("/patrol/check-in")))
    assert [name for _id, name in on_page] == ["A 公园", "城东菜市场"]
    refused = auth.post("/patrol/check-ins", check_in_data(lat="95", point_id=point.id), headers=HX)
    assert refused.status_code == 422 and "HX-Retarget" not in refused.headers
    body = text(refused)
    assert 'id="checkin-box"' in body and 'id="lat-error"' in body and options.findall(body) == on_page
    assert f'<option value="{point.id}" selected>' in body, "the officer's choice is kept"


def test_plain_post_answers_303_to_the_today_page(auth, officer, point):
    """Without htmx the form still works: 303 to today."""
    response = auth.post("/patrol/check-ins", check_in_data(point_id=point.id))
    assert response.status_code == 303 and response.headers["Location"].endswith("/patrol/today")


def test_far_away_check_in_is_kept_and_flagged_not_refused(auth, officer, point):
    """2 km from the point: saved, flagged with the reason shown."""
    response = auth.post("/patrol/check-ins", check_in_data(point_id=point.id, lat=str(MARKET[0] + 0.018)),
                         headers=HX)
    assert response.status_code == 200
    assert "不在必到点范围内" in text(response)
    saved = db.session.scalars(select(CheckIn)).one()
    assert saved.flag_list == ["outside_geofence"] and saved.within_geofence is False and saved.distance_m > 1900


def test_the_same_client_id_twice_makes_one_record(auth, officer, point):
    """A retry after a lost answer is harmless: one record, and the officer is told it was saved."""
    data = check_in_data(point_id=point.id)
    first = auth.post("/patrol/check-ins", data, headers=HX)
    second = auth.post("/patrol/check-ins", data, headers=HX)
    assert first.status_code == second.status_code == 200
    assert "已经保存过了" in text(second)
    assert count(CheckIn) == 1 and count(SyncReceipt) == 1


def test_manual_check_in_without_position_is_saved_and_flagged(auth, officer, point):
    """Location denied: choosing the point still checks in, marked as without position."""
    response = auth.post("/patrol/check-ins", check_in_data(point_id=point.id, lat=None, lon=None, accuracy=None),
                         headers=HX)
    assert response.status_code == 200
    saved = db.session.scalars(select(CheckIn)).one()
    assert saved.method == "manual" and "manual" in saved.flag_list and saved.distance_m is None


def test_free_check_in_without_a_point(auth, officer):
    """A check-in with a position and no point is kept, with no distance."""
    assert auth.post("/patrol/check-ins", check_in_data(), headers=HX).status_code == 200
    saved = db.session.scalars(select(CheckIn)).one()
    assert saved.point_id is None and saved.method == "gps" and saved.flags == ""


def test_impossible_speed_and_wrong_clock_are_flagged(auth, officer, point):
    """10 km in a minute since the previous check-in, and a phone clock 30 min off."""
    now = datetime.now(timezone.utc)
    make_check_in(officer, point, now - timedelta(minutes=31), lat=MARKET[0] + 0.09)
    auth.post("/patrol/check-ins", check_in_data(point_id=point.id, recorded_at=(now - timedelta(minutes=30))
                                                 .isoformat()), headers=HX)
    latest = db.session.scalars(select(CheckIn).order_by(CheckIn.id.desc())).first()
    assert latest.flag_list == ["impossible_speed", "clock_skew"]


def test_future_device_time_is_flagged(auth, officer, point):
    future = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    auth.post("/patrol/check-ins", check_in_data(point_id=point.id, recorded_at=future), headers=HX)
    assert "future_time" in db.session.scalars(select(CheckIn)).one().flag_list


# --- bad input ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("overrides, field, message", [
    ({"lat": "91"}, "lat", "纬度必须在 -90 到 90 之间"),
    ({"lon": "200"}, "lon", "经度必须在 -180 到 180 之间"),
    ({"lat": "nan"}, "lat", "纬度必须在 -90 到 90 之间"),
    ({"lat": "abc"}, "lat", "请输入数字"),
    ({"lon": None}, "lat", "位置不完整"),
    ({"lat": "0", "lon": "0"}, "lat", "这不是有效的位置"),
    ({"accuracy": "-5"}, "accuracy", "定位精度必须在 0 到 10000 米之间"),
    ({"accuracy": "50000"}, "accuracy", "定位精度必须在 0 到 10000 米之间"),
    ({"lat": None, "lon": None, "accuracy": None}, "point_id", "没有定位时，请选择必到点或输入签到码"),
    ({"qr_token": "hello"}, "qr_token", "这不是必到点的签到码"),
    ({"client_id": "not-a-uuid"}, "client_id", "UUID"),
])
def test_bad_input_is_refused_beside_the_field_and_nothing_is_saved(auth, officer, overrides, field, message):
    response = auth.post("/patrol/check-ins", check_in_data(**overrides), headers=HX)
    assert response.status_code == 422
    body = text(response)
    assert re.search(rf'<p class="error" id="{field}-error">[^<]*{re.escape(message)}', body), body[-3000:]
    assert count(CheckIn) == 0 and count(SyncReceipt) == 0


def test_a_point_of_another_station_is_refused(auth, officer):
    other = factories.make_station()
    foreign = make_point(other, factories.make_grid(other))
    response = auth.post("/patrol/check-ins", check_in_data(point_id=foreign.id), headers=HX)
    assert response.status_code == 422
    assert "此必到点不属于本所" in text(response)
    assert count(CheckIn) == 0 and count(SyncReceipt) == 0


# --- QR codes ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["token", "url", "code", "typed"])
def test_qr_check_in_by_token_link_or_typed_code(auth, officer, station, point, how):
    """The scanned token, the QR's URL, or the printed code typed with full-width digits all work."""
    code = qr.short_code(station.station.id, point.id)
    value = {"token": qr.point_token(station.station.id, point.id),
             "url": qr.qr_payload("http://x/patrol/check-in", qr.point_token(station.station.id, point.id)),
             "code": code,
             "typed": " ".join(code.translate(str.maketrans("0123456789-", "０１２３４５６７８９－")))}[how]
    response = auth.post("/patrol/check-ins", check_in_data(qr_token=value, lat=None, lon=None, accuracy=None),
                         headers=HX)
    assert response.status_code == 200, text(response)[-2000:]
    saved = db.session.scalars(select(CheckIn)).one()
    assert saved.method == "qr" and saved.point_id == point.id and saved.flags == ""


def test_forged_or_foreign_qr_token_is_refused(auth, officer, station, point):
    """A guessed signature, a wrong code, or another station's genuine code: 422, nothing saved."""
    other = factories.make_station()
    foreign = make_point(other, factories.make_grid(other))
    token = qr.point_token(station.station.id, point.id)
    for value in (token[:-1] + ("A" if token[-1] != "A" else "B"), f"{point.id}-000000",
                  qr.point_token(other.id, foreign.id), qr.short_code(other.id, foreign.id)):
        response = auth.post("/patrol/check-ins", check_in_data(qr_token=value), headers=HX)
        assert response.status_code == 422
        assert "此签到码不属于本所的必到点" in text(response)
    assert count(CheckIn) == 0


# --- photos ------------------------------------------------------------------------------------------

def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (80, 60), "red")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestPhone"
    exif[ExifTags.Base.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (35.0, 47.0, 55.0),
                                   ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (112.0, 55.0, 25.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo), "test photo must carry GPS"
    return data


def test_photo_is_stored_without_exif_and_shown_to_its_officer_only(auth, client, officer, station, point):
    data = check_in_data(point_id=point.id)
    data["photo"] = (io.BytesIO(_jpeg_with_gps()), "IMG_0001.jpg", "image/jpeg")
    response = auth.post("/patrol/check-ins", data, headers=HX, content_type="multipart/form-data")
    assert response.status_code == 200
    saved = db.session.scalars(select(CheckIn)).one()
    assert saved.photo is not None and saved.photo.client_id == data["client_id"]
    stored = Image.open(attachments.attachment_path(saved.photo))
    assert not stored.getexif() and "exif" not in stored.info
    photo = client.get(f"/patrol/check-ins/{saved.id}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    auth.logout()
    auth.login("officer-b")
    assert client.get(f"/patrol/check-ins/{saved.id}/photo").status_code == 404


@pytest.mark.parametrize("payload, message", [
    (b"MZ\x90\x00 not a picture", "不是照片"),
    (b"\xff\xd8" + b"0" * (attachments.MAX_UPLOAD_BYTES + 10), "照片过大"),
])
def test_bad_photo_is_refused_and_nothing_is_saved(auth, officer, point, payload, message):
    data = check_in_data(point_id=point.id)
    data["photo"] = (io.BytesIO(payload), "x.jpg", "image/jpeg")
    response = auth.post("/patrol/check-ins", data, headers=HX, content_type="multipart/form-data")
    assert response.status_code == 422
    assert re.search(rf'id="photo-error">[^<]*{message}', text(response))
    assert count(CheckIn) == 0 and count(Attachment) == 0 and count(SyncReceipt) == 0


# --- the offline (sync) path uses the same form and service -----------------------------------------

def test_sync_path_validates_the_same_form_without_a_request_and_is_idempotent(app, station, point):
    """What /api/sync does: form from a MultiDict (no files, no CSRF), then the registered service."""
    kind = records.KINDS["checkin"]
    assert kind.form_class is CheckInForm and kind.service is services.record_check_in
    assert kind.page == "patrol.check_in"
    data = check_in_data(point_id=str(point.id))
    with app.test_request_context():
        form = CheckInForm(formdata=MultiDict(data), meta={"csrf": False})
        assert form.validate(), form.errors
        first = services.record_check_in(station.officer, form, via="sync", commit=True)
        again = services.record_check_in(station.officer, form, via="sync", commit=True)
        bad = CheckInForm(formdata=MultiDict(check_in_data(lat="95")), meta={"csrf": False})
        assert not bad.validate() and "lat" in bad.errors
    assert first.status == records.CREATED and again.status == records.DUPLICATE and again.id == first.id
    saved = db.session.get(CheckIn, first.id)
    assert saved.via == "sync" and "clock_skew" not in saved.flag_list


def test_synced_photo_is_linked_by_client_id(app, station, point):
    """A photo that arrived first through the attachments API is linked to its check-in."""
    data = check_in_data(point_id=str(point.id))
    with app.test_request_context():
        from werkzeug.datastructures import FileStorage

        photo = attachments.store_photo(station.officer, FileStorage(io.BytesIO(_jpeg_with_gps())),
                                        client_id=data["client_id"])
        db.session.commit()
        form = CheckInForm(formdata=MultiDict(data), meta={"csrf": False})
        assert form.validate()
        outcome = services.record_check_in(station.officer, form, via="sync", commit=True)
    assert db.session.get(CheckIn, outcome.id).photo_id == photo.id


# --- today and history -------------------------------------------------------------------------------

def test_today_shows_required_points_done_and_missing(client, officer, station, point):
    """Done once of twice is still missing one; a check-in outside a point's window does not count."""
    point.required_per_day = 2
    night = make_point(station.station, station.grid_a, name="夜市", window_start=datetime(2000, 1, 1, 20).time(),
                       window_end=datetime(2000, 1, 1, 23).time())
    make_point(station.station, station.grid_b, name="城西网吧")
    make_check_in(officer, point)
    morning = datetime.now(LOCAL_TZ).replace(hour=9, minute=0).astimezone(timezone.utc)
    make_check_in(officer, night, morning)
    page = text(client.get("/patrol/today"))
    assert "城西网吧" not in page
    assert re.search(r'id="point-status-%d">.*?还差 1 次.*?1/2' % point.id, page, re.S)
    assert re.search(r'id="point-status-%d">.*?还差 1 次.*?20:00 至 23:00.*?1 次不在时段内' % night.id, page, re.S)
    assert re.search(r'id="points-progress">1/3<', page)


def test_history_is_paged_with_htmx(client, officer, point):
    start = datetime.now(timezone.utc) - timedelta(days=2)
    for n in range(25):
        make_check_in(officer, point, start + timedelta(minutes=n))
    page = text(client.get("/patrol/today"))
    assert page.count('class="checkin-row') == 20 and 'hx-get="/patrol/history?page=2"' in page
    more = client.get("/patrol/history?page=2", headers=HX)
    assert more.status_code == 200 and "<html" not in text(more)
    assert text(more).count('class="checkin-row') == 5 and "page=3" not in text(more)
    assert "HX-Request" in more.headers["Vary"]


def test_officer_sees_only_own_check_ins(client, officer, station, point):
    make_check_in(station.officer_b, point, note="别人的签到")
    assert "别人的签到" not in text(client.get("/patrol/today"))


def test_home_shows_todays_counts(client, officer, station, point):
    make_check_in(officer, point)
    make_point(station.station, station.grid_a, name="小学", required_per_day=2)
    page = text(client.get("/"))
    assert re.search(r'id="count-checkins">1<', page) and re.search(r'id="count-points-missing">2<', page)


# --- the command room's feed -------------------------------------------------------------------------

def test_feed_shows_todays_check_ins_with_flags_and_polls_cheaply(auth, client, station, point):
    make_check_in(station.officer, point, flags="outside_geofence")
    auth.login("demo-command")
    page = text(client.get("/patrol/feed"))
    assert "张伟" in page and "城东菜市场" in page and "不在必到点范围内" in page
    latest = services.latest_check_in_id(station.station.id)
    assert f'hx-get="/patrol/feed/items?after={latest}"' in page and 'hx-trigger="every 10s"' in page
    markers = json.loads(html.unescape(re.search(r"data-markers='([^']*)'", page).group(1)))
    assert markers[0]["flagged"] is True and markers[0]["lat"] == MARKET[0]
    quiet = client.get(f"/patrol/feed/items?after={latest}", headers=HX)
    assert quiet.status_code == 204 and quiet.data == b""
    make_check_in(station.officer_b, point)
    fresh = client.get(f"/patrol/feed/items?after={latest}", headers=HX)
    assert fresh.status_code == 200 and "赵敏" in text(fresh) and "<html" not in text(fresh)


def test_feed_map_converts_to_gcj02_only_for_display(app, station, point):
    check_in = make_check_in(station.officer, point)
    wgs = services.map_markers([check_in], "wgs84")[0]
    gcj = services.map_markers([check_in], "gcj02")[0]
    assert (wgs["lat"], wgs["lon"]) == MARKET
    assert 0.001 < abs(gcj["lon"] - MARKET[1]) < 0.01, "a few hundred metres' shift in China"
    assert db.session.get(CheckIn, check_in.id).lat == MARKET[0]


# --- roles -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("login, url, status", [
    ("demo-case", "/patrol/check-in", 403),
    ("demo-command", "/patrol/check-in", 403),
    ("demo-case", "/patrol/today", 403),
    ("demo-officer", "/patrol/feed", 403),
    ("demo-case", "/patrol/feed", 200),
    ("demo-leader", "/patrol/check-in", 200),
    ("demo-leader", "/patrol/feed", 200),
])
def test_who_may_open_which_patrol_page(auth, client, station, login, url, status):
    auth.login(login)
    assert client.get(url).status_code == status


def test_case_team_cannot_record_a_check_in(auth, station, point):
    auth.login("demo-case")
    assert auth.post("/patrol/check-ins", check_in_data(point_id=point.id)).status_code == 403
    assert count(CheckIn) == 0


def test_logged_out_htmx_post_is_told_to_log_in(client, station):
    response = client.post("/patrol/check-ins", data=check_in_data(), headers=HX)
    assert response.status_code in (400, 401)
