"""Sync API views: POST /api/sync, POST /api/sync/attachments, GET /api/openapi.json.

The queue on the phone outlives the CSRF token, so these endpoints are exempt from it and are
protected instead by the session, a custom header (a cross-site page cannot add one without a CORS
preflight, which we never answer) and a same-origin check on Origin/Referer.
"""
import time
from datetime import datetime, timezone
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from blueprints.sync import bp, openapi
from blueprints.sync.attachments import PhotoError, find_attachment, photo_message, store_photo
from blueprints.sync.batch import MAX_BATCH_BYTES, EnvelopeError, parse_envelope, save_items
from extensions import csrf, db
from web import json_error, requires

SYNC_HEADER = "pingan-sync"
RETRY_AFTER_S = 5  # seconds: long enough for a busy SQLite writer or a restart to pass
LOCK_RETRIES = 3  # a batch is retried this often (it committed nothing) before answering 503


def _busy(retry_after: int = RETRY_AFTER_S):
    response = json_error(503, "busy", _("The server is busy. Try again in a moment."))
    response.headers["Retry-After"] = str(retry_after)
    return response


def _same_origin(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.netloc == request.host


def sync_endpoint(view):
    """Checks every sync endpoint shares: refusal switch, session, header, origin, wrong user."""

    @wraps(view)
    def checked(*args, **kwargs):
        if request.headers.get("X-Requested-With") != SYNC_HEADER:
            return json_error(403, "header", _("This address only accepts requests from the Pingan app."))
        # Browsers always send Origin on a POST; a native client sends neither (the header above
        # already stops cross-site pages).
        origin = request.headers.get("Origin") or request.headers.get("Referer")
        if origin is not None and not _same_origin(origin):
            return json_error(403, "origin", _("Requests from another site are not accepted."))
        claimed = request.headers.get("X-Pingan-User")
        if claimed is not None and claimed != str(current_user.id):
            # The page that queued the items belongs to another account than this session.
            return json_error(409, "wrong_user", _("These records belong to another account."))
        return view(*args, **kwargs)

    logged_in = requires()(checked)

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_app.config.get("SYNC_REFUSE"):  # tests: "the server is unreachable", first of all
            return _busy()
        return logged_in(*args, **kwargs)

    return wrapped


def begin_write() -> None:
    """On SQLite, make a write the first statement of the transaction.

    A transaction that read first (loading the user) and writes after another connection
    committed fails at once with "database is locked" (a stale WAL snapshot) instead of waiting
    for busy_timeout; taking the write lock first makes concurrent batches wait their turn.
    """
    if db.engine.dialect.name == "sqlite":
        db.session.rollback()
        db.session.execute(text("UPDATE sync_receipts SET kind = kind WHERE 1 = 0"))


@bp.errorhandler(OperationalError)
def database_busy(error):
    """A locked SQLite file or a dropped PostgreSQL connection is 'try again', never a 500."""
    db.session.rollback()
    current_app.logger.warning("sync: database busy: %s", error.orig)
    return _busy()


@bp.post("/api/sync")
@csrf.exempt
@sync_endpoint
def sync():
    """Create a batch of queued field records; each item answers created, duplicate or rejected."""
    if request.content_length is not None and request.content_length > MAX_BATCH_BYTES:
        return json_error(413, "too_large", _("Send at most 1 MB per request."))
    request.max_content_length = MAX_BATCH_BYTES  # also bounds a chunked body without a length
    try:
        items = parse_envelope(request.get_json(silent=True))
    except EnvelopeError as error:
        return json_error(error.status, error.code, error.message)
    for attempt in range(LOCK_RETRIES):
        try:
            begin_write()
            results = save_items(current_user._get_current_object(), items)
            db.session.commit()
            break
        except OperationalError:
            # Nothing of the batch was committed: start again in a fresh transaction (SQLite's
            # snapshot of the first try may be stale), then give up with 503 + Retry-After.
            db.session.rollback()
            if attempt == LOCK_RETRIES - 1:
                raise
            time.sleep(0.05 * 2**attempt)
    return jsonify({"results": results, "server_time": datetime.now(timezone.utc).isoformat()})


@bp.post("/api/sync/attachments")
@csrf.exempt
@sync_endpoint
def create_attachment():
    """Receive one photo of a queued record (cleaned, stored once per client_id and field)."""
    client_id, field = openapi.valid_client_id(request.form.get("client_id")), request.form.get("field", "photo")
    upload = request.files.get("file")
    if client_id is None or not openapi.FIELD_NAME.fullmatch(field or "") or upload is None:
        return json_error(400, "bad_request", _("Send client_id (a UUID v4), field and file."))
    begin_write()
    existing = find_attachment(current_user.station_id, client_id, field)
    if existing is not None:
        return jsonify(_attachment_json(existing)), 200
    try:
        attachment = store_photo(current_user, upload, client_id=client_id, field=field)
    except PhotoError as error:
        status = 413 if error.code == "too_large" else 422
        return json_error(status, error.code, photo_message(error.code), field=field)
    db.session.commit()
    return jsonify(_attachment_json(attachment)), 201


def _attachment_json(attachment) -> dict:
    return {"id": attachment.id, "client_id": attachment.client_id, "field": attachment.field,
            "sha256": attachment.sha256, "size": attachment.size, "width": attachment.width,
            "height": attachment.height}


@bp.get("/api/openapi.json")
def openapi_document():
    """The public description of the sync API, with every registered kind's data schema."""
    response = jsonify(openapi.document())
    response.headers["Cache-Control"] = "no-cache"
    return response
