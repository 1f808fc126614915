"""The command room (综合指挥室): one screen for the whole area, and analysis reports (研判).

Features feed it through blueprints.command.sources (SOURCES / register): patrol, rentals and tasks
are wired here; a feature built later (visits, missing persons) registers its own Source.
"""
from flask import Blueprint

bp = Blueprint("command", __name__)

from blueprints.command import from_patrol, from_rentals, from_tasks, routes  # noqa: E402,F401
