"""Patrol points (必到点) and check-ins."""
from flask import Blueprint

bp = Blueprint("patrol", __name__)

from blueprints.patrol import routes  # noqa: E402,F401
