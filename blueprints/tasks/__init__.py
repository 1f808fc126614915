"""Tasks (指令): the command room pushes work to officers or grids and reviews their feedback."""
from flask import Blueprint

bp = Blueprint("tasks", __name__)

from blueprints.home import services as home_services  # noqa: E402
from blueprints.sync import records  # noqa: E402
from blueprints.tasks import routes, routes_steps, services  # noqa: E402,F401
from blueprints.tasks.forms import TaskFeedbackForm  # noqa: E402

# The feedback is a field record: /api/sync validates it with the same form and saves it with the
# same service. page=None: the form lives on each task's page, not on one page to precache.
records.register(services.KIND, TaskFeedbackForm, services.record_task_feedback, page=None,
                 summary="Task feedback: task_id, outcome (done|returned), text, lat, lon (WGS-84), accuracy (m)")
if services.officer_counts not in home_services.OFFICER_PROVIDERS:
    home_services.OFFICER_PROVIDERS.append(services.officer_counts)
if services.station_counts not in home_services.STATION_PROVIDERS:
    home_services.STATION_PROVIDERS.append(services.station_counts)
