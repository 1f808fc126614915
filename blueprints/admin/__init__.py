"""Station administration for leaders: users, roles, grids."""
from flask import Blueprint

bp = Blueprint("admin", __name__)

from blueprints.admin import routes  # noqa: E402,F401
