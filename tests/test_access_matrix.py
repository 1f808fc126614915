"""Who may see what: every registered endpoint x every role -> the status the role gets.

The world (built once per role) is station A with grid A/B officers, case team, command room and
leader, one record of each kind in grid A (most with a photo), and a second station with its own
records. Each row names an endpoint, how to build its URL from the world, and the expected status for
anonymous, the officer of grid A, the officer of grid B, the case team, the command room and the
leader. A new endpoint without a row fails `test_every_endpoint_has_a_row`.

Beyond the statuses: a POST with an empty form (valid CSRF token) never answers 500 and never
creates a record; no response to the grid B officer names a grid A resident, and no response to
anyone of station A names a record of station 2 (Excel exports included); every URL built with
station 2's ids answers 403 or 404 to every role of station A.
"""
import io
import uuid
import zipfile
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from extensions import db
from models.users import COMMUNITY
from tests import factories
from tests.conftest import csrf_from

LOCAL_TZ = timezone(timedelta(hours=8))
GRID_A_NAME = "欧阳甲"  # resident of station A, grid A: grid B's officer must never see this name
FOREIGN_NAME = "司马外站"  # resident of station 2: nobody of station A may see it
# Phone numbers of the fixture residents (national form); e.g. the privacy crawl looks for them.
PHONES = {"grid_a": "13912345678", "grid_b": "13698765432", "foreign": "13511112222"}


def jpeg_bytes(color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, "JPEG")
    return out.getvalue()


def _photo(user):
    """A stored, committed attachment of `user` (as the sync API would store it)."""
    from blueprints.sync import attachments

    client_id = str(uuid.uuid4())
    attachment = attachments.store_photo(user, FileStorage(io.BytesIO(jpeg_bytes()), "p.jpg"), client_id=client_id)
    db.session.commit()
    return attachment


def records_of(station, grid, officer, command, *, marker: str, phone: str, wanderer_name: str) -> SimpleNamespace:
    """One record of each kind in `grid` of `station`, recorded by `officer` (and tasks by `command`)."""
    from models import CheckIn, Hazard, Inspection, PatrolPoint, Tenancy
    from models.visits import Place, Visit
    from models.missing import Sighting

    now = datetime.now(timezone.utc)
    point = PatrolPoint(station_id=station.id, grid_id=grid.id, name=f"{marker}菜市场", lat=35.7986, lon=112.9237,
                        radius_m=50, required_per_day=1, active=True)
    db.session.add(point)
    db.session.flush()
    check_in = CheckIn(station_id=station.id, officer_id=officer.id, point_id=point.id, grid_id=grid.id,
                       lat=point.lat, lon=point.lon, accuracy_m=10.0, distance_m=0.0, within_geofence=True,
                       method="gps", flags="", via="online", recorded_at=now, received_at=now,
                       local_day=now.astimezone(LOCAL_TZ).date(), photo_id=_photo(officer).id,
                       note=f"{marker}巡逻备注")
    db.session.add(check_in)
    address = factories.make_address(station, grid)
    resident = factories.make_resident(station, address, name=marker, phone="+86" + phone)
    tenant = factories.make_resident(station, factories.make_address(station, grid), name=marker + "租客")
    household_photo = _photo(officer)
    household = factories.make_household(station, grid, landlord=resident, officer=officer,
                                         client_id=household_photo.client_id, notes=f"{marker}出租屋")
    tenancy = Tenancy(station_id=station.id, household_id=household.id, resident_id=tenant.id,
                      move_in=date.today() - timedelta(days=30), registered_on=date.today() - timedelta(days=29))
    inspection = Inspection(station_id=station.id, household_id=household.id, officer_id=officer.id,
                            inspected_on=date.today(), findings=f"{marker}检查")
    db.session.add_all([tenancy, inspection])
    db.session.flush()
    hazard = Hazard(station_id=station.id, household_id=household.id, inspection_id=inspection.id,
                    description=f"{marker}电线老化", due_on=date.today() + timedelta(days=7))
    place = Place(station_id=station.id, grid_id=grid.id, name=f"{marker}超市", type="shop", address="解放路8号",
                  search=f" {marker}超市 ", created_by_id=officer.id)
    db.session.add_all([hazard, place])
    db.session.flush()
    visit = Visit(station_id=station.id, officer_id=officer.id, grid_id=grid.id, subject_type="resident",
                  resident_id=resident.id, purpose="routine", outcome="met", notes=f"{marker}走访记录",
                  via="online", recorded_at=now, received_at=now, local_hour=now.astimezone(LOCAL_TZ).hour,
                  photo_id=_photo(officer).id)
    db.session.add(visit)
    db.session.commit()
    task = factories.make_task(station, command, assignee=officer, text=f"{marker}任务：核查出租屋")
    task_event = task.events[0]
    task_event.photo_id = _photo(officer).id
    # The report form offers every profile of the station (a wanderer crosses grids), so grid A's
    # wanderer is not named with the grid-A marker; station 2's is.
    wanderer = factories.make_resident(station, factories.make_address(station, grid), name=wanderer_name)
    profile = factories.make_profile(station, wanderer, photo_id=_photo(officer).id)
    case = factories.make_missing_case(station, officer, name=wanderer_name, resident_id=wanderer.id,
                                       photo_id=_photo(officer).id)
    sighting = Sighting(case_id=case.id, station_id=station.id, user_id=officer.id, seen_at=now,
                        place=f"{marker}公园", photo_id=_photo(officer).id)
    db.session.add(sighting)
    db.session.commit()
    return SimpleNamespace(point=point, check_in=check_in, resident=resident, tenant=tenant, household=household,
                           tenancy=tenancy, inspection=inspection, hazard=hazard, place=place, visit=visit,
                           task=task, task_event=task_event, wanderer=wanderer, profile=profile, case=case, sighting=sighting)


