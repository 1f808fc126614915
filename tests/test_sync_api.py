"""POST /api/sync and /api/sync/attachments: every status code, idempotency, per-item results.

A small test-only kind ("note", saved as an AuditEvent) keeps these tests independent of the real
field forms; tests/test_sync_checkin.py runs the same path with the patrol check-in.
"""
import io
import json
import uuid

import pytest
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from PIL import Image
from sqlalchemy import func, select
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from blueprints.sync import records
from blueprints.sync.attachments import find_attachment
from extensions import db
from models import Attachment, AuditEvent, SyncReceipt

HEADERS = {"X-Requested-With": "pingan-sync"}


class NoteForm(records.FieldRecordMixin, FlaskForm):
    """A field form with one required text, one bounded number and a photo."""

    note = StringField("Note", validators=[DataRequired(), Length(max=200)])
    count = IntegerField("Count", validators=[Optional(), NumberRange(min=0, max=10)])
    photo = FileField("Photo")


def record_note(user, form, *, via="online", commit=True):
    """The test kind's service: an AuditEvent stands in for the record; the photo is linked."""

    def create():
        photo = find_attachment(user.station_id, form.client_id.data, "photo")
        return AuditEvent(action="test_note", user_id=user.id, station_id=user.station_id,
                          reason=form.note.data[:200],
                          detail={"via": via, "count": form.count.data, "photo": photo.id if photo else None,
                                  "recorded_at": form.recorded_at.data.isoformat()})

    return records.save_once(user, "note", form, create, commit=commit)


@pytest.fixture
def note_kind():
    """Register the test kind for one test, then remove it (the registry is global)."""
    records.register("note", NoteForm, record_note, summary="Test note")
    yield records.KINDS["note"]
    records.KINDS.pop("note", None)


def new_id() -> str:
    return str(uuid.uuid4())


def item(client_id=None, note="门口有可疑车辆", **data) -> dict:
    return {"client_id": client_id or new_id(), "kind": "note", "recorded_at": "2026-11-03T09:15:00+08:00",
            "data": {"note": note, **data}}


def sync(client, items, headers=None, **envelope):
    body = {"device_id": "test-device", "items": items, **envelope}
    return client.post("/api/sync", json=body, headers={**HEADERS, **(headers or {})})


def notes() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "test_note")))


def jpeg_with_gps() -> bytes:
    """A small JPEG whose EXIF carries a GPS position (it must not survive the upload)."""
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


# --- happy path and idempotency -------------------------------------------------------------------

def test_batch_creates_records_for_the_logged_in_officer(auth, client, station, note_kind):
    """Two items are created, by the session's user, marked as synced, with the device's time."""
    auth.login()
    response = sync(client, [item(note="一"), item(note="二", count=3, officer_id=station.leader.id)])
    assert response.status_code == 200
    body = response.get_json()
    assert [r["status"] for r in body["results"]] == ["created", "created"]
    assert all(isinstance(r["id"], int) and r["errors"] == {} for r in body["results"])
    assert body["server_time"].endswith("+00:00")
    rows = notes()
    assert {r.reason for r in rows} == {"一", "二"}
    assert {r.user_id for r in rows} == {station.officer.id}, "the officer is the session's, not the payload's"
    assert rows[0].detail["via"] == "sync" and rows[0].detail["recorded_at"] == "2026-11-03T09:15:00+08:00"


def test_same_client_id_twice_is_duplicate_with_the_same_id(auth, client, station, note_kind):
    """A retried item (lost response) answers duplicate with the first record's id; one row."""
    auth.login()
    first = item()
    created = sync(client, [first]).get_json()["results"][0]
    again = sync(client, [first]).get_json()["results"][0]
    assert created["status"] == "created" and again["status"] == "duplicate"
    assert again["id"] == created["id"]
    assert len(notes()) == 1


def test_same_client_id_twice_in_one_batch(auth, client, station, note_kind):
    """The same item twice in one batch is created once, then duplicate."""
    auth.login()
    one = item()
    results = sync(client, [one, one]).get_json()["results"]
    assert [r["status"] for r in results] == ["created", "duplicate"]
    assert results[0]["id"] == results[1]["id"] and len(notes()) == 1


def test_same_client_id_with_other_data_is_a_conflict(auth, client, station, note_kind):
    """Reusing a client_id for different data is rejected, never an overwrite."""
    auth.login()
    client_id = new_id()
    created = sync(client, [item(client_id, note="原来的")]).get_json()["results"][0]
    conflict = sync(client, [item(client_id, note="改过的")]).get_json()["results"][0]
    assert conflict["status"] == "rejected" and conflict["id"] == created["id"]
    assert "client_id" in conflict["errors"]
    assert [r.reason for r in notes()] == ["原来的"]


