"""Field records created exactly once, online or from the offline queue.

Every field form (check-in, visit, rental, ...) registers here as a *kind*: its Flask-WTF form class
(the single source of field rules) and its create service. The online view and POST /api/sync both
end in the same service, and the service saves through `save_once`, which makes the record
idempotent on (station, kind, client_id) with a unique receipt in the database.
"""
import hashlib
import json
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from wtforms import HiddenField
from wtforms.validators import DataRequired, ValidationError

from extensions import db
from models import SyncReceipt

CREATED, DUPLICATE, REJECTED = "created", "duplicate", "rejected"


@dataclass
class Outcome:
    """What happened to one record: created, duplicate (same client_id, same data) or rejected."""

    status: str
    id: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    record: Any = None

    def as_result(self, client_id: str) -> dict:
        return {"client_id": client_id, "status": self.status, "id": self.id, "errors": self.errors}


@dataclass(frozen=True)
class RecordKind:
    """A registered field form: its name on the wire, form class and create service."""

    kind: str
    form_class: type
    service: Callable  # service(user, form, *, via: str, commit: bool) -> Outcome
    page: str | None = None  # endpoint of the page holding the form (precached for offline use)
    summary: str = ""


KINDS: dict[str, RecordKind] = {}


def register(kind: str, form_class: type, service: Callable, *, page: str | None = None,
             summary: str = "") -> None:
    """Make a field form syncable: one line per form, next to the form's blueprint."""
    KINDS[kind] = RecordKind(kind, form_class, service, page, summary)


# --- fields every field form carries -------------------------------------------------------------

def _valid_uuid(form, field):
    try:
        if uuid.UUID(str(field.data)).version != 4:
            raise ValueError
    except ValueError:
        raise ValidationError(_l("Not a valid record id (UUID v4).")) from None
    field.data = str(uuid.UUID(str(field.data)))


def parse_recorded_at(value: str) -> datetime:
    """An ISO-8601 time from the device; a time without zone is taken as UTC."""
    text = str(value).strip().upper().replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    try:
        moment.astimezone(timezone.utc)  # 9999-12-31T23:59-01:00 cannot be stored: refuse it here
    except OverflowError:
        raise ValueError("time out of range") from None
    return moment


def _valid_recorded_at(form, field):
    try:
        field.data = parse_recorded_at(field.data)
    except (TypeError, ValueError):
        raise ValidationError(_l("Not a valid time (ISO 8601 expected).")) from None
    if field.data.year < 2000:
        raise ValidationError(_l("Not a valid time (ISO 8601 expected)."))


class FieldRecordMixin:
    """Mix into a field form: the hidden client_id and recorded_at that make it offline-safe.

    Both have a label of their own though it is never shown: WTForms makes the label of a field
    without one through its translations, and the first such call of a request loads the wtforms
    catalogue from disk (~0.5 ms of every page with a field form)."""

    client_id = HiddenField("Client Id", validators=[DataRequired(message=_l("Missing record id.")), _valid_uuid])
    recorded_at = HiddenField("Recorded At", validators=[DataRequired(message=_l("Missing time.")), _valid_recorded_at])


def payload_hash(form, exclude: tuple[str, ...] = ("csrf_token", "photo")) -> str:
    """A hash of the validated data, equal for the online POST and the synced copy of one record."""
    data = {}
    for name, form_field in form._fields.items():
        if name in exclude:
            continue
        value = form_field.data
        if isinstance(value, datetime):
            value = value.astimezone(timezone.utc).isoformat()
        data[name] = value
    blob = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def save_once(user, kind: str, form, create: Callable[[], Any], *, commit: bool) -> Outcome:
    """Create the record built by `create()` unless this (station, kind, client_id) exists.

    The unique receipt is inserted in a savepoint before the record: when another request (or an
    earlier try) already holds it, the insert fails in the database, the savepoint rolls back and
    the first record's id is answered — `duplicate` when the data is the same, `rejected` with a
    conflict when the same client_id arrives with different data (never an overwrite). The receipt
    comes first on purpose: `create()` may check state the first record changed (a task's feedback).
    The receipt is written with two Core statements, not as an ORM object: nothing reads it back, and
    each ORM flush of it cost more than the statement itself.
    """
    client_id, digest = form.client_id.data, payload_hash(form)
    receipts = SyncReceipt.__table__
    try:
        with db.session.begin_nested():
            receipt_id = db.session.execute(insert(receipts).values(
                station_id=user.station_id, kind=kind, client_id=client_id, payload_hash=digest,
                user_id=user.id)).inserted_primary_key[0]
            record = create()
            db.session.add(record)
            db.session.flush()
            db.session.execute(update(receipts).where(receipts.c.id == receipt_id).values(record_id=record.id))
    except IntegrityError:
        existing = db.session.scalars(
            select(SyncReceipt).where(SyncReceipt.station_id == user.station_id, SyncReceipt.kind == kind,
                                      SyncReceipt.client_id == client_id)
        ).first()
        if existing is None:  # the integrity error was not ours: let the caller see it
            raise
        if existing.payload_hash != digest or existing.user_id != user.id:
            return Outcome(REJECTED, existing.record_id,
                           {"client_id": [str(_l("This record id was already used for different data."))]})
        return Outcome(DUPLICATE, existing.record_id)
    record_id = record.id  # read before the commit expires the record (no SELECT to answer its id)
    if commit:
        db.session.commit()
    return Outcome(CREATED, record_id, record=record)


@contextmanager
def answer_from_memory():
    """Commits inside the block leave what the session holds loaded, not expired.

    For a view that answers a save with the record just written (a check-in and its point) or with
    messages in the user's language: as this transaction left them, instead of a new transaction
    reading them again after the commit (for a check-in: BEGIN IMMEDIATE and three SELECTs, about
    1 ms; for a visit, the user for the locale). Only for such an answer: an object changed behind
    the ORM's back (a summary kept by SQL) would stay as it was before.
    """
    session = db.session()
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = True


def submit_online(user, kind: str, form) -> Outcome:
    """The online POST of a validated field form: its photo first, then the registered service.

    One path for every field form's view. On refusal nothing of the record stays (rollback) and
    each message is put beside its field on `form` (or among the form's own errors).
    """
    from blueprints.sync import attachments

    photo = form._fields.get("photo")
    form.stored_photos = {}  # what attachments.record_photo() answers for this record
    if photo is not None and getattr(photo.data, "filename", None):
        try:
            form.stored_photos["photo"] = attachments.store_photo(user, photo.data, client_id=form.client_id.data)
        except attachments.PhotoError as error:
            db.session.rollback()
            message = attachments.photo_message(error.code)
            photo.errors = [*photo.errors, message]
            return Outcome(REJECTED, errors={"photo": [message]})
    outcome = KINDS[kind].service(user, form, via="online", commit=True)
    if outcome.status == DUPLICATE:
        db.session.commit()  # a retry may bring the photo the first try lost
    elif outcome.status == REJECTED:
        db.session.rollback()
        for name, messages in outcome.errors.items():
            target = form._fields.get(name)
            if target is not None:
                target.errors = [*target.errors, *messages]
            else:
                form.form_errors.extend(messages)
    return outcome
