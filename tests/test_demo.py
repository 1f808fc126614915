"""The demo station: deterministic, with the documented logins."""
from sqlalchemy import func, select

import demo
from extensions import db
from models import Grid, User
from tests.conftest import AuthActions


def test_seed_creates_station_and_demo_logins(app):
    demo.seed("small", 7)
    names = set(db.session.scalars(select(User.username)))
    assert {"demo-officer", "demo-command", "demo-case", "demo-leader"} <= names
    assert db.session.scalar(select(func.count(Grid.id))) == 4
    assert AuthActions(app.test_client()).login("demo-leader", demo.DEMO_PASSWORD).status_code == 303


def test_seed_is_deterministic(app):
    """The same seed gives the same people (so benchmarks and screenshots are repeatable)."""
    demo.seed("small", 3)
    first = sorted(db.session.scalars(select(User.name)))
    from tests.conftest import empty_tables

    empty_tables()
    demo.seed("small", 3)
    assert sorted(db.session.scalars(select(User.name))) == first


def test_seed_command_refuses_a_non_empty_database(app, runner):
    app.config["DEMO"] = True
    try:
        assert runner.invoke(args=["demo", "seed"]).exit_code == 0
        again = runner.invoke(args=["demo", "seed"])
        assert again.exit_code != 0
        assert runner.invoke(args=["demo", "seed", "--if-empty"]).exit_code == 0
    finally:
        app.config["DEMO"] = False
