"""Resident visits (走访): the visit log, follow-ups, who to visit next, history and coverage."""
from flask import Blueprint

bp = Blueprint("visits", __name__)

from blueprints.home import services as home_services  # noqa: E402
from blueprints.sync import records  # noqa: E402
from blueprints.visits import command_source, routes, routes_reports, services  # noqa: E402,F401
from blueprints.visits.forms import VisitForm  # noqa: E402

# The visit is a field record: /api/sync validates it with the same form and saves it with the same
# service; the page holding the form is precached for offline use.
records.register(services.KIND, VisitForm, services.record_visit, page="visits.new",
                 summary="Resident visit: subject_type (resident|household|place) + subject_id, or a new place "
                         "(place_name, place_type, ...); purpose, outcome, notes, lat/lon/accuracy, "
                         "follow_up + follow_up_due, follow_up_id when answering one")
if services.officer_counts not in home_services.OFFICER_PROVIDERS:
    home_services.OFFICER_PROVIDERS.append(services.officer_counts)