def build_world(station) -> SimpleNamespace:
    """Station A's records (grid A), one grid B resident, a spare account, and station 2 with its own."""
    own = records_of(station.station, station.grid_a, station.officer, station.command, marker=GRID_A_NAME,
                     phone=PHONES["grid_a"], wanderer_name="孙大娘")
    resident_b = factories.make_resident(station.station, factories.make_address(station.station, station.grid_b),
                                         name="赵乙", phone="+86" + PHONES["grid_b"])
    spare = factories.make_user(station.station, COMMUNITY, [station.grid_a], username="spare-officer", name="钱备")
    other = factories.make_station(name="外站派出所")
    other_grid = factories.make_grid(other, name="外站社区")
    other_officer = factories.make_user(other, COMMUNITY, [other_grid], username="foreign-officer", name="外站警员")
    other_command = factories.make_user(other, "command", username="foreign-command", name="外站指挥")
    foreign = records_of(other, other_grid, other_officer, other_command, marker=FOREIGN_NAME,
                         phone=PHONES["foreign"], wanderer_name=FOREIGN_NAME + "老人")
    foreign.user = other_officer
    return SimpleNamespace(station=station, own=own, resident_b=resident_b, spare=spare, foreign=foreign,
                           other_station=other)


# --- the matrix ----------------------------------------------------------------------------------------

ROLES = ("anon", "officer_a", "officer_b", "case", "command", "leader")
USERNAMES = {"officer_a": "demo-officer", "officer_b": "officer-b", "case": "demo-case",
             "command": "demo-command", "leader": "demo-leader"}

