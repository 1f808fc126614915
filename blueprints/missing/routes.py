"""Missing-person views: the list and map of cases, the report (a field form), a case's page and the
banner poll every page makes."""
import uuid

from flask import abort, current_app, make_response, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from blueprints.missing import alerts, services
from blueprints.missing import bp
from blueprints.missing.forms import (CancelForm, FoundForm, MissingReportForm, RadiusForm, SightingForm,
                                      risk_choices)
from blueprints.sync import records
from extensions import db
from models import Resident, utcnow
from web import render, requires, see_other


def case_or_404(case_id: int):
    case = services.case_for(current_user, case_id)
    if case is None:
        abort(404)
    return case


def map_settings() -> dict:
    return {"tile_url": current_app.config.get("MAP_TILE_URL", ""),
            "tile_crs": current_app.config.get("MAP_TILE_CRS", "wgs84")}


def command_phone() -> str:
    """The command room's number for the offline warning: the station's phone, else COMMAND_ROOM_PHONE."""
    return current_user.station.phone or current_app.config.get("COMMAND_ROOM_PHONE") or "110"


@bp.record_once
def missing_labels(state):
    """The risk labels for every template, as Jinja globals set once: lazy strings, translated where they are
    shown (as a context processor these dicts were built again for every page rendered)."""
    state.app.jinja_env.globals.update({"risk_labels": dict(risk_choices())})


# --- the list --------------------------------------------------------------------------------------

@bp.get("/")
@requires()
def index():
    """Open cases (with a map of their last-seen places) and the latest closed ones."""
    open_cases = services.open_cases(current_user.station_id, limit=100)
    return render("missing/index.html", open_cases=open_cases, closed=services.closed_cases(current_user.station_id),
                  markers=_case_markers(open_cases), can_report=current_user.role in services.REPORT_ROLES,
                  **map_settings())


def _marker(kind: str, lat, lon, label: str, **extra) -> dict | None:
    """A map marker in the tiles' datum (stored positions are WGS-84; GCJ-02 tiles need converting)."""
    from domain.geo import wgs84_to_gcj02

    if lat is None or lon is None:
        return None
    if current_app.config.get("MAP_TILE_CRS", "wgs84") == "gcj02":
        lat, lon = wgs84_to_gcj02(lat, lon)
    return {"kind": kind, "lat": lat, "lon": lon, "label": label, **extra}


def _case_markers(cases) -> list[dict]:
    markers = [_marker("last_seen", c.last_seen_lat, c.last_seen_lon, f"{c.name} · {c.last_seen_place}",
                       url=url_for("missing.show", case_id=c.id)) for c in cases]
    return [m for m in markers if m]


def _one_case_markers(case, sightings, profile, officers) -> list[dict]:
    """Last seen, places found before, sightings and (for the command room) officers' latest check-ins."""
    markers = [_marker("last_seen", case.last_seen_lat, case.last_seen_lon, case.last_seen_place)]
    if case.found_lat is not None:
        markers.append(_marker("found", case.found_lat, case.found_lon, case.found_place or ""))
    for place in (profile.places_found if profile else None) or []:
        if place.get("case_id") != case.id:
            markers.append(_marker("found_before", place.get("lat"), place.get("lon"), place.get("place") or ""))
    markers += [_marker("sighting", s.lat, s.lon, s.place) for s in sightings]
    markers += [_marker("officer", r["check_in"].lat, r["check_in"].lon, r["officer"].name)
                for r in officers if r["check_in"] is not None]
    return [m for m in markers if m]


# --- reporting --------------------------------------------------------------------------------------

def _report_page(form, status=200, resident=None):
    return render("missing/new.html", "missing/_report_form.html", status=status, form=form, resident=resident,
                  command_phone=command_phone(), **map_settings())


