"""Missing persons: reports (online, offline sync, from a profile), sightings, found, cancel, roles,
bad input, the notice and photo audits, profiles and the command room's officers by distance."""
import io
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image
from sqlalchemy import func, select

from blueprints.home.services import LOCAL_TZ
from extensions import db
from models import AuditEvent, CheckIn, SyncReceipt
from models.missing import AlertState, CaseEvent, MissingPersonCase, Sighting, VulnerableProfile
from tests import factories

SYNC_HEADERS = {"X-Requested-With": "pingan-sync"}


def local_input(delta_minutes: int = 0) -> str:
    return (datetime.now(LOCAL_TZ) + timedelta(minutes=delta_minutes)).strftime("%Y-%m-%dT%H:%M")


def jpeg(colour=(200, 30, 30)) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), colour).save(buffer, "JPEG")
    buffer.seek(0)
    return buffer


def report_data(**overrides) -> dict:
    data = {"client_id": str(uuid.uuid4()), "recorded_at": datetime.now(timezone.utc).isoformat(),
            "name": "李秀英", "sex": "female", "age": "78", "height_cm": "155", "clothing": "蓝色外套",
            "risk": "dementia", "last_seen_at": local_input(-20), "last_seen_place": "城东菜市场南门",
            "lat": "35.7986", "lon": "112.9237", "circumstances": "买菜后没有回家",
            "reporter_name": "王芳", "reporter_phone": "13812345678"}
    data.update(overrides)
    return data


def version(station_id: int) -> int:
    state = db.session.get(AlertState, station_id)
    return state.version if state else 0


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def resident(station):
    address = factories.make_address(station.station, station.grid_a)
    return factories.make_resident(station.station, address, name="李秀英", doc_number=factories.id_number(
        124, birth="19480305"))


# --- reporting ---------------------------------------------------------------------------------------

def test_report_from_profile_is_prefilled(client, auth, station, resident):
    """"报告走失" on a profile opens the form with name, sex, age, risk, height and description filled in."""
    factories.make_profile(station.station, resident, height_cm=152)
    auth.login()
    page = client.get(f"/missing/profiles/{resident.id}")
    assert page.status_code == 200
    assert f'href="/missing/new?resident_id={resident.id}"' in page.get_data(as_text=True)
    form = client.get(f"/missing/new?resident_id={resident.id}").get_data(as_text=True)
    assert 'value="李秀英"' in form and 'value="152"' in form and "白发，驼背" in form
    assert re.search(rf'<option selected value="{resident.id}">', form)
    assert re.search(r'<option selected value="dementia">', form)
    assert 'name="last_seen_at" id="last_seen_at" value="20' in form  # now, editable


def test_report_opens_a_case_raises_the_alert_and_uses_the_profile_photo(client, auth, station, resident):
    profile = factories.make_profile(station.station, resident)
    auth.login()
    client.post(f"/missing/profiles/{resident.id}", data={
        "csrf_token": auth.csrf(), "risk": "dementia", "photo": (jpeg(), "face.jpg")}, content_type="multipart/form-data")
    db.session.refresh(profile)
    assert profile.photo_id is not None
    before = version(station.station.id)
    response = auth.post("/missing/", data=report_data(resident_id=str(resident.id)))
    assert response.status_code == 303
    case = db.session.scalars(select(MissingPersonCase)).one()
    assert response.headers["Location"] == f"/missing/{case.id}?reported=1"
    assert (case.status, case.resident_id, case.photo_id) == ("open", resident.id, profile.photo_id)
    assert case.reporter_phone == "+8613812345678" and case.last_seen_lat == pytest.approx(35.7986)
    assert version(station.station.id) == before + 1
    assert db.session.get(AlertState, station.station.id).open_cases == 1
    assert [e.action for e in db.session.scalars(select(CaseEvent))] == ["reported"]
    page = client.get(f"/missing/{case.id}?reported=1").get_data(as_text=True)
    assert "警报已发至全所" in page and "城东菜市场南门" in page and "138****5678" in page