G, P = "GET", "POST"
# endpoint: (method, url builder(world, records), expected statuses for ROLES in order)
# `r` is station A's grid-A records (or station 2's in the cross-station test); `w` the whole world.
MATRIX = {
    # auth
    "auth.login": (G, lambda w, r: "/auth/login", "200 302 302 302 302 302"),
    "auth.create_session": (P, lambda w, r: "/auth/login", "422 422 422 422 422 422"),
    "auth.logout": (P, lambda w, r: "/auth/logout", "302 303 303 303 303 303"),
    "auth.set_language": (P, lambda w, r: "/auth/language", "303 303 303 303 303 303"),
    "auth.password": (G, lambda w, r: "/auth/password", "302 200 200 200 200 200"),
    "auth.update_password": (P, lambda w, r: "/auth/password", "302 422 422 422 422 422"),
    # admin
    "admin.users": (G, lambda w, r: "/admin/", "302 403 403 403 403 200"),
    "admin.new_user": (G, lambda w, r: "/admin/users/new", "302 403 403 403 403 200"),
    "admin.create_user": (P, lambda w, r: "/admin/users", "302 403 403 403 403 422"),
    "admin.edit_user": (G, lambda w, r: f"/admin/users/{r.user.id}/edit", "302 403 403 403 403 200"),
    "admin.update_user": (P, lambda w, r: f"/admin/users/{r.user.id}", "302 403 403 403 403 422"),
    "admin.reset_password": (P, lambda w, r: f"/admin/users/{r.user.id}/password", "302 403 403 403 403 422"),
    "admin.toggle_active": (P, lambda w, r: f"/admin/users/{r.user.id}/active", "302 403 403 403 403 303"),
    "admin.unlock_user": (P, lambda w, r: f"/admin/users/{r.user.id}/unlock", "302 403 403 403 403 303"),
    "admin.audit_events": (G, lambda w, r: "/admin/audit", "302 403 403 403 403 200"),
    "admin.audit_export": (G, lambda w, r: "/admin/audit.xlsx", "302 403 403 403 403 200"),
    # home, pwa
    "home.index": (G, lambda w, r: "/", "302 200 200 200 200 200"),
    "home.account": (G, lambda w, r: "/me", "302 200 200 200 200 200"),
    "home.healthz": (G, lambda w, r: "/healthz", "200 200 200 200 200 200"),
    "pwa.manifest": (G, lambda w, r: "/manifest.webmanifest", "200 200 200 200 200 200"),
    "pwa.service_worker": (G, lambda w, r: "/sw.js", "200 200 200 200 200 200"),
    "pwa.precache": (G, lambda w, r: "/precache.json", "200 200 200 200 200 200"),
    "pwa.offline": (G, lambda w, r: "/offline", "200 200 200 200 200 200"),
    "pwa.outbox": (G, lambda w, r: "/outbox", "302 200 200 200 200 200"),
    # command room
    "command.index": (G, lambda w, r: "/command/", "302 403 403 403 200 200"),
    "command.live": (G, lambda w, r: "/command/live", "302 403 403 403 200 200"),
    "command.layers": (G, lambda w, r: "/command/layers", "302 403 403 403 200 200"),
    "command.activity": (G, lambda w, r: "/command/activity", "302 403 403 403 200 200"),
    "command.analysis_page": (G, lambda w, r: "/command/analysis", "302 403 403 403 200 200"),
    "command.analysis_export": (G, lambda w, r: "/command/analysis.xlsx", "302 403 403 403 200 200"),
    "command.analysis_print": (G, lambda w, r: "/command/analysis/print", "302 403 403 403 200 200"),
    # patrol
    "patrol.check_in": (G, lambda w, r: "/patrol/check-in", "302 200 200 403 403 200"),
    "patrol.create_check_in": (P, lambda w, r: "/patrol/check-ins", "302 422 422 403 403 422"),
    "patrol.today": (G, lambda w, r: "/patrol/today", "302 200 200 403 403 200"),
    "patrol.history": (G, lambda w, r: "/patrol/history", "302 200 200 403 403 200"),
    "patrol.feed": (G, lambda w, r: "/patrol/feed", "302 403 403 200 200 200"),
    "patrol.feed_items": (G, lambda w, r: "/patrol/feed/items", "302 403 403 200 200 200"),
    "patrol.photo": (G, lambda w, r: f"/patrol/check-ins/{r.check_in.id}/photo", "302 200 404 404 200 200"),
    "patrol.points": (G, lambda w, r: "/patrol/points", "302 200 200 200 200 200"),
    "patrol.new_point": (G, lambda w, r: "/patrol/points/new", "302 403 403 403 200 200"),
    "patrol.create_point": (P, lambda w, r: "/patrol/points", "302 403 403 403 422 422"),
    "patrol.edit_point": (G, lambda w, r: f"/patrol/points/{r.point.id}/edit", "302 403 403 403 200 200"),
    "patrol.update_point": (P, lambda w, r: f"/patrol/points/{r.point.id}", "302 403 403 403 422 422"),
    "patrol.qr_sheet": (G, lambda w, r: "/patrol/points/qr", "302 403 403 403 200 200"),
    "patrol.report": (G, lambda w, r: "/patrol/report", "302 403 403 403 200 200"),
    "patrol.report_daily": (G, lambda w, r: "/patrol/report/daily", "302 403 403 403 200 200"),
    "patrol.export_report": (G, lambda w, r: "/patrol/report.xlsx", "302 403 403 403 200 200"),
    # residents
    "residents.index": (G, lambda w, r: "/residents/", "302 200 200 200 200 200"),
    "residents.new": (G, lambda w, r: "/residents/new", "302 200 200 403 200 200"),
    "residents.create": (P, lambda w, r: "/residents/", "302 422 422 403 422 422"),
    "residents.show": (G, lambda w, r: f"/residents/{r.resident.id}", "302 200 404 200 200 200"),
    "residents.edit": (G, lambda w, r: f"/residents/{r.resident.id}/edit", "302 200 404 403 200 200"),
    "residents.update": (P, lambda w, r: f"/residents/{r.resident.id}", "302 422 404 403 422 422"),
    "residents.reveal": (P, lambda w, r: f"/residents/{r.resident.id}/reveal", "302 422 404 422 422 422"),
    "residents.export": (P, lambda w, r: "/residents/export", "302 200 200 200 200 200"),
    "residents.import_form": (G, lambda w, r: "/residents/import", "302 200 200 403 200 200"),
    "residents.import_file": (P, lambda w, r: "/residents/import", "302 422 422 403 422 422"),
    "residents.import_template": (G, lambda w, r: "/residents/import/template.xlsx", "302 200 200 403 200 200"),
    # rentals
    "rentals.index": (G, lambda w, r: "/rentals/", "302 200 200 200 200 200"),
    "rentals.new": (G, lambda w, r: "/rentals/new", "302 200 200 403 200 200"),
    "rentals.create": (P, lambda w, r: "/rentals/", "302 422 422 403 422 422"),
    "rentals.show": (G, lambda w, r: f"/rentals/{r.household.id}", "302 200 404 200 200 200"),
    "rentals.photo": (G, lambda w, r: f"/rentals/{r.household.id}/photo", "302 200 404 200 200 200"),
    "rentals.add_tenancy": (P, lambda w, r: f"/rentals/{r.household.id}/tenancies", "302 422 404 403 422 422"),
    "rentals.move_out": (P, lambda w, r: f"/rentals/tenancies/{r.tenancy.id}/move-out", "302 422 404 403 422 422"),
    "rentals.new_inspection": (G, lambda w, r: f"/rentals/inspections/new?household={r.household.id}",
                               "302 200 404 403 200 200"),
    "rentals.create_inspection": (P, lambda w, r: "/rentals/inspections", "302 422 422 403 422 422"),
    "rentals.resolve_hazard": (P, lambda w, r: f"/rentals/hazards/{r.hazard.id}/resolve", "302 303 404 403 303 303"),
    "rentals.compliance": (G, lambda w, r: "/rentals/compliance", "302 200 200 200 200 200"),
    "rentals.export": (P, lambda w, r: "/rentals/export", "302 200 200 200 200 200"),
    # visits
    "visits.new": (G, lambda w, r: "/visits/new", "302 200 200 403 403 200"),
    "visits.create": (P, lambda w, r: "/visits/", "302 422 422 403 403 422"),
    "visits.subject_search": (G, lambda w, r: "/visits/subjects?subject_type=resident&q=ouyang",
                              "302 200 200 403 403 200"),
    "visits.index": (G, lambda w, r: "/visits/", "302 200 200 200 200 200"),
    "visits.show": (G, lambda w, r: f"/visits/{r.visit.id}", "302 200 404 200 200 200"),
    "visits.photo": (G, lambda w, r: f"/visits/{r.visit.id}/photo", "302 200 404 200 200 200"),
    "visits.history": (G, lambda w, r: f"/visits/for/resident/{r.resident.id}", "302 200 404 200 200 200"),
    "visits.place": (G, lambda w, r: f"/visits/places/{r.place.id}", "302 200 404 200 200 200"),
    "visits.follow_ups": (G, lambda w, r: "/visits/follow-ups", "302 200 200 403 403 200"),
    "visits.plan_page": (G, lambda w, r: "/visits/plan", "302 200 200 403 403 200"),
    "visits.coverage_page": (G, lambda w, r: "/visits/coverage", "302 403 403 403 200 200"),
    "visits.coverage_export": (P, lambda w, r: "/visits/coverage/export", "302 403 403 403 200 200"),
    # tasks
    "tasks.index": (G, lambda w, r: "/tasks/", "302 403 403 403 200 200"),
    "tasks.more": (G, lambda w, r: "/tasks/more?offset=50", "302 403 403 403 200 200"),
    "tasks.new": (G, lambda w, r: "/tasks/new", "302 403 403 403 200 200"),
    "tasks.create": (P, lambda w, r: "/tasks/", "302 403 403 403 422 422"),
    "tasks.show": (G, lambda w, r: f"/tasks/{r.task.id}", "302 200 404 404 200 200"),
    "tasks.mine": (G, lambda w, r: "/tasks/mine", "302 200 200 200 403 403"),
    "tasks.accept": (P, lambda w, r: f"/tasks/{r.task.id}/accept", "302 303 403 403 403 403"),
    "tasks.feedback": (P, lambda w, r: f"/tasks/{r.task.id}/feedback", "302 422 403 403 403 403"),
    "tasks.confirm": (P, lambda w, r: f"/tasks/{r.task.id}/confirm", "302 403 403 403 409 409"),
    "tasks.send_back": (P, lambda w, r: f"/tasks/{r.task.id}/send-back", "302 403 403 403 422 422"),
    "tasks.photo": (G, lambda w, r: f"/tasks/{r.task.id}/events/{r.task_event.id}/photo", "302 200 404 404 200 200"),
    # missing persons
    "missing.index": (G, lambda w, r: "/missing/", "302 200 200 200 200 200"),
    "missing.new": (G, lambda w, r: f"/missing/new?resident_id={r.wanderer.id}", "302 200 200 403 200 200"),
    "missing.create": (P, lambda w, r: "/missing/", "302 422 422 403 422 422"),
    "missing.show": (G, lambda w, r: f"/missing/{r.case.id}", "302 200 200 200 200 200"),
    "missing.alerts_banner": (G, lambda w, r: "/missing/alerts", "302 200 200 200 200 200"),
    "missing.add_sighting": (P, lambda w, r: f"/missing/{r.case.id}/sightings", "302 422 422 422 422 422"),
    "missing.found": (P, lambda w, r: f"/missing/{r.case.id}/found", "302 422 422 403 422 422"),
    "missing.cancel": (P, lambda w, r: f"/missing/{r.case.id}/cancel", "302 403 403 403 422 422"),
    "missing.notice": (G, lambda w, r: f"/missing/{r.case.id}/notice", "302 200 200 200 200 200"),
    "missing.photo": (G, lambda w, r: f"/missing/photos/profile/{r.profile.id}", "302 200 404 200 200 200"),
    "missing.profiles": (G, lambda w, r: "/missing/profiles", "302 200 200 200 200 200"),
    "missing.profile": (G, lambda w, r: f"/missing/profiles/{r.wanderer.id}", "302 200 404 200 200 200"),
    "missing.edit_profile": (G, lambda w, r: f"/missing/profiles/{r.wanderer.id}/edit", "302 200 404 403 200 200"),
    "missing.update_profile": (P, lambda w, r: f"/missing/profiles/{r.wanderer.id}", "302 422 404 403 422 422"),
    # sync API
    "sync.sync": (P, lambda w, r: "/api/sync", "401 400 400 400 400 400"),
    "sync.create_attachment": (P, lambda w, r: "/api/sync/attachments", "401 400 400 400 400 400"),
    "sync.openapi_document": (G, lambda w, r: "/api/openapi.json", "200 200 200 200 200 200"),
}

