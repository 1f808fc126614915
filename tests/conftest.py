"""Fixtures shared by the suite (Flask tutorial style: app, client, runner, auth).

The database is SQLite in a temporary file by default; with PINGAN_TEST_DB=postgres the suite runs
against TEST_DATABASE_URL instead (CI runs both). Tables are created once per session and emptied
after every test.
"""
import contextlib
import contextvars
import os
import re
import uuid

import pytest
from flask.globals import _cv_app
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text

from app import create_app
from config import TestConfig, database_url
from extensions import db, limiter
from tests import factories


def _database_url(tmp_path_factory) -> str:
    if os.environ.get("PINGAN_TEST_DB") == "postgres":
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            raise RuntimeError("PINGAN_TEST_DB=postgres needs TEST_DATABASE_URL")
        return database_url(url)
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")


class IsolatedClient(FlaskClient):
    """A test client whose requests run in their own app context, as in production.

    The test itself holds an app context (for factories and queries); without this, every request
    would reuse it and share `g` (a stale CSRF token) and the test's database session. The test's
    transaction is committed before and ended after each request so both sides see fresh data.
    """

    def open(self, *args, **kwargs):
        db.session.commit()
        context = contextvars.copy_context()
        try:
            return context.run(self._open_without_app_context, *args, **kwargs)
        finally:
            db.session.rollback()

    def _open_without_app_context(self, *args, **kwargs):
        _cv_app.set(None)  # the request pushes an app context of its own, with its own g and session
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def _session_app(tmp_path_factory):
    upload_dir = tmp_path_factory.mktemp("uploads")
    app = create_app(
        {
            **{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
            "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path_factory),
            "UPLOAD_FOLDER": str(upload_dir),
        }
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def empty_tables() -> None:
    """Delete every row, children first, so the next test starts from nothing."""
    db.session.remove()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def app(_session_app):
    """The app, inside an app context, with empty tables after the test."""
    with _session_app.app_context():
        yield _session_app
        empty_tables()
    limiter.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new empty database of the kind under test (SQLite file or PostgreSQL), dropped after:
    for migration tests, which upgrade and downgrade a database of their own."""
    if os.environ.get("PINGAN_TEST_DB") != "postgres":
        yield "sqlite:///" + str(tmp_path / "migrate.db")
        return
    base = database_url(os.environ["TEST_DATABASE_URL"])
    name = f"pingan_migrate_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_from(response) -> str:
    """The CSRF token a page carries in its <meta> (what htmx sends as X-CSRFToken)."""
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, "page has no csrf-token meta"
    return match.group(1)


class AuthActions:
    """Log in and out through the real forms, CSRF token included."""

    def __init__(self, client):
        self.client = client
        self.token = None

    def login(self, login="demo-officer", password=factories.PASSWORD, **kwargs):
        page = self.client.get("/auth/login")
        self.token = csrf_from(page)
        response = self.client.post("/auth/login", data={"login": login, "password": password,
                                                         "csrf_token": self.token}, **kwargs)
        self.token = None  # the session was renewed at login: the next form needs a new token
        return response

    def csrf(self, url="/me") -> str:
        """A fresh token from a logged-in page."""
        self.token = csrf_from(self.client.get(url))
        return self.token

    def post(self, url, data=None, **kwargs):
        """POST a form with the CSRF token of the session."""
        data = dict(data or {})
        data.setdefault("csrf_token", self.token or self.csrf())
        return self.client.post(url, data=data, **kwargs)

    def logout(self):
        return self.post("/auth/logout")


@contextlib.contextmanager
def queries():
    """Collect the SQL statements run inside the block (for "the count does not grow" tests)."""
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def count_queries(client, url: str) -> int:
    """How many statements a GET of `url` runs; the page must answer 200."""
    with queries() as statements:
        assert client.get(url).status_code == 200, url
    return len(statements)


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def station(app):
    """A station with two grids and one user of each role (officers in grid A and grid B)."""
    return factories.make_station_with_staff()


@pytest.fixture
def clear_of_station_midnight():
    """Tests that make today's records "a few minutes ago" run at least an hour into the station's
    day: between 00:00 and 01:00 Asia/Shanghai (16:00-17:00 UTC) "30 minutes ago" is yesterday
    there. Outside that hour the clock is left alone; inside it, it starts at 01:00 and runs on."""
    from datetime import datetime, timedelta

    import time_machine

    from blueprints.home.services import LOCAL_TZ

    now = datetime.now(LOCAL_TZ)
    if now.hour >= 1:
        yield
        return
    with time_machine.travel(now.replace(hour=1, minute=0, second=0) + timedelta(seconds=now.second), tick=True):
        yield
