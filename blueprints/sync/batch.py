"""One sync batch: check the envelope, then validate and save each item with its kind's form.

An item never fails the batch: whatever goes wrong with one record (invalid data, an unknown kind,
a bug in a service) answers `rejected` for that record and the others are saved. Only a busy
database (OperationalError) stops the whole batch, so the phone retries it later.
"""
import math
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import MultiDict
from wtforms.fields import FieldList, SelectMultipleField

from blueprints.sync.records import KINDS, REJECTED, Outcome
from extensions import db

MAX_ITEMS = 100
MAX_BATCH_BYTES = 1024 * 1024  # 1 MB: 100 check-ins are ~30 kB; photos travel separately
MAX_DEVICE_ID = 100
MULTI_VALUED = (SelectMultipleField, FieldList)  # the only fields a list of values is meant for
ENVELOPE_FIELDS = ("csrf_token", "client_id", "recorded_at")  # never taken from `data`


class EnvelopeError(ValueError):
    """The request as a whole is unusable: answered with `status` and nothing is saved."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Item:
    client_id: str
    kind: str
    recorded_at: str
    data: dict


def parse_envelope(body) -> list[Item]:
    """The items of a `{"device_id", "items"}` body, or EnvelopeError (400, or 413 over the limit)."""
    if not isinstance(body, dict):
        raise EnvelopeError(400, "malformed", _("Send a JSON object with device_id and items."))
    device_id = body.get("device_id")
    if not isinstance(device_id, str) or not 1 <= len(device_id) <= MAX_DEVICE_ID:
        raise EnvelopeError(400, "device_id", _("device_id must be a text of 1 to 100 characters."))
    items = body.get("items")
    if not isinstance(items, list):
        raise EnvelopeError(400, "items", _("items must be a list."))
    if len(items) > MAX_ITEMS:
        raise EnvelopeError(413, "too_many", _("Send at most 100 items per request."))
    parsed = []
    for index, item in enumerate(items):
        if not (isinstance(item, dict) and isinstance(item.get("data"), dict)
                and all(isinstance(item.get(key), str) for key in ("client_id", "kind", "recorded_at"))):
            raise EnvelopeError(400, "item", _("Item %(n)s needs client_id, kind and recorded_at (texts) "
                                               "and data (an object).", n=index))
        parsed.append(Item(item["client_id"], item["kind"], item["recorded_at"], item["data"]))
    return parsed


def save_items(user, items: list[Item]) -> list[dict]:
    """Save every item for `user` (never an officer named in the payload); not committed."""
    return [save_item(user, item).as_result(item.client_id) for item in items]


def save_item(user, item: Item) -> Outcome:
    """Validate one item with its kind's form and hand it to the kind's service."""
    kind = KINDS.get(item.kind)
    if kind is None:
        return Outcome(REJECTED, errors={"kind": [_("Unknown record kind.")]})
    try:
        formdata = to_formdata(item)
    except FieldValueError as error:
        return Outcome(REJECTED, errors={error.field: [error.message]})
    form = kind.form_class(formdata=formdata, meta={"csrf": False})
    for name, value in item.data.items():
        if isinstance(value, list) and name in form._fields and not isinstance(form[name], MULTI_VALUED):
            return Outcome(REJECTED, errors={name: [_("Expected a single value.")]})
    if not form.validate() or not_finite(form):
        return Outcome(REJECTED, errors=flat_errors(form))
    try:
        with db.session.begin_nested():
            return kind.service(user, form, via="sync", commit=False)
    except OperationalError:
        raise  # the database is busy: the whole batch is retried or answered 503
    except Exception:  # a bug in one kind must not lose the rest of the batch
        current_app.logger.exception("sync: %s %s failed", item.kind, item.client_id)
        return Outcome(REJECTED, errors={"_server": [_("The server could not save this record. "
                                                      "It stays on the phone; try again later.")]})


class FieldValueError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def to_formdata(item: Item) -> MultiDict:
    """The item as the form data an online POST would carry (JSON scalars become text)."""
    formdata = MultiDict()
    for name, value in item.data.items():
        if name in ENVELOPE_FIELDS:
            continue
        for scalar in value if isinstance(value, list) else [value]:
            text = _as_text(name, scalar)
            if text is not None:
                formdata.add(name, text)
    formdata["client_id"] = _as_text("client_id", item.client_id)
    formdata["recorded_at"] = _as_text("recorded_at", item.recorded_at)
    return formdata


def _as_text(name: str, value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "y" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FieldValueError(name, _("Not a valid number."))
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise FieldValueError(name, _("Contains characters that cannot be stored.")) from None
        if "\x00" in value:  # PostgreSQL refuses NUL in text
            raise FieldValueError(name, _("Contains characters that cannot be stored."))
        return value
    raise FieldValueError(name, _("Expected a text, a number or a list of them."))


def not_finite(form) -> bool:
    """NaN slips through NumberRange (every comparison with it is false): refuse it here."""
    bad = False
    for field in form:
        value = field.data
        if (isinstance(value, float) and not math.isfinite(value)) or \
                (isinstance(value, Decimal) and not value.is_finite()):
            field.errors = [*field.errors, _("Not a valid number.")]
            bad = True
    return bad


def flat_errors(form) -> dict[str, list[str]]:
    """Form errors as {field: [message]} with plain strings (form-level errors under "_form")."""
    errors = {}
    for name, messages in form.errors.items():
        key = "_form" if name is None else str(name)
        if isinstance(messages, dict):  # a FormField: flatten one level
            errors[key] = [f"{sub}: {m}" for sub, ms in messages.items() for m in ms]
        else:
            errors[key] = [str(message) for message in messages]
    return errors
