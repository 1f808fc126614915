"""The command room (综合指挥室): one screen for the whole area, and analysis reports (研判).

Features feed it through blueprints.command.sources (SOURCES / register): patrol, rentals, tasks
and missing persons are wired here (missing only when models.missing exists); visits registers
its own Source in blueprints/visits/command_source.py.
"""
from flask import Blueprint

bp = Blueprint("command", __name__)

from blueprints.command import from_patrol, from_rentals, from_tasks, routes  # noqa: E402,F401

try:  # missing persons were built alongside the command room: their layer joins when their models exist
    from blueprints.command import from_missing  # noqa: E402,F401
except ImportError:
    pass
