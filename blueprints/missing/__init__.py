"""Missing persons (走失): vulnerable-person profiles, one-tap reports, the station-wide banner,
sightings, found and cancelled cases, the command room's search map and the printable notice."""
from flask import Blueprint

bp = Blueprint("missing", __name__)

from blueprints.missing import routes, routes_case, routes_profiles, services  # noqa: E402,F401
from blueprints.missing.forms import MissingReportForm, SightingForm  # noqa: E402
from blueprints.sync import records  # noqa: E402

# Both field forms sync through /api/sync with the same form classes and services. The report page
# is precached for offline use; a sighting's form lives on each case's page.
records.register(services.REPORT_KIND, MissingReportForm, services.record_report, page="missing.new",
                 summary="Missing-person report: resident_id, name, sex, age, height_cm, clothing, description, "
                         "risk, last_seen_at (Beijing time or ISO 8601), last_seen_place, lat, lon (WGS-84), "
                         "circumstances, reporter_name, reporter_phone")
records.register(services.SIGHTING_KIND, SightingForm, services.record_sighting, page=None,
                 summary="Sighting of a missing person: case_id, seen_at, place, lat, lon (WGS-84), note")
