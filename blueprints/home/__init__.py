"""Each role's home page, the navigation, and the health check."""
from flask import Blueprint

bp = Blueprint("home", __name__)

from blueprints.home import routes  # noqa: E402,F401
