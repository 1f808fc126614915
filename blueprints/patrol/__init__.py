"""Patrol points (必到点) and check-ins."""
from flask import Blueprint

bp = Blueprint("patrol", __name__)

from blueprints.home import services as home_services  # noqa: E402
from blueprints.patrol import routes, routes_manage, services  # noqa: E402,F401
from blueprints.patrol.forms import CheckInForm  # noqa: E402
from blueprints.sync import records  # noqa: E402

# The check-in is a field record: /api/sync validates it with the same form and saves it with
# the same service; the page is precached for offline use.
records.register("checkin", CheckInForm, services.record_check_in, page="patrol.check_in",
                 summary="Patrol check-in: lat, lon (WGS-84), accuracy (m), point_id, qr_token, note")
if services.officer_counts not in home_services.OFFICER_PROVIDERS:
    home_services.OFFICER_PROVIDERS.append(services.officer_counts)
if services.station_counts not in home_services.STATION_PROVIDERS:
    home_services.STATION_PROVIDERS.append(services.station_counts)
