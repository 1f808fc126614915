"""Rental households (出租房屋): registration, tenants, inspections, hazards, compliance."""
from flask import Blueprint

bp = Blueprint("rentals", __name__)

from blueprints.rentals import routes  # noqa: E402,F401