# Photos of a missing case and a sighting are for the whole station (every open case is everyone's).
EXTRA_ROWS = {
    "missing.photo case": (G, lambda w, r: f"/missing/photos/case/{r.case.id}", "302 200 200 200 200 200"),
    "missing.photo sighting": (G, lambda w, r: f"/missing/photos/sighting/{r.sighting.id}", "302 200 200 200 200 200"),
    "missing.photo check-in id as a kind": (G, lambda w, r: f"/missing/photos/checkin/{r.check_in.id}",
                                            "302 404 404 404 404 404"),
    # Ids in the query string: a record the user may not see is ignored (or 404), never shown.
    "visits.new with a subject": (G, lambda w, r: f"/visits/new?subject_type=resident&subject_id={r.resident.id}",
                                  "302 200 200 403 403 200"),
    "visits.new with a place": (G, lambda w, r: f"/visits/new?subject_type=place&subject_id={r.place.id}",
                                "302 200 200 403 403 200"),
    "rentals.index of a grid and officer": (
        G, lambda w, r: f"/rentals/?grid={r.household.grid_id}&officer={r.household.officer_id}",
        "302 200 200 200 200 200"),
    "patrol.qr_sheet of a point": (G, lambda w, r: f"/patrol/points/qr?point={r.point.id}", "302 403 403 403 200 200"),
    "patrol.report of a grid": (G, lambda w, r: f"/patrol/report?grid={r.point.grid_id}", "302 403 403 403 200 200"),
}