def test_another_officer_cannot_claim_a_client_id(auth, client, station, note_kind):
    """The same client_id and data from another officer of the station is a conflict, not theirs."""
    auth.login()
    one = item()
    sync(client, [one])
    auth.logout()
    auth.login("officer-b")
    result = sync(client, [one]).get_json()["results"][0]
    assert result["status"] == "rejected"
    assert len(notes()) == 1 and notes()[0].user_id == station.officer.id


def test_invalid_items_are_rejected_without_failing_the_batch(auth, client, station, note_kind):
    """Bad data, an unknown kind, a bad id or time: rejected one by one; the good item is saved."""
    auth.login()
    good = item(note="好的")
    bad = [
        item(note=""),                                    # required
        item(note="x" * 201),                             # too long
        item(count=11),                                   # out of range
        item(count="many"),                               # not a number
        item(count=float("nan")),                         # not finite
        item(note={"nested": 1}),                         # not a scalar
        item(note="a\x00b"),                              # NUL cannot be stored (PostgreSQL)
        {**item(), "kind": "no_such_kind"},
        {**item(), "client_id": "not-a-uuid"},
        {**item(), "client_id": str(uuid.uuid1())},       # not v4
        {**item(), "recorded_at": "yesterday"},
        {**item(), "recorded_at": "1999-12-31T23:00:00Z"},
        {**item(), "recorded_at": "9999-12-31T23:59:59-01:00"},
    ]
    results = sync(client, [*bad, good]).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * len(bad) + ["created"]
    assert all(r["errors"] for r in results[:-1])
    assert "note" in results[0]["errors"] and "count" in results[2]["errors"] and "kind" in results[7]["errors"]
    assert [r.reason for r in notes()] == ["好的"]
    assert db.session.scalar(select(func.count(SyncReceipt.id))) == 1


def test_json_scalars_become_form_values(auth, client, station, note_kind):
    """Numbers, integral floats and numeric text are all accepted for an integer field."""
    auth.login()
    results = sync(client, [item(count=2), item(count=3.0), item(count="4"), item(count=None)]).get_json()["results"]
    assert [r["status"] for r in results] == ["created"] * 4
    assert sorted((r.detail["count"] is None, r.detail["count"]) for r in notes()) == \
        [(False, 2), (False, 3), (False, 4), (True, None)]


def test_empty_batch_is_fine(auth, client, station):
    """An empty batch answers 200 (the outbox uses it to check the session)."""
    auth.login()
    response = sync(client, [])
    assert response.status_code == 200 and response.get_json()["results"] == []


def test_a_failing_service_rejects_only_its_item(auth, client, station, note_kind, monkeypatch):
    """A bug in one kind's service answers rejected for that item, not a 500 for the batch."""
    auth.login()

    def broken(user, form, *, via, commit):
        if form.note.data == "boom":
            db.session.add(AuditEvent(action="half-done"))
            db.session.flush()
            raise RuntimeError("bug")
        return record_note(user, form, via=via, commit=commit)

    monkeypatch.setitem(records.KINDS, "note", records.RecordKind("note", NoteForm, broken))
    results = sync(client, [item(note="boom"), item(note="fine")]).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "created"]
    assert "_server" in results[0]["errors"]
    assert [r.reason for r in notes()] == ["fine"]
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "half-done")) == 0


# --- status codes ---------------------------------------------------------------------------------

def test_no_session_is_401_json(client, station, note_kind):
    """Without a session the answer is 401 JSON (the outbox pauses), not a redirect."""
    response = sync(client, [item()])
    assert response.status_code == 401 and response.is_json
    assert response.get_json()["error"] == "unauthenticated"
    assert notes() == []


def test_missing_header_is_403(auth, client, station, note_kind):
    """Without X-Requested-With: pingan-sync the request is refused (a cross-site form can't add it)."""
    auth.login()
    response = client.post("/api/sync", json={"device_id": "d", "items": [item()]})
    assert response.status_code == 403 and response.get_json()["error"] == "header"
    assert notes() == []


@pytest.mark.parametrize("origin_header", [{"Origin": "https://evil.example"}, {"Origin": "null"},
                                           {"Referer": "https://evil.example/page"}])
def test_another_origin_is_403(auth, client, station, note_kind, origin_header):
    """An Origin (or Referer) of another site is refused."""
    auth.login()
    response = sync(client, [item()], headers=origin_header)
    assert response.status_code == 403 and response.get_json()["error"] == "origin"
    assert notes() == []


