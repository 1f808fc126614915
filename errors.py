"""Error responses in the user's language: a page, an htmx toast, or JSON, as the client asked."""
from flask import Flask, make_response, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from extensions import db
from web import json_error, wants_fragment, wants_json

RETRY_AFTER_S = 5  # seconds; the same as /api/sync's: a busy SQLite writer or a restart passes by then


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood.")),
        403: (_("Not allowed"), _("Your role may not open this page.")),
        404: (_("Not found"), _("This page or record does not exist.")),
        405: (_("Not allowed"), _("This action is not available here.")),
        413: (_("Too large"), _("The upload is too large.")),
        422: (_("Check the form"), _("Some fields need attention.")),
        429: (_("Too many attempts"), _("Too many attempts. Wait a minute and try again.")),
        500: (_("Something went wrong"), _("The server hit an error. Nothing you saved is lost; try again.")),
        503: (_("Busy"), _("The server is busy. Try again in a moment.")),
    }


def error_response(status: int, message: str | None = None, code: str | None = None):
    """Answer an error as JSON, as a toast swapped into #toasts for htmx, or as a full page."""
    title, default = _messages().get(status, (_("Error"), _("Something went wrong.")))
    message = message or default
    if wants_json():
        return json_error(status, code or str(status), message)
    if wants_fragment():
        body = render_template("errors/_toast.html", title=title, message=message, level="error")
        # htmx swaps error statuses (see htmx-config); retargeting keeps the page intact.
        return body, status, {"HX-Retarget": "#toasts", "HX-Reswap": "beforeend", "Vary": "HX-Request"}
    return render_template("errors/error.html", status=status, title=title, message=message), status


def database_unavailable(error: OperationalError) -> bool:
    """A locked SQLite file or a database that cannot be reached: "try again", not a bug.

    SQLite's other operational errors ("no such table", a disk I/O error) stay 500s so a bug is not
    hidden as "busy"; the PostgreSQL driver raises OperationalError only for connection and server
    trouble (a missing table is a ProgrammingError there).
    """
    if error.connection_invalidated:
        return True
    if type(error.orig).__module__.startswith("sqlite3"):
        message = str(error.orig).lower()
        return "locked" in message or "busy" in message
    return True


def register_error_handlers(app: Flask) -> None:
    """Every HTTP error, a CSRF failure and an unexpected exception get a clear answer."""

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return error_response(400, _("The form has expired. Reload the page and try again."), "csrf")

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code and error.code < 400:
            return error
        message = None
        if error.code == 429:
            message = _("Too many attempts. Wait a minute and try again.")
        return error_response(error.code or 500, message)

    @app.errorhandler(OperationalError)
    def database_error(error):
        # Any view, not only /api/sync: an online form POST on a locked SQLite file answers 503 with
        # Retry-After (outbox.js then queues the form), and nothing of the record was committed.
        if not database_unavailable(error):
            return unexpected(error)
        try:
            db.session.rollback()
        except Exception:  # a connection that is gone cannot roll back; the pool replaces it
            db.session.remove()
        app.logger.warning("database unavailable: %s", error.orig)
        response = make_response(error_response(503))
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response

    @app.errorhandler(Exception)
    def unexpected(error):
        db.session.rollback()
        app.logger.exception("unhandled error")
        return error_response(500)