# --- running a row ---------------------------------------------------------------------------------------

SYNC_HEADERS = {"X-Requested-With": "pingan-sync"}
# Tables whose rows are records a user creates; an empty form must add none.
RECORD_TABLES = ("users", "residents", "addresses", "rental_households", "tenancies", "inspections", "hazards",
                 "visits", "follow_ups", "places", "check_ins", "patrol_points", "tasks", "missing_cases",
                 "missing_sightings", "vulnerable_profiles", "attachments", "sync_receipts")


@pytest.fixture
def world(station):
    w = build_world(station)
    w.own.user = w.spare
    return w


def _client_for(app, role: str, station):
    """A fresh client logged in as `role` (the session is written directly: logging in is tested in
    test_auth.py, and hashing a password 600 times would dominate the run)."""
    client = app.test_client()
    if role != "anon":
        user = getattr(station, {"officer_a": "officer", "officer_b": "officer_b"}.get(role, role))
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
    return client


def _record_counts() -> dict:
    tables = {t.name: t for t in db.metadata.sorted_tables}
    return {name: db.session.execute(select(func.count()).select_from(tables[name])).scalar_one()
            for name in RECORD_TABLES if name in tables}


def _body_text(response) -> str:
    """The response as text; an Excel file is unzipped so its cells can be searched too."""
    data = response.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            return "".join(book.read(n).decode("utf-8", "replace") for n in book.namelist() if n.endswith(".xml"))
    return data.decode("utf-8", "replace")


