"""Command room views: the one screen and its refresh, the analysis with its Excel and print versions."""
import io
import json

from flask import current_app, make_response, request, send_file, url_for
from flask_babel import get_locale
from flask_login import current_user

from blueprints.command import analysis, bp, screen
from blueprints.command.forms import AnalysisForm
from models.users import COMMAND, LEADER
from web import render, requires, wants_fragment

ROLES = (COMMAND, LEADER)
REFRESH_SECONDS = 15  # the screen's poll: an idle poll is one small query
LAYERS_HEADER = "X-Pingan-Layers"  # command.js sends the markers' format it reads on the screen's htmx requests


def _screen_context(today, version: str) -> dict:
    seconds = current_app.config.get("COMMAND_REFRESH_SECONDS", REFRESH_SECONDS)
    built = screen.build(today)
    more_url = url_for("command.activity", shown=screen.FEED_SIZE) if built.more_feed else None
    return {"screen": built, "items": built.feed, "more_url": more_url, "version": version,
            "layers_format": screen.LAYERS_FORMAT,
            "refresh": f"every {seconds}s",
            "poll_url": url_for("command.live", v=version), "layers_url": url_for("command.layers", v=version),
            "tile_url": current_app.config.get("MAP_TILE_URL", "")}


def _revalidated(response, etag: str):
    """The refresh's caching: the browser keeps a private copy and asks every time (ETag)."""
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/")
@requires(*ROLES)
def index():
    """The one screen: today's counts, the map with its layers, the activity feed, the grid table."""
    today = screen.today_for(current_user)
    return render("command/index.html", **_screen_context(today, screen.version(today, str(get_locale()))))


@bp.get("/live")
@requires(*ROLES)
def live():
    """The screen's refresh: 304/204 when nothing changed since version `v` (one query), else the fragment.
    A screen whose command.js reads another markers' format than the server's (a page left open across
    an update) is told to reload itself (HX-Refresh), which brings the new script."""
    if wants_fragment() and request.headers.get(LAYERS_HEADER) != screen.LAYERS_FORMAT:
        response = make_response("", 200)
        response.headers["HX-Refresh"] = "true"
        response.headers["Cache-Control"] = "no-store"
        return response
    today = screen.today_for(current_user)
    version = screen.version(today, str(get_locale()))
    etag = f'"command-{version}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = make_response("", 304)
    elif request.args.get("v") == version and wants_fragment():
        response = make_response("", 204)  # htmx swaps nothing
    else:
        response = render("command/index.html", "command/_live.html", **_screen_context(today, version))
    response.vary.add("HX-Request")
    response.vary.add(LAYERS_HEADER)
    return _revalidated(response, etag)


@bp.get("/layers")
@requires(*ROLES)
def layers():
    """The map's markers (JSON, compact, see screen.layers_payload); 304 to a matching ETag. command.js
    fetches it with the screen's version (?v=) when the page loads and when the refresh brings news.
    Format 2 (positions in microdegrees) is under "overlays": a command.js of format 1 (a page left
    open across the update, until its refresh reloads it) finds no "layers" and draws nothing."""
    today = screen.today_for(current_user)
    version = screen.version(today, str(get_locale()))
    etag = f'"layers-{version}-{today.crs}-{screen.LAYERS_FORMAT}"'
    if etag in request.headers.get("If-None-Match", ""):
        return _revalidated(make_response("", 304), etag)
    body = json.dumps({"version": version, "format": screen.LAYERS_FORMAT, "overlays": screen.layers_payload(today)},
                      ensure_ascii=False, separators=(",", ":"))
    return _revalidated(current_app.response_class(body, mimetype="application/json"), etag)


@bp.get("/activity")
@requires(*ROLES)
def activity():
    """More of today's activity feed: the lines after the first `shown` (htmx appends them in place of
    the "more" line), or the page with the feed from the start to there."""
    shown = min(max(request.args.get("shown", screen.FEED_SIZE, type=int), 0), screen.MORE_MAX)
    today = screen.today_for(current_user)
    items, more = screen.activity(today, shown + screen.FEED_SIZE)
    if wants_fragment():
        items = items[shown:]
    more = more and shown + screen.FEED_SIZE <= screen.MORE_MAX
    next_url = url_for("command.activity", shown=shown + screen.FEED_SIZE) if more else None
    return render("command/activity.html", "command/_activity.html", items=items, more_url=next_url, today=today)


def _analysis_form() -> AnalysisForm:
    return AnalysisForm(request.args, today=screen.today_for(current_user).day)


@bp.get("/analysis")
@requires(*ROLES)
def analysis_page():
    """The analysis (研判) of a period per grid, compared with the period before, and the hour table."""
    form = _analysis_form()
    if not form.validate():
        return render("command/analysis.html", "command/_analysis.html", form=form, report=None, status=422)
    report = analysis.build(current_user, form.start.data, form.end.data)
    return render("command/analysis.html", "command/_analysis.html", form=form, report=report)


@bp.get("/analysis.xlsx")
@requires(*ROLES)
def analysis_export():
    """The analysis as an Excel file (the export is audited)."""
    form = _analysis_form()
    if not form.validate():
        return render("command/analysis.html", form=form, report=None, status=422)
    data = analysis.export_xlsx(current_user, analysis.build(current_user, form.start.data, form.end.data))
    name = f"analysis-{form.start.data:%Y%m%d}-{form.end.data:%Y%m%d}.xlsx"
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/analysis/print")
@requires(*ROLES)
def analysis_print():
    """The analysis as a printable A4 page (print CSS hides the navigation)."""
    form = _analysis_form()
    if not form.validate():
        return render("command/analysis.html", form=form, report=None, status=422)
    report = analysis.build(current_user, form.start.data, form.end.data)
    return render("command/print.html", form=form, report=report)
