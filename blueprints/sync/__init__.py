"""The offline sync API: POST /api/sync, /api/sync/attachments, /api/openapi.json."""
from flask import Blueprint

bp = Blueprint("sync", __name__)

from blueprints.sync import routes  # noqa: E402,F401
