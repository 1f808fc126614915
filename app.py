"""The Pingan application factory."""
import logging
import os
from pathlib import Path

from flask import Flask, g, has_request_context, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import bindparam, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload

from config import DEFAULT_SECRET, Config
from extensions import babel, csrf, db, htmx, limiter, login_manager, migrate



def create_app(config: type | dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, CLI, error handlers, headers."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "pingan.db")
    app.config.setdefault("UPLOAD_FOLDER", None)
    if not app.config["UPLOAD_FOLDER"]:
        app.config["UPLOAD_FOLDER"] = os.path.join(app.instance_path, "uploads")
    _refuse_unsafe_production(app)

    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    htmx.init_app(app)
    _init_login(app)

    import models  # noqa: F401  (registers every table)
    from blueprints import register_blueprints
    from errors import register_error_handlers
    from security import register_security_headers

    register_blueprints(app)
    register_error_handlers(app)
    register_security_headers(app)
    _register_cli(app)
    _register_template_helpers(app)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return app


def _refuse_unsafe_production(app: Flask) -> None:
    """A production configuration never runs with the default secret and never seeds demo data."""
    if app.config.get("PRODUCTION"):
        if app.config["SECRET_KEY"] in (None, "", DEFAULT_SECRET):
            raise RuntimeError("PINGAN_PRODUCTION is set: set SECRET_KEY to a long random value")
        app.config["DEMO"] = False


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL, a busy timeout and foreign keys on every SQLite connection (no-op elsewhere)."""
    if _is_sqlite(dbapi_connection):
        # Let SQLAlchemy emit BEGIN itself (below): pysqlite's own transaction handling breaks
        # SAVEPOINT, which the exactly-once receipts rely on.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")  # 5 s: ride out another worker's write
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    if _is_sqlite(connection.connection.dbapi_connection):
        # A request that may write takes SQLite's write lock when its transaction starts. A deferred
        # BEGIN reads first (the user) and upgrading to a write while another worker writes fails at
        # once with "database is locked" — busy_timeout is not applied to that upgrade — so online
        # forms and logins answered 503 under load (bench/README.md, "Load"); now they wait their turn.
        writes = has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def select_locale() -> str:
    """The user's saved language, else the language cookie, else Chinese (the station's default)."""
    languages = Config.LANGUAGES
    if not has_request_context():  # the CLI and background work speak the station's default
        return Config.BABEL_DEFAULT_LOCALE
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = request.cookies.get("lang")
    if chosen in languages:
        return chosen
    return Config.BABEL_DEFAULT_LOCALE


def _init_login(app: Flask) -> None:
    from models import User
    from web import json_error, wants_json

    login_manager.init_app(app)
    # The user, their station and grids in one statement (nearly every page and form needs all three),
    # built once: SQLAlchemy then finds its compiled SQL without building and hashing a new statement
    # with its loader options on every request (session.get(..., options=...) cost twice as much).
    user_by_id = (select(User).options(joinedload(User.station), joinedload(User.grids))
                  .where(User.id == bindparam("user_id")))
    # "basic", not "strong": a phone moving between Wi-Fi and 4G changes IP and must stay logged in.
    login_manager.session_protection = "basic"
    login_manager.login_view = "auth.login"

    @login_manager.user_loader
    def load_user(identity: str):
        user_id, _sep, version = identity.partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None
        try:
            user = db.session.execute(user_by_id, {"user_id": int(user_id)}).unique().scalar_one_or_none()
        except OperationalError:
            # The database is down or locked: the error answer (503) is rendered for an anonymous
            # user, or every gettext and template would ask for the user again and turn it into a 500.
            g._login_user = login_manager.anonymous_user()
            raise
        if user is None or not user.active or user.session_version != int(version):
            return None
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        if wants_json():
            return json_error(401, "unauthenticated", _("Your session has ended. Please log in again."))
        login_url = url_for("auth.login")
        if htmx:
            response = app.response_class(status=401)
            response.headers["HX-Redirect"] = login_url
            return response
        session["next"] = request.full_path if request.query_string else request.path
        return redirect(login_url)


def _register_cli(app: Flask) -> None:
    from cli import backup_command, demo_cli, restore_command, summaries_cli, users_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(summaries_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from domain.idcard import mask

    @app.context_processor
    def inject_globals():
        return {"current_locale": str(get_locale()), "app_version": app.config.get("APP_VERSION", "1")}

    from web import fixed_url, role_label, station_time

    app.jinja_env.filters["mask_id"] = mask
    app.jinja_env.filters["station_time"] = station_time
    app.jinja_env.globals["role_label"] = role_label
    app.jinja_env.globals["fixed_url"] = fixed_url