def request_as(app, station, role: str, method: str, url: str):
    """One request as `role`; a POST carries an empty form with a valid CSRF token."""
    client = _client_for(app, role, station)
    if method == G:
        return client.get(url)
    if url.startswith("/api/"):
        return client.post(url, headers=SYNC_HEADERS)
    token = csrf_from(client.get("/auth/login" if role == "anon" else "/offline"))
    return client.post(url, data={"csrf_token": token})


def check_row(app, world, role: str, name: str, method: str, build, expected: str, records) -> list[str]:
    """Problems with one row for one role (empty when all is well)."""
    url = build(world, records)
    before = _record_counts() if method == P else None
    response = request_as(app, world.station, role, method, url)
    problems = []
    status = response.status_code
    want = int(expected.split()[ROLES.index(role)])
    if status != want:
        problems.append(f"{name} {method} {url} as {role}: {status}, expected {want}")
    if status >= 500:
        problems.append(f"{name} {method} {url} as {role}: server error {status}")
    if before is not None and _record_counts() != before:
        problems.append(f"{name} {method} {url} as {role}: an empty form created or deleted a record")
    text = _body_text(response)
    if role != "anon" and FOREIGN_NAME in text:
        problems.append(f"{name} {method} {url} as {role}: shows a record of another station")
    if role == "officer_b" and GRID_A_NAME in text:
        problems.append(f"{name} {method} {url} as {role}: shows a record of grid A")
    return problems