def test_report_with_htmx_redirects_and_same_client_id_is_one_case(client, auth, station):
    auth.login()
    data = report_data()
    first = auth.post("/missing/", data=data, headers={"HX-Request": "true"})
    assert first.status_code == 204 and first.headers["HX-Redirect"].startswith("/missing/")
    again = auth.post("/missing/", data=data, headers={"HX-Request": "true"})
    assert again.headers["HX-Redirect"] == first.headers["HX-Redirect"]
    assert count(MissingPersonCase) == 1


@pytest.mark.parametrize("field, value, message", [
    ("last_seen_at", "future", "时间在将来"),
    ("last_seen_at", "", "最后见到的时间"),
    ("last_seen_place", "", "最后在哪里见到"),
    ("name", "", "姓名"),
    ("reporter_phone", "12345", "电话号码无效"),
    ("lat", "95", "这不是有效的位置"),
])
def test_bad_report_answers_422_beside_the_field_and_saves_nothing(client, auth, station, field, value, message):
    auth.login()
    value = local_input(90) if value == "future" else value
    response = auth.post("/missing/", data=report_data(**{field: value}), headers={"HX-Request": "true"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body and 'id="report-form"' in body
    assert count(MissingPersonCase) == 0 and count(SyncReceipt) == 0


@pytest.mark.parametrize("upload, message", [
    ((io.BytesIO(b"not an image at all"), "x.jpg"), "不是照片"),
    ((io.BytesIO(b"\xff" * (10 * 1024 * 1024 + 10)), "huge.jpg"), "照片过大"),
])
def test_report_photo_not_an_image_or_too_large_is_refused(client, auth, station, upload, message):
    auth.login()
    data = report_data(photo=upload, csrf_token=auth.csrf())
    response = client.post("/missing/", data=data, content_type="multipart/form-data", headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(MissingPersonCase) == 0


def test_report_with_its_own_photo(client, auth, station):
    auth.login()
    data = report_data(photo=(jpeg(), "p.jpg"), csrf_token=auth.csrf())
    assert client.post("/missing/", data=data, content_type="multipart/form-data").status_code == 303
    assert db.session.scalars(select(MissingPersonCase)).one().photo_id is not None


def test_offline_report_synced_later_opens_the_case(client, auth, station):
    """The same form validates a queued report in /api/sync; its retry is a duplicate, not a second case."""
    auth.login()
    data = report_data()
    item = {"client_id": data.pop("client_id"), "kind": "missing_report", "recorded_at": data.pop("recorded_at"),
            "data": data}
    body = {"device_id": "phone-1", "items": [item]}
    result = client.post("/api/sync", json=body, headers=SYNC_HEADERS).get_json()["results"][0]
    assert result["status"] == "created"
    case = db.session.get(MissingPersonCase, result["id"])
    assert case.via == "sync" and case.is_open and version(station.station.id) == 1
    again = client.post("/api/sync", json=body, headers=SYNC_HEADERS).get_json()["results"][0]
    assert again["status"] == "duplicate" and count(MissingPersonCase) == 1


def test_the_report_page_offers_the_command_room_phone_for_offline(client, auth, station):
    station.station.phone = "0356-5221110"
    db.session.commit()
    auth.login()
    page = client.get("/missing/new").get_data(as_text=True)
    assert 'href="tel:0356-5221110"' in page and "尚未发出任何警报" in page
    assert 'data-outbox="missing_report"' in page


def test_without_a_station_phone_the_configured_command_room_phone_is_offered(app, client, auth, station):
    auth.login()
    assert f'href="tel:{app.config["COMMAND_ROOM_PHONE"]}"' in client.get("/missing/new").get_data(as_text=True)


@pytest.mark.parametrize("login, status", [("demo-officer", 200), ("demo-command", 200), ("demo-leader", 200),
                                           ("demo-case", 403)])
def test_who_may_report(client, auth, station, login, status):
    auth.login(login)
    assert client.get("/missing/new").status_code == status
    assert auth.post("/missing/", data=report_data()).status_code == (303 if status == 200 else 403)


def test_case_team_report_through_sync_is_rejected(client, auth, station):
    auth.login("demo-case")
    data = report_data()
    item = {"client_id": data.pop("client_id"), "kind": "missing_report", "recorded_at": data.pop("recorded_at"),
            "data": data}
    result = client.post("/api/sync", json={"device_id": "d", "items": [item]}, headers=SYNC_HEADERS).get_json()
    assert result["results"][0]["status"] == "rejected" and count(MissingPersonCase) == 0


def test_a_resident_of_another_station_cannot_be_reported_as_on_file(client, auth, station):
    other = factories.make_station()
    stranger = factories.make_resident(other, name="外人")
    auth.login()
    response = auth.post("/missing/", data=report_data(resident_id=str(stranger.id)))
    assert response.status_code == 422 and "此人不在档" in response.get_data(as_text=True)
    assert client.get(f"/missing/new?resident_id={stranger.id}").status_code == 404


# --- seeing cases ------------------------------------------------------------------------------------

@pytest.mark.parametrize("login", ["demo-officer", "officer-b", "demo-command", "demo-case", "demo-leader"])
def test_every_station_user_sees_open_cases(client, auth, station, login):
    case = factories.make_missing_case(station.station, station.command)
    auth.login(login)
    assert "李秀英" in client.get("/missing/").get_data(as_text=True)
    assert client.get(f"/missing/{case.id}").status_code == 200


def test_another_station_sees_nothing(client, auth, station):
    case = factories.make_missing_case(station.station, station.command, photo_id=None)
    other = factories.make_station()
    factories.make_user(other, "command", username="other-command")
    auth.login("other-command")
    assert client.get(f"/missing/{case.id}").status_code == 404
    assert client.get(f"/missing/{case.id}/notice").status_code == 404
    assert client.get(f"/missing/photos/case/{case.id}").status_code == 404
    assert "李秀英" not in client.get("/missing/").get_data(as_text=True)


# --- sightings ---------------------------------------------------------------------------------------

def sighting_data(case, **overrides) -> dict:
    data = {"client_id": str(uuid.uuid4()), "recorded_at": datetime.now(timezone.utc).isoformat(),
            "case_id": str(case.id), "seen_at": local_input(-5), "place": "南街公交站", "lat": "35.801",
            "lon": "112.93", "note": "穿蓝色外套，往北走"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("login", ["demo-officer", "demo-case", "demo-command"])
def test_any_station_user_adds_a_sighting_to_the_timeline(client, auth, station, login):
    case = factories.make_missing_case(station.station, station.command)
    before = version(station.station.id)
    auth.login(login)
    response = auth.post(f"/missing/{case.id}/sightings", data=sighting_data(case), headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"].startswith(f"/missing/{case.id}")
    sighting = db.session.scalars(select(Sighting)).one()
    assert sighting.place == "南街公交站" and version(station.station.id) == before + 1
    page = client.get(f"/missing/{case.id}").get_data(as_text=True)
    assert "南街公交站" in page and "穿蓝色外套，往北走" in page


def test_sighting_with_photo_and_synced_sighting(client, auth, station):
    case = factories.make_missing_case(station.station, station.command)
    auth.login()
    data = sighting_data(case, photo=(jpeg(), "s.jpg"), csrf_token=auth.csrf())
    assert client.post(f"/missing/{case.id}/sightings", data=data, content_type="multipart/form-data").status_code == 303
    assert db.session.scalars(select(Sighting)).one().photo_id is not None
    queued = sighting_data(case, place="北关桥头")
    item = {"client_id": queued.pop("client_id"), "kind": "sighting", "recorded_at": queued.pop("recorded_at"),
            "data": queued}
    result = client.post("/api/sync", json={"device_id": "d", "items": [item]}, headers=SYNC_HEADERS).get_json()
    assert result["results"][0]["status"] == "created" and count(Sighting) == 2


def test_sighting_bad_input_and_closed_case(client, auth, station):
    case = factories.make_missing_case(station.station, station.command)
    auth.login()
    future = auth.post(f"/missing/{case.id}/sightings", data=sighting_data(case, seen_at=local_input(60)),
                       headers={"HX-Request": "true"})
    assert future.status_code == 422 and "时间在将来" in future.get_data(as_text=True)
    no_place = auth.post(f"/missing/{case.id}/sightings", data=sighting_data(case, place=""),
                         headers={"HX-Request": "true"})
    assert no_place.status_code == 422
    case.status, case.closed_at = "found", datetime.now(timezone.utc)
    db.session.commit()
    closed = auth.post(f"/missing/{case.id}/sightings", data=sighting_data(case), headers={"HX-Request": "true"})
    assert closed.status_code == 409 and "已结案" in closed.get_data(as_text=True)
    assert count(Sighting) == 0


# --- found and cancelled -----------------------------------------------------------------------------

def found_data(**overrides) -> dict:
    data = {"found_at": local_input(-1), "found_place": "城西公园长椅", "found_by": "张伟", "condition": "well",
            "lat": "35.79", "lon": "112.91", "note": "已送回家"}
    data.update(overrides)
    return data


def test_officer_marks_found_closes_the_case_and_fills_places_found_before(client, auth, station, resident):
    profile = factories.make_profile(station.station, resident)
    case = factories.make_missing_case(station.station, station.command, resident_id=resident.id)
    before = version(station.station.id)
    auth.login("demo-officer")
    assert auth.post(f"/missing/{case.id}/found", data=found_data()).status_code == 303
    db.session.refresh(case)
    db.session.refresh(profile)
    assert (case.status, case.found_place, case.found_by, case.condition) == ("found", "城西公园长椅", "张伟", "well")
    assert version(station.station.id) == before + 1 and db.session.get(AlertState, station.station.id).open_cases == 0
    assert [p["place"] for p in profile.places_found] == ["城西公园长椅"] and profile.places_found[0]["case_id"] == case.id
    assert "城西公园长椅" in client.get(f"/missing/profiles/{resident.id}").get_data(as_text=True)
    assert "已找到" in client.get(f"/missing/{case.id}").get_data(as_text=True)


def test_found_before_last_seen_and_in_the_future_are_refused(client, auth, station):
    case = factories.make_missing_case(station.station, station.command, minutes_ago=30)
    auth.login("demo-command")
    early = auth.post(f"/missing/{case.id}/found", data=found_data(found_at=local_input(-120)))
    assert early.status_code == 422 and "早于最后见到" in early.get_data(as_text=True)
    future = auth.post(f"/missing/{case.id}/found", data=found_data(found_at=local_input(60)))
    assert future.status_code == 422 and "时间在将来" in future.get_data(as_text=True)
    db.session.refresh(case)
    assert case.is_open and case.found_place is None


def test_closing_a_closed_case_is_a_conflict(client, auth, station):
    case = factories.make_missing_case(station.station, station.command)
    auth.login("demo-command")
    assert auth.post(f"/missing/{case.id}/found", data=found_data()).status_code == 303
    again = auth.post(f"/missing/{case.id}/found", data=found_data(found_place="别处"))
    assert again.status_code == 409 and "已结案" in again.get_data(as_text=True)
    cancel = auth.post(f"/missing/{case.id}/cancel", data={"reason": "误报"})
    assert cancel.status_code == 409
    db.session.refresh(case)
    assert (case.status, case.found_place) == ("found", "城西公园长椅")


def test_command_cancels_with_a_reason(client, auth, station):
    case = factories.make_missing_case(station.station, station.officer)
    auth.login("demo-command")
    empty = auth.post(f"/missing/{case.id}/cancel", data={"reason": ""})
    assert empty.status_code == 422 and "撤销的原因" in empty.get_data(as_text=True)
    assert auth.post(f"/missing/{case.id}/cancel", data={"reason": "老人自己回家了"}).status_code == 303
    db.session.refresh(case)
    assert case.status == "cancelled" and case.close_note == "老人自己回家了"
    assert "老人自己回家了" in client.get(f"/missing/{case.id}").get_data(as_text=True)


@pytest.mark.parametrize("login, found_status, cancel_status", [
    ("demo-officer", 303, 403), ("demo-case", 403, 403), ("demo-leader", 303, 303)])
def test_who_may_close(client, auth, station, login, found_status, cancel_status):
    auth.login(login)
    first = factories.make_missing_case(station.station, station.command)
    second = factories.make_missing_case(station.station, station.command)
    assert auth.post(f"/missing/{first.id}/found", data=found_data()).status_code == found_status
    assert auth.post(f"/missing/{second.id}/cancel", data={"reason": "误报"}).status_code == cancel_status


def test_case_page_shows_only_the_forms_the_role_may_use(client, auth, station):
    case = factories.make_missing_case(station.station, station.command)
    auth.login("demo-case")
    page = client.get(f"/missing/{case.id}").get_data(as_text=True)
    assert 'id="sighting-form"' in page and 'id="found-form"' not in page and 'id="cancel-form"' not in page
    auth.logout()
    auth.login("demo-officer")
    page = client.get(f"/missing/{case.id}").get_data(as_text=True)
    assert 'id="found-form"' in page and 'id="cancel-form"' not in page and 'id="create-task"' not in page


# --- the command room ---------------------------------------------------------------------------------

def _check_in(officer, station, lat, lon, minutes_ago=10):
    now = datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)
    db.session.add(CheckIn(station_id=station.id, officer_id=officer.id, lat=lat, lon=lon, method="gps",
                           recorded_at=now, received_at=now, local_day=now.astimezone(LOCAL_TZ).date()))
    db.session.commit()


def test_command_sees_officers_inside_the_radius_first_and_a_task_link(client, auth, station):
    case = factories.make_missing_case(station.station, station.officer)  # last seen 35.7986, 112.9237
    _check_in(station.officer_b, station.station, 35.7990, 112.9240)  # ~50 m away
    _check_in(station.officer, station.station, 35.9000, 112.9237, minutes_ago=60)  # ~11 km away
    _check_in(station.officer, station.station, 35.8500, 112.9237, minutes_ago=5)  # latest: ~5.7 km away
    auth.login("demo-command")
    page = client.get(f"/missing/{case.id}?radius=1000").get_data(as_text=True)
    officers = re.findall(r'data-inside="(yes|no)"><strong>([^<]+)</strong>', page)
    assert officers[0] == ("yes", "赵敏") and ("no", "张伟") in officers and "5.7 km" in page
    link = re.search(r'id="create-task" href="([^"]+)"', page).group(1)
    assert link.startswith("/tasks/new?") and "kind=search" in link and f"source=missing:{case.id}" in link
    assert "data-radius=\"1000\"" in page
    bad = client.get(f"/missing/{case.id}?radius=5")
    assert bad.status_code == 200 and "data-radius=\"2000\"" in bad.get_data(as_text=True)


# --- notice, photos, audit ----------------------------------------------------------------------------

def test_notice_is_printable_and_audited(client, auth, station):
    case = factories.make_missing_case(station.station, station.command)
    auth.login("demo-case")
    page = client.get(f"/missing/{case.id}/notice")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "寻人启事" in text and "李秀英" in text and "missing.css" in text
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "print_notice")).one()
    assert (event.object_type, event.object_id, event.user_id) == ("MissingPersonCase", case.id, station.case.id)


def test_photo_downloads_are_audited_and_station_only(client, auth, station):
    auth.login()
    assert client.post("/missing/", data=report_data(photo=(jpeg(), "p.jpg"), csrf_token=auth.csrf()),
                       content_type="multipart/form-data").status_code == 303
    case = db.session.scalars(select(MissingPersonCase)).one()
    photo = client.get(f"/missing/photos/case/{case.id}")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert photo.data[:2] == b"\xff\xd8" and b"Exif" not in photo.data[:200]
    audits = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "photo_download")).all()
    assert len(audits) == 1 and audits[0].object_id == case.id
    revalidated = client.get(f"/missing/photos/case/{case.id}", headers={"If-None-Match": photo.headers["ETag"]})
    assert revalidated.status_code == 304
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "photo_download")) == 1
    assert client.get(f"/missing/photos/other/{case.id}").status_code == 404
    auth.logout()
    assert client.get(f"/missing/photos/case/{case.id}").status_code in (302, 401)