def test_same_origin_is_accepted(auth, client, station, note_kind):
    """The app's own origin passes (as the browser sends it)."""
    auth.login()
    response = sync(client, [item()], headers={"Origin": "http://localhost"})
    assert response.status_code == 200


def test_items_of_another_user_are_409(auth, client, station, note_kind):
    """X-Pingan-User naming another account: nothing is saved under the session's user."""
    auth.login()
    response = sync(client, [item()], headers={"X-Pingan-User": str(station.officer_b.id)})
    assert response.status_code == 409 and response.get_json()["error"] == "wrong_user"
    assert notes() == []
    assert sync(client, [item()], headers={"X-Pingan-User": str(station.officer.id)}).status_code == 200


def test_csrf_token_is_not_needed(auth, client, station, note_kind):
    """The queue outlives the form's CSRF token: /api/sync is exempt (header + origin instead)."""
    auth.login()
    assert sync(client, [item()]).status_code == 200


@pytest.mark.parametrize("body", [None, "text", [], {"items": []}, {"device_id": "", "items": []},
                                  {"device_id": "d" * 101, "items": []}, {"device_id": "d"},
                                  {"device_id": "d", "items": {}}, {"device_id": "d", "items": [1]},
                                  {"device_id": "d", "items": [{"client_id": "x", "kind": "note"}]},
                                  {"device_id": "d", "items": [{**item(), "data": []}]}])
def test_malformed_envelope_is_400_with_a_message(auth, client, station, note_kind, body):
    """An envelope that is not {device_id, items:[{client_id, kind, recorded_at, data}]} is 400."""
    auth.login()
    if body is None:
        response = client.post("/api/sync", data="{not json", content_type="application/json", headers=HEADERS)
    else:
        response = client.post("/api/sync", json=body, headers=HEADERS)
    assert response.status_code == 400
    assert response.get_json()["message"]
    assert notes() == []


def test_more_than_100_items_is_413(auth, client, station, note_kind):
    """101 items are refused as a whole; nothing is saved."""
    auth.login()
    response = sync(client, [item() for _ in range(101)])
    assert response.status_code == 413 and response.get_json()["error"] == "too_many"
    assert notes() == []


def test_more_than_1_mb_is_413(auth, client, station, note_kind):
    """A body over 1 MB is refused before it is read."""
    auth.login()
    response = sync(client, [item(note="x" * 150, pad="y" * 11_000) for _ in range(100)])
    assert response.status_code == 413
    assert notes() == []


def test_100_items_are_fine(auth, client, station, note_kind):
    """The limit itself passes."""
    auth.login()
    results = sync(client, [item(note=f"#{n}") for n in range(100)]).get_json()["results"]
    assert len(results) == 100 and {r["status"] for r in results} == {"created"}


def test_refuse_switch_answers_503_with_retry_after(app, auth, client, station, note_kind):
    """SYNC_REFUSE (used by browser tests to play 'unreachable') answers 503 + Retry-After."""
    auth.login()
    app.config["SYNC_REFUSE"] = True
    try:
        response = sync(client, [item()])
    finally:
        app.config["SYNC_REFUSE"] = False
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    assert notes() == []


def test_locked_database_is_503_not_500(auth, client, station, note_kind, monkeypatch):
    """SQLite 'database is locked' after retries is 503 + Retry-After; nothing half-saved."""
    from sqlalchemy.exc import OperationalError

    from blueprints.sync import routes

    auth.login()
    calls = []

    def locked(user, items):
        calls.append(1)
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(routes, "save_items", locked)
    monkeypatch.setattr(routes.time, "sleep", lambda s: None)
    response = sync(client, [item()])
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert len(calls) == routes.LOCK_RETRIES


def test_locked_database_once_is_retried(auth, client, station, note_kind, monkeypatch):
    """A lock that goes away on the second try is invisible to the phone."""
    from sqlalchemy.exc import OperationalError

    from blueprints.sync import routes

    auth.login()
    real, calls = routes.save_items, []

    def flaky(user, items):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return real(user, items)

    monkeypatch.setattr(routes, "save_items", flaky)
    response = sync(client, [item()])
    assert response.status_code == 200 and response.get_json()["results"][0]["status"] == "created"
    assert len(notes()) == 1


def test_get_is_405(auth, client, station):
    """Only POST is offered."""
    auth.login()
    assert client.get("/api/sync").status_code == 405


# --- attachments ----------------------------------------------------------------------------------

