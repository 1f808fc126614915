"""The real field form through /api/sync: patrol check-ins, online and offline copies of one record."""
import uuid

from sqlalchemy import select

from extensions import db
from models import CheckIn, PatrolPoint
from tests.test_sync_api import HEADERS, jpeg_with_gps, upload


def _point(station) -> PatrolPoint:
    point = PatrolPoint(station_id=station.station.id, grid_id=station.grid_a.id, name="幸福小区东门",
                        lat=31.2304, lon=121.4737, radius_m=50)
    db.session.add(point)
    db.session.commit()
    return point


def _fields(point, client_id=None, **overrides) -> dict:
    """The fields as the phone's form has them (text, as FormData sends them)."""
    return {"client_id": client_id or str(uuid.uuid4()), "recorded_at": "2026-11-03T21:15:00+08:00",
            "lat": "31.2304100", "lon": "121.4737200", "accuracy": "12.0", "point_id": str(point.id),
            "qr_token": "", "note": "东门正常", **overrides}


def _item(fields: dict) -> dict:
    data = {k: v for k, v in fields.items() if k not in ("client_id", "recorded_at")}
    return {"client_id": fields["client_id"], "kind": "checkin", "recorded_at": fields["recorded_at"], "data": data}


def _sync(client, *items):
    response = client.post("/api/sync", json={"device_id": "phone", "items": list(items)}, headers=HEADERS)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["results"]


def test_synced_check_in_is_the_officers_with_the_device_time(auth, client, station):
    """A queued check-in becomes a CheckIn of the session's officer, via sync, at the device's time."""
    point = _point(station)
    auth.login()
    fields = _fields(point)
    result = _sync(client, _item(fields))[0]
    assert result["status"] == "created"
    row = db.session.get(CheckIn, result["id"])
    assert row.officer_id == station.officer.id and row.via == "sync" and row.point_id == point.id
    assert row.recorded_at.isoformat().startswith("2026-11-03T13:15:00")
    assert row.client_id == fields["client_id"] and row.within_geofence is True


def test_lost_online_answer_then_sync_is_a_duplicate(auth, client, station):
    """The online POST saved it but the phone never saw the answer and queued it: duplicate, same id."""
    point = _point(station)
    auth.login()
    fields = _fields(point)
    online = auth.post("/patrol/check-ins", data=fields)
    assert online.status_code in (200, 303)
    first = db.session.scalars(select(CheckIn)).one()
    result = _sync(client, _item(fields))[0]
    assert result == {"client_id": fields["client_id"], "status": "duplicate", "id": first.id, "errors": {}}
    assert len(db.session.scalars(select(CheckIn)).all()) == 1


def test_check_in_photo_goes_first_and_is_linked(auth, client, station):
    """The outbox's order: photo to /api/sync/attachments, then the record, which links it."""
    point = _point(station)
    auth.login()
    fields = _fields(point)
    photo = upload(client, fields["client_id"], jpeg_with_gps()).get_json()
    result = _sync(client, _item(fields))[0]
    assert db.session.get(CheckIn, result["id"]).photo_id == photo["id"]


def test_invalid_and_foreign_check_ins_are_rejected(auth, client, station):
    """Bad coordinates, a forged code, and a role that may not check in: rejected item by item."""
    point = _point(station)
    auth.login()
    results = _sync(client, _item(_fields(point, lat="91")), _item(_fields(point, qr_token="99-123456")),
                    _item(_fields(point, lat="nan")), _item(_fields(point)))
    assert [r["status"] for r in results] == ["rejected", "rejected", "rejected", "created"]
    assert "lat" in results[0]["errors"] and "qr_token" in results[1]["errors"]
    auth.logout()
    auth.login("demo-case")
    assert _sync(client, _item(_fields(point)))[0]["status"] == "rejected"
