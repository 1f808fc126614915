"""The OpenAPI 3.1 document of the sync API, with each kind's data schema read from its form class.

The form class stays the single source of field rules: types come from the WTForms field classes,
`required`, lengths and ranges from their validators. A field the form fills from a file (a photo)
is not part of `data`: it is sent first to /api/sync/attachments with the same client_id.
"""
import re
import uuid

from flask import current_app
from wtforms import fields as f
from wtforms import validators as v

from blueprints.sync.batch import MAX_DEVICE_ID, MAX_ITEMS
from blueprints.sync.records import KINDS

FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,19}")
UUID4_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
# Forms post text: a numeric field also accepts a number written as text (the browser's outbox
# sends form fields as they are); its range is then checked by the server only.
NUMERIC_TEXT = {"type": "string", "pattern": r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"}
SKIPPED = ("csrf_token", "client_id", "recorded_at")


def valid_client_id(value) -> str | None:
    """The canonical text of a UUID v4, or None."""
    try:
        parsed = uuid.UUID(str(value))
    except ValueError:
        return None
    return str(parsed) if parsed.version == 4 else None


def _base_type(field) -> dict:
    if isinstance(field, (f.IntegerField,)):
        return {"type": "integer"}
    if isinstance(field, (f.FloatField, f.DecimalField)):
        return {"type": "number"}
    if isinstance(field, f.BooleanField):
        return {"type": "boolean"}
    if isinstance(field, f.SelectMultipleField):
        return {"type": "array", "items": _choices_schema(field)}
    if isinstance(field, (f.SelectField, f.RadioField)):
        return _choices_schema(field)
    if isinstance(field, f.DateTimeLocalField):
        return {"type": "string", "format": "date-time"}
    if isinstance(field, f.DateField):
        return {"type": "string", "format": "date"}
    if isinstance(field, f.TimeField):
        return {"type": "string", "format": "time"}
    if isinstance(field, f.DateTimeField):
        return {"type": "string", "format": "date-time"}
    return {"type": "string"}


def _choices_schema(field) -> dict:
    numeric = field.coerce is int
    schema = {"type": "integer" if numeric else "string"}
    choices = field.choices
    if choices and not isinstance(choices, dict) and not callable(choices):
        values = [c[0] if isinstance(c, (tuple, list)) else c for c in choices]
        if all(isinstance(x, (str, int)) for x in values):
            schema["enum"] = [x for x in values if x != ""] or values
    return schema


def field_schema(field) -> tuple[dict, bool]:
    """(JSON schema, required) of one bound WTForms field."""
    schema = _base_type(field)
    required = False
    for validator in field.validators:
        if isinstance(validator, (v.DataRequired, v.InputRequired)):
            required = True
            if schema["type"] == "string" and "enum" not in schema and "format" not in schema:
                schema.setdefault("pattern", r"\S")  # DataRequired refuses blank text
        elif isinstance(validator, v.Length):
            if validator.min is not None and validator.min > 0:
                schema["minLength"] = validator.min
            if validator.max is not None and validator.max >= 0:
                schema["maxLength"] = validator.max
        elif isinstance(validator, v.NumberRange):
            if validator.min is not None:
                schema["minimum"] = validator.min
            if validator.max is not None:
                schema["maximum"] = validator.max
        elif isinstance(validator, v.AnyOf):
            schema["enum"] = list(validator.values)
        elif isinstance(validator, v.Regexp) and isinstance(validator.regex.pattern, str):
            schema["pattern"] = validator.regex.pattern
        elif isinstance(validator, v.UUID):
            schema["format"] = "uuid"
        elif isinstance(validator, v.Email):
            schema["format"] = "email"
    if field.description:
        schema["description"] = str(field.description)
    if field.label and field.label.text:
        schema["title"] = str(field.label.text)
    if schema["type"] in ("integer", "number"):
        schema = {"anyOf": [schema, NUMERIC_TEXT]} | {k: schema.pop(k) for k in ("title", "description")
                                                       if k in schema}
    if not required:
        schema = {"anyOf": [schema, {"type": "null"}]} if "anyOf" not in schema else \
            {**schema, "anyOf": [*schema["anyOf"], {"type": "null"}]}
    return schema, required


def data_schema(form_class) -> dict:
    """The JSON schema of a kind's `data`: every form field except the envelope and file fields."""
    form = form_class(formdata=None, meta={"csrf": False})
    properties, required, files = {}, [], []
    for name, field in form._fields.items():
        if name in SKIPPED:
            continue
        if isinstance(field, (f.FileField, f.MultipleFileField)):
            files.append(name)
            continue
        properties[name], is_required = field_schema(field)
        if is_required:
            required.append(name)
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if files:
        schema["x-attachments"] = files
        schema["description"] = ("Files (" + ", ".join(files) + ") are sent before the record to "
                                 "POST /api/sync/attachments with the same client_id.")
    return schema


def _item_schema(kind: str | None, data_ref: dict) -> dict:
    return {
        "type": "object",
        "required": ["client_id", "kind", "recorded_at", "data"],
        "properties": {
            "client_id": {"type": "string", "pattern": UUID4_PATTERN,
                          "description": "UUID v4 minted on the phone when the form opened."},
            "kind": {"const": kind} if kind else {"type": "string"},
            "recorded_at": {"type": "string", "format": "date-time",
                            "description": "Device time when the form was submitted (ISO 8601)."},
            "data": data_ref,
        },
    }


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _busy() -> dict:
    response = _error("Busy (or refusing sync): retry after Retry-After seconds; nothing was saved.")
    response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return response


COMMON_PARAMETERS = [
    {"name": "X-Requested-With", "in": "header", "required": True,
     "schema": {"type": "string", "enum": ["pingan-sync"]},
     "description": "Proves the request comes from the app (a cross-site page cannot set it)."},
    {"name": "X-Pingan-User", "in": "header", "required": False, "schema": {"type": "string"},
     "description": "The user id the queued items belong to; 409 when the session is another user."},
]


def _common_errors() -> dict:
    return {
        "401": _error("Not logged in: the session cookie is missing or has ended."),
        "403": _error("Missing X-Requested-With, or Origin/Referer of another site."),
        "409": _error("X-Pingan-User names another account than the session's."),
        "503": _busy(),
    }


def document() -> dict:
    """The whole OpenAPI 3.1 document, built from the kinds registered now."""
    schemas = {
        "Error": {"type": "object", "required": ["error", "message"],
                  "properties": {"error": {"type": "string"}, "message": {"type": "string"}}},
        "Result": {"type": "object", "required": ["client_id", "status", "id", "errors"], "properties": {
            "client_id": {"type": "string"},
            "status": {"enum": ["created", "duplicate", "rejected"]},
            "id": {"type": ["integer", "null"]},
            "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        }},
        "Attachment": {"type": "object", "required": ["id", "client_id", "field", "sha256"], "properties": {
            "id": {"type": "integer"}, "client_id": {"type": "string"}, "field": {"type": "string"},
            "sha256": {"type": "string"}, "size": {"type": "integer"}, "width": {"type": "integer"},
            "height": {"type": "integer"}}},
    }
    variants = []
    for name in sorted(KINDS):
        kind = KINDS[name]
        schema_name = "".join(part.title() for part in name.split("_")) + "Data"
        schemas[schema_name] = data_schema(kind.form_class)
        if kind.summary:
            schemas[schema_name]["title"] = kind.summary
        variants.append(_item_schema(name, {"$ref": f"#/components/schemas/{schema_name}"}))
    item = {"oneOf": variants} if variants else _item_schema(None, {"type": "object"})
    schemas["SyncRequest"] = {
        "type": "object", "required": ["device_id", "items"],
        "properties": {"device_id": {"type": "string", "minLength": 1, "maxLength": MAX_DEVICE_ID},
                       "items": {"type": "array", "maxItems": MAX_ITEMS, "items": item}},
    }
    schemas["SyncResponse"] = {
        "type": "object", "required": ["results", "server_time"],
        "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
                       "server_time": {"type": "string", "format": "date-time"}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Pingan sync API", "version": str(current_app.config.get("APP_VERSION", "1")),
                 "description": "Field records queued offline on a phone, sent in batches, created "
                                "exactly once per (station, kind, client_id). Session cookie auth."},
        "paths": {"/api/sync": {"post": _sync_operation()},
                  "/api/sync/attachments": {"post": _attachment_operation()}},
        "components": {"schemas": schemas,
                       "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "session"}}},
        "security": [{"session": []}],
    }


def _sync_operation() -> dict:
    return {
        "operationId": "syncRecords",
        "summary": "Create queued field records; every item answers created, duplicate or rejected.",
        "parameters": COMMON_PARAMETERS,
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/SyncRequest"}}}},
        "responses": {
            "200": {"description": "One result per item, in order; a rejected item never fails the batch.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SyncResponse"}}}},
            "400": _error("Malformed envelope: not a JSON object, no device_id, items not a list of items."),
            "413": _error("More than 100 items or more than 1 MB."),
            **_common_errors(),
        },
    }


def _attachment_operation() -> dict:
    return {
        "operationId": "uploadAttachment",
        "summary": "Upload a photo of a queued record (idempotent by client_id and field).",
        "parameters": COMMON_PARAMETERS,
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["client_id", "field", "file"],
            "properties": {"client_id": {"type": "string", "pattern": UUID4_PATTERN},
                           "field": {"type": "string", "pattern": "^" + FIELD_NAME.pattern + "$"},
                           "file": {"type": "string", "format": "binary",
                                    "description": "A JPEG, PNG or WebP photo (at most 10 MB)."}}}}}},
        "responses": {
            "200": {"description": "Already received: the first copy.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Attachment"}}}},
            "201": {"description": "Stored (re-encoded as JPEG without EXIF or GPS).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Attachment"}}}},
            "400": _error("client_id, field or file missing or malformed."),
            "413": _error("The photo is larger than 10 MB."),
            "422": _error("The file is not a JPEG, PNG or WebP photo."),
            **_common_errors(),
        },
    }
