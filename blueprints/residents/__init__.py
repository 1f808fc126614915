"""Residents (实有人口): the people ledger, active search, masked numbers, audited reveal, Excel."""
from flask import Blueprint

bp = Blueprint("residents", __name__)

from blueprints.residents import routes  # noqa: E402,F401