@bp.get("/new")
@requires(*services.REPORT_ROLES)
def new():
    """The report form; from a profile (?resident_id=) it is filled in: add time, place and clothing."""
    prefill, resident = {}, None
    resident_id = request.args.get("resident_id", type=int)
    if resident_id and 0 < resident_id <= services.MAX_ID:
        resident = db.session.get(Resident, resident_id)
        if resident is None or resident.station_id != current_user.station_id:
            abort(404)
        prefill = services.report_prefill(resident, services.profile_of(resident.id))
    form = MissingReportForm(formdata=None, profiles=services.station_profiles(current_user.station_id),
                             **prefill)
    form.client_id.data = str(uuid.uuid4())
    form.recorded_at.data = utcnow().isoformat(timespec="seconds")
    form.last_seen_at.raw_data = [services.now_local_input()]
    return _report_page(form, resident=resident)


@bp.post("/")
@requires(*services.REPORT_ROLES)
def create():
    """Open a case (idempotent on client_id) and raise the alert; 422 with messages beside the fields."""
    form = MissingReportForm(profiles=services.station_profiles(current_user.station_id))
    if form.validate_on_submit():
        outcome = records.submit_online(current_user, services.REPORT_KIND, form)
        if outcome.status != records.REJECTED:
            return see_other(url_for("missing.show", case_id=outcome.id, reported=1))
    return _report_page(form, status=422)


# --- one case ---------------------------------------------------------------------------------------

def fresh_sighting(case) -> SightingForm:
    form = SightingForm(formdata=None, case_id=case.id)
    form.client_id.data = str(uuid.uuid4())
    form.recorded_at.data = utcnow().isoformat(timespec="seconds")
    form.seen_at.raw_data = [services.now_local_input()]
    return form


def fresh_found() -> FoundForm:
    form = FoundForm(formdata=None, found_by=current_user.name)
    form.found_at.raw_data = [services.now_local_input()]
    return form


def case_page(case, *, status=200, fragment=None, sighting=None, found=None, cancel=None, close_error=None):
    """The case page: facts, timeline, map, and the forms this user's role may use."""
    role = current_user.role
    radius = RadiusForm(request.args)
    radius_m = radius.radius.data if radius.validate() and radius.radius.data else 2000
    manage = role in services.MANAGE_ROLES
    sightings, profile = services.sightings_of(case), services.profile_of(case.resident_id)
    officers = services.officers_by_distance(case, radius_m) if manage and case.is_open else []
    return render(
        "missing/show.html", fragment, status=status, case=case, events=services.timeline(case),
        sightings=sightings, profile=profile, officers=officers,
        markers=_one_case_markers(case, sightings, profile, officers),
        sighting=sighting or (fresh_sighting(case) if case.is_open else None),
        found=found or (fresh_found() if case.is_open and role in services.FOUND_ROLES else None),
        cancel=cancel or (CancelForm() if case.is_open and role in services.CANCEL_ROLES else None),
        manage=manage, radius=radius, radius_m=radius_m, close_error=close_error,
        reported=request.args.get("reported") == "1", **map_settings())


@bp.get("/<int:case_id>")
@requires()
def show(case_id: int):
    """A case with its whole timeline; the command room also gets the search radius and officers."""
    return case_page(case_or_404(case_id))


# --- the banner poll --------------------------------------------------------------------------------

@bp.get("/alerts")
@requires()
def alerts_banner():
    """The banner fragment for #alerts: 304 while the station's alert version (and, with an open
    case, the rounded position) is unchanged; else open cases with distance and recent "found" notices."""
    station_id = current_user.station_id
    version, open_count = alerts.current(station_id)
    where = alerts.position(request.args.get("lat"), request.args.get("lon"))
    tag = alerts.etag(station_id, version, open_count, str(get_locale()), where)
    if tag in request.headers.get("If-None-Match", ""):
        response = make_response("", 304)
    else:
        cases = services.open_cases(station_id) if open_count else []
        response = make_response(render_banner(cases, where, version))
    response.headers["ETag"] = tag
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def render_banner(cases, where, version):
    from flask import render_template

    rows = [{"case": c, "distance": alerts.distance_from(c, where)} for c in cases]
    return render_template("missing/_alerts.html", rows=rows, closed=services.recently_closed(current_user.station_id),
                           version=version, located=where is not None)