ALL_ROWS = {**MATRIX, **EXTRA_ROWS}


def test_every_endpoint_has_a_row(app):
    """A new endpoint fails here until it gets its row (and so its expected status per role)."""
    registered = {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"}
    assert set(MATRIX) == registered, (
        f"endpoints without a row: {sorted(registered - set(MATRIX))}; "
        f"rows of endpoints that are gone: {sorted(set(MATRIX) - registered)}")


def test_every_row_uses_the_method_of_its_endpoint(app):
    """A row's method is one its endpoint answers (so the matrix checks the real view, not a 405)."""
    methods = {rule.endpoint: rule.methods for rule in app.url_map.iter_rules()}
    wrong = [name for name, (method, _b, _e) in MATRIX.items() if method not in methods[name]]
    assert wrong == []


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_expected_status_from_every_endpoint(app, world, role):
    """Every endpoint (and the extra rows) as one role: the status, no 500, no record made, no leak."""
    problems = []
    for name, (method, build, expected) in ALL_ROWS.items():
        problems += check_row(app, world, role, name, method, build, expected, world.own)
    assert problems == [], "\n".join(problems)


def _uses_ids(build, world) -> bool:
    return build(world, world.own) != build(world, world.foreign)


@pytest.mark.parametrize("role", ROLES[1:])
def test_records_of_another_station_are_not_found(app, world, role):
    """Every URL built with station 2's ids: 403 or 404 for every role of station A, never the record."""
    problems = []
    for name, (method, build, _expected) in ALL_ROWS.items():
        if not _uses_ids(build, world):
            continue
        url = build(world, world.foreign)
        response = request_as(app, world.station, role, method, url)
        allowed = (403, 404) if "?" not in url else (200, 403, 404, 422)  # a query id may be ignored
        if response.status_code not in allowed:
            problems.append(f"{name} {method} {url} as {role}: {response.status_code}")
        if FOREIGN_NAME in _body_text(response):
            problems.append(f"{name} {method} {url} as {role}: shows the other station's record")
    assert problems == [], "\n".join(problems)


def test_the_markers_show_where_they_may(app, world):
    """The leak checks above can fail: the markers do appear to those who may see the records."""
    assert GRID_A_NAME in _body_text(request_as(app, world.station, "officer_a", G, f"/residents/{world.own.resident.id}"))
    foreign = app.test_client()
    with foreign.session_transaction() as session:
        session["_user_id"] = world.foreign.user.get_id()
    assert FOREIGN_NAME in _body_text(foreign.get(f"/residents/{world.foreign.resident.id}"))
    export = request_as(app, world.station, "leader", P, "/residents/export")
    assert GRID_A_NAME in _body_text(export), "the Excel export is searched as text"