# --- profiles -----------------------------------------------------------------------------------------

def test_profile_is_saved_with_photo_and_tags_the_resident(client, auth, station, resident):
    auth.login()
    assert client.get(f"/missing/profiles/{resident.id}/edit").status_code == 200
    data = {"csrf_token": auth.csrf(), "risk": "dementia", "height_cm": "150", "description": "白发",
            "routines": "早上去菜市场", "medical_notes": "阿尔茨海默病", "emergency_contacts": "女儿 王芳 13812345678",
            "photo": (jpeg(), "face.jpg")}
    response = client.post(f"/missing/profiles/{resident.id}", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    profile = db.session.scalars(select(VulnerableProfile)).one()
    db.session.refresh(resident)
    assert profile.photo_id and profile.medical_notes == "阿尔茨海默病" and "wander_risk" in resident.tag_list
    assert "李秀英" in client.get("/missing/profiles").get_data(as_text=True)
    assert client.get(f"/missing/photos/profile/{profile.id}").status_code == 200


def test_profile_bad_photo_keeps_what_was_typed(client, auth, station, resident):
    auth.login()
    data = {"csrf_token": auth.csrf(), "risk": "dementia", "routines": "早上去菜市场",
            "photo": (io.BytesIO(b"%PDF-1.4 not a photo"), "x.pdf")}
    response = client.post(f"/missing/profiles/{resident.id}", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "不是照片" in body and "早上去菜市场" in body
    assert count(VulnerableProfile) == 0


def test_profile_roles_and_grids(client, auth, station, resident):
    auth.login("demo-case")
    assert client.get(f"/missing/profiles/{resident.id}").status_code == 200
    assert client.get(f"/missing/profiles/{resident.id}/edit").status_code == 403
    auth.logout()
    auth.login("officer-b")  # another grid's officer: the ledger's scope applies
    assert client.get(f"/missing/profiles/{resident.id}").status_code == 404


# --- demo ---------------------------------------------------------------------------------------------

def test_demo_seeds_profiles_and_closed_repeat_episodes_but_no_open_case(app):
    import demo

    ctx = demo.seed("small", 5)
    cases = db.session.scalars(select(MissingPersonCase)).all()
    assert ctx.extra["missing"]["closed_cases"] == len(cases) > 0 and all(not c.is_open for c in cases)
    profiles = db.session.scalars(select(VulnerableProfile)).all()
    assert profiles and all("wander_risk" in p.resident.tag_list for p in profiles)
    assert sum(len(p.places_found) for p in profiles) == sum(1 for c in cases if c.resident_id and c.status == "found")
    assert db.session.get(AlertState, ctx.station.id).open_cases == 0


def test_officers_list_reads_each_officers_latest_check_in_of_this_station(client, auth, station):
    """Two check-ins at the same instant: the later one counts (list, distance and map marker); a
    check-in older than 12 hours or recorded at another station does not; times print in station time."""
    import html
    import json

    case = factories.make_missing_case(station.station, station.command)  # last seen 35.7986, 112.9237
    at = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=7)
    other = factories.make_station()

    def check_in(officer, station_id, lat, lon, when):
        db.session.add(CheckIn(station_id=station_id, officer_id=officer.id, lat=lat, lon=lon, method="gps",
                               recorded_at=when, received_at=when, local_day=when.astimezone(LOCAL_TZ).date()))
        db.session.commit()

    check_in(station.officer, station.station.id, 35.8500, 112.9237, at)  # ~5.7 km
    check_in(station.officer, station.station.id, 35.7990, 112.9240, at)  # same instant, later id: ~50 m
    check_in(station.officer_b, station.station.id, 35.7987, 112.9237, at - timedelta(hours=13))  # too old
    check_in(station.officer_b, other.id, 35.7987, 112.9237, at)  # another station's
    auth.login("demo-command")
    page = client.get(f"/missing/{case.id}?radius=1000").get_data(as_text=True)
    items = re.findall(r'<li class="[^"]*" data-inside="(yes|no)"><strong>([^<]+)</strong>(.*?)</li>', page, re.S)
    assert [(inside, name) for inside, name, _ in items] == [("yes", "张伟"), ("no", "赵敏")]
    local = at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    assert "0.1 km" in items[0][2] and f'<time datetime="{at.isoformat()}">{local}</time>' in items[0][2]
    assert "km" not in items[1][2] and "<time" not in items[1][2]
    markers = json.loads(html.unescape(re.search(r"data-markers='([^']*)'", page).group(1)))
    assert [(m["label"], m["lat"]) for m in markers if m["kind"] == "officer"] == [("张伟", 35.7990)]
