"""Home pages per role, the account page, and /healthz."""
import time

from flask import jsonify
from flask_login import current_user
from sqlalchemy import text

from blueprints.home import bp
from blueprints.home.nav import nav_items, quick_actions
from blueprints.home import services
from extensions import db
from models.users import COMMUNITY
from web import render, requires


@bp.app_context_processor
def inject_nav():
    if current_user.is_authenticated:
        return {"nav_items": nav_items(current_user)}
    return {"nav_items": []}


@bp.get("/")
@requires()
def index():
    """The logged-in user's home: quick actions on a phone, a dashboard frame on a desktop."""
    if current_user.role == COMMUNITY:
        return render(
            "home/officer.html", summary=services.officer_summary(current_user), actions=quick_actions()
        )
    return render("home/station.html", summary=services.station_summary(current_user))


@bp.get("/me")
@requires()
def account():
    """The user's own account: grids, language, password, log out."""
    return render("home/account.html")


@bp.get("/healthz")
def healthz():
    """Liveness with a database round trip; 503 when the database does not answer."""
    started = time.perf_counter()
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any driver error means "down" here; the detail goes to the log
        db.session.rollback()
        return jsonify({"status": "error", "database": "unreachable"}), 503
    elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
    return jsonify({"status": "ok", "database": "ok", "db_ms": elapsed_ms})
