"""All models, imported here so Alembic's autogenerate and create_all() see every table."""
from models.audit import AuditEvent, audit  # noqa: F401
from models.patrols import CheckIn, PatrolPoint  # noqa: F401
from models.missing import AlertState, CaseEvent, MissingPersonCase, Sighting, VulnerableProfile  # noqa: F401
from models.people import Resident  # noqa: F401
from models.places import Address  # noqa: F401
from models.rentals import Hazard, Inspection, RentalHousehold, Tenancy  # noqa: F401
from models.stations import Grid, Station, user_grids  # noqa: F401
from models.sync import Attachment, SyncReceipt  # noqa: F401
from models.tasks import Task, TaskEvent  # noqa: F401
from models.types import UTCDateTime, utcnow  # noqa: F401
from models.users import CASE, COMMAND, COMMUNITY, LEADER, ROLES, User  # noqa: F401
from models.visits import FollowUp, Place, Visit  # noqa: F401
