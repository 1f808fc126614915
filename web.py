"""Small helpers every blueprint's views share: rendering for htmx, role checks, JSON detection."""
from datetime import timezone
from functools import wraps
from zoneinfo import ZoneInfo

from flask import abort, jsonify, make_response, render_template, request
from flask_login import current_user

from extensions import htmx, login_manager

STATION_TZ = ZoneInfo("Asia/Shanghai")  # the same (cached) zone as blueprints.home.services.LOCAL_TZ


def wants_fragment() -> bool:
    """True for an htmx request that swaps a fragment (not boosted, not a history restore)."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def wants_json() -> bool:
    """True when the client is an API client (the sync queue, a native app), not a browser page."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def render(page: str, fragment: str | None = None, *, status: int = 200, **context):
    """Render the full page, or only its fragment for an htmx swap; one URL serves both.

    The response varies on HX-Request so no cache ever hands a fragment to a full navigation.
    """
    template = fragment if fragment and wants_fragment() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def fixed_url(endpoint: str, **values) -> str:
    """url_for() of a URL that is the same on every request of this app (a static file, a page
    without parameters), built once per app and script root: url_for() costs ~10 µs and every page's
    frame (base.html, the navigation) asks for about thirty. Not for URLs with a record's id."""
    from flask import current_app, url_for

    cache = current_app.extensions.setdefault("web.fixed_urls", {})
    key = (request.script_root, endpoint, *sorted(values.items()))
    try:
        return cache[key]
    except KeyError:
        url = cache[key] = url_for(endpoint, **values)
        return url


def requires(*roles: str):
    """Allow the view to logged-in users whose role is one of `roles` (any role when empty)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def json_error(status: int, code: str, message: str, **extra):
    """A JSON error body: a machine code and a human message in the user's language."""
    response = jsonify({"error": code, "message": str(message), **extra})
    response.status_code = status
    return response


def see_other(url: str):
    """After a successful POST: 303 for a plain form, HX-Redirect for htmx (XHR hides a 303)."""
    from flask import redirect

    if htmx:
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


def role_label(role: str) -> str:
    """The translated name of a role."""
    from flask_babel import gettext as _

    labels = {
        "community": _("Community officer"),
        "command": _("Command room"),
        "case": _("Case team"),
        "leader": _("Station leader"),
    }
    return labels.get(role, role)


def station_time(moment, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A moment in station time (Asia/Shanghai) as digits, e.g. `station_time(t, "%m-%d %H:%M")`: what
    `datetimeformat('MM-dd HH:mm')` prints (digits only, the same in every locale) without Babel's
    per-call locale and pattern work. A naive moment is UTC, as Babel takes it; None prints nothing."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(STATION_TZ).strftime(pattern)
