"""Patrol views for the officer (check in, today, history) and the command room's live feed."""
import uuid

from flask import abort, current_app, flash, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.patrol import bp, services
from blueprints.patrol.forms import CheckInForm
from blueprints.sync import attachments, records
from extensions import db
from models import CheckIn, utcnow
from models.users import CASE, COMMAND, LEADER
from web import render, requires, wants_fragment

FEED_ROLES = (COMMAND, LEADER, CASE)


def _fresh_form(**data) -> CheckInForm:
    """An empty check-in form with a new record id and the server's time (outbox.js refreshes both)."""
    form = CheckInForm(formdata=None, **data)
    form.client_id.data = str(uuid.uuid4())
    form.recorded_at.data = utcnow().isoformat(timespec="seconds")
    return form


def _check_in_page(form, *, status=200):
    """The check-in page, or (htmx, a refused POST) its box with the messages beside the fields. The box
    lists the points by id and name only; the page also carries every point's position for checkin.js."""
    if wants_fragment():
        return render("patrol/check_in.html", "patrol/_checkin_box.html", status=status, form=form,
                      points=services.point_choices(current_user))
    points = services.check_in_points(current_user)
    return render("patrol/check_in.html", status=status, form=form, points=points,
                  points_data=services.points_payload(points))


@bp.get("/check-in")
@requires(*services.CHECKIN_ROLES)
def check_in():
    """The check-in page: the nearest point is preselected from the phone's position; submit is tap two."""
    # A phone's camera app opens the QR's URL: the token comes along in ?t=.
    return _check_in_page(_fresh_form(qr_token=request.args.get("t", "")[:300]))


@bp.post("/check-ins")
@requires(*services.CHECKIN_ROLES)
def create_check_in():
    """Record a check-in (idempotent on client_id); 422 with messages beside the fields."""
    form = CheckInForm()
    if form.validate_on_submit():
        with records.answer_from_memory():
            outcome = records.submit_online(current_user, "checkin", form)
        if outcome.status != records.REJECTED:
            if wants_fragment():
                return _saved_answer(outcome.record or db.session.get(CheckIn, outcome.id),
                                     duplicate=outcome.status == records.DUPLICATE)
            flash(_("Check-in saved."), "success")
            return redirect(url_for("patrol.today"), code=303)
    return _check_in_page(form, status=422)


def _saved_answer(saved: CheckIn, *, duplicate: bool):
    """htmx: the outcome line only, into #checkin-result, scrolled into view (the officer tapped the
    button at the bottom); the page keeps its form and outbox.js clears it for the next check-in
    (HX-Trigger: pingan:saved), as after queuing one offline."""
    response = make_response(render_template("patrol/_checkin_saved.html", saved=saved, duplicate=duplicate))
    response.headers.update({"HX-Retarget": "#checkin-result", "HX-Reswap": "innerHTML show:top",
                             "HX-Trigger": "pingan:saved"})
    response.vary.add("HX-Request")
    return response


@bp.get("/today")
@requires(*services.CHECKIN_ROLES)
def today():
    """The officer's day: required points done and missing, and the latest check-ins."""
    rows, more = services.history(current_user, 1)
    return render("patrol/today.html", statuses=services.today_status(current_user), rows=rows, more=more, page_no=1)


@bp.get("/history")
@requires(*services.CHECKIN_ROLES)
def history():
    """Older check-ins of the officer, a page at a time (htmx appends them to the list)."""
    page = request.args.get("page", 1, type=int) or 1
    rows, more = services.history(current_user, page)
    return render("patrol/history.html", "patrol/_history_page.html", rows=rows, more=more, page_no=page)


@bp.get("/feed")
@requires(*FEED_ROLES)
def feed():
    """The command room's live list and map of today's check-ins."""
    return render("patrol/feed.html", **_feed_context())


@bp.get("/feed/items")
@requires(*FEED_ROLES)
def feed_items():
    """The feed's poll: 204 (htmx swaps nothing) unless a check-in arrived since `after`."""
    latest = services.latest_check_in_id(current_user.station_id)
    if request.args.get("after", -1, type=int) >= latest and wants_fragment():
        response = make_response("", 204)
        response.vary.add("HX-Request")
        return response
    return render("patrol/feed.html", "patrol/_feed.html", **_feed_context(latest))


def _feed_context(latest: int | None = None) -> dict:
    if latest is None:
        latest = services.latest_check_in_id(current_user.station_id)
    items = services.feed(current_user.station_id)
    crs = current_app.config.get("MAP_TILE_CRS", "wgs84")
    return {"items": items, "latest": latest, "markers": services.map_markers(items, crs),
            "tile_url": current_app.config.get("MAP_TILE_URL", "")}


@bp.get("/check-ins/<int:check_in_id>/photo")
@requires()
def photo(check_in_id: int):
    """A check-in's photo, for its officer and the station-wide roles."""
    check_in = services.check_in_for(current_user, check_in_id)
    if check_in is None or check_in.photo is None:
        abort(404)
    response = send_file(attachments.attachment_path(check_in.photo), mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