def upload(client, client_id, data: bytes, field="photo", headers=None):
    return client.post("/api/sync/attachments", headers={**HEADERS, **(headers or {})},
                       data={"client_id": client_id, "field": field,
                             "file": (io.BytesIO(data), "photo.jpg", "image/jpeg")},
                       content_type="multipart/form-data")


def test_photo_then_record_links_a_cleaned_jpeg(app, auth, client, station, note_kind):
    """The photo goes first (201), then the record links it; GPS EXIF is gone; a retry is 200."""
    auth.login()
    client_id = new_id()
    response = upload(client, client_id, jpeg_with_gps())
    assert response.status_code == 201
    stored = response.get_json()
    assert upload(client, client_id, jpeg_with_gps()).get_json()["id"] == stored["id"]
    assert upload(client, client_id, jpeg_with_gps()).status_code == 200
    result = sync(client, [item(client_id)]).get_json()["results"][0]
    assert result["status"] == "created"
    assert notes()[0].detail["photo"] == stored["id"]
    from blueprints.sync.attachments import attachment_path

    saved = Image.open(attachment_path(db.session.get(Attachment, stored["id"])))
    assert saved.format == "JPEG" and not saved.getexif()
    assert db.session.scalar(select(func.count(Attachment.id))) == 1


def test_attachment_status_codes(auth, client, station):
    """400 without a file or with a bad id or field, 422 for a non-image, 413 over 10 MB, 401, 403."""
    assert upload(client, new_id(), jpeg_with_gps()).status_code == 401
    auth.login()
    assert upload(client, new_id(), jpeg_with_gps(), headers={"X-Requested-With": "x"}).status_code == 403
    assert upload(client, new_id(), jpeg_with_gps(), headers={"Origin": "http://evil.example"}).status_code == 403
    assert upload(client, "nope", jpeg_with_gps()).status_code == 400
    assert upload(client, new_id(), jpeg_with_gps(), field="../etc").status_code == 400
    no_file = client.post("/api/sync/attachments", headers=HEADERS, data={"client_id": new_id(), "field": "photo"})
    assert no_file.status_code == 400 and no_file.get_json()["message"]
    not_image = upload(client, new_id(), b"%PDF-1.4 not a photo")
    assert not_image.status_code == 422 and not_image.get_json()["error"] == "not_image"
    big = upload(client, new_id(), b"\xff\xd8" + b"0" * (10 * 1024 * 1024 + 10))
    assert big.status_code == 413
    assert db.session.scalar(select(func.count(Attachment.id))) == 0


# --- the OpenAPI document -------------------------------------------------------------------------

def test_openapi_document_describes_both_endpoints_and_the_kinds(client, note_kind):
    """OpenAPI 3.1 with both paths; the test kind's data schema comes from its form."""
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert {"/api/sync", "/api/sync/attachments"} <= set(doc["paths"])
    note = doc["components"]["schemas"]["NoteData"]
    assert note["required"] == ["note"]
    assert note["properties"]["note"]["maxLength"] == 200
    count = note["properties"]["count"]["anyOf"]
    assert {"type": "integer", "minimum": 0, "maximum": 10} in [
        {k: s[k] for k in ("type", "minimum", "maximum") if k in s} for s in count]
    assert note["x-attachments"] == ["photo"]
    statuses = set(doc["paths"]["/api/sync"]["post"]["responses"])
    assert {"200", "400", "401", "403", "409", "413", "503"} <= statuses


def test_schema_and_server_agree_on_valid_and_invalid_items(auth, client, station, note_kind):
    """A valid example passes the schema and is created; schema-invalid items are rejected."""
    import jsonschema_rs  # schemathesis's validator

    doc = client.get("/api/openapi.json").get_json()
    request_schema = {"$ref": "#/components/schemas/SyncRequest", "components": doc["components"]}
    validator = jsonschema_rs.Draft202012Validator(request_schema, validate_formats=True)
    auth.login()
    valid = item(count=2)
    assert validator.is_valid({"device_id": "d", "items": [valid]})
    assert sync(client, [valid]).get_json()["results"][0]["status"] == "created"
    invalid = [item(note=""), item(note=" "), item(note="x" * 201), item(count=11), item(count=-1),
               item(count=[1]), {**item(), "kind": "unknown"}, {**item(), "client_id": "1234"},
               {**item(), "recorded_at": "not a time"}, {**item(), "data": {}}]
    for bad in invalid:
        assert not validator.is_valid({"device_id": "d", "items": [bad]}), bad
        result = sync(client, [bad]).get_json()["results"][0]
        assert result["status"] == "rejected", (bad, result)
    assert len(notes()) == 1
