"""Migrations: an empty database upgrades to head, matches the models, and downgrades to base."""
import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from app import create_app
from config import TestConfig, database_url
from extensions import db


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new empty database of the kind under test (SQLite file or PostgreSQL)."""
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


def test_upgrade_matches_models_and_downgrades(empty_database_url):
    """`flask db upgrade` builds exactly the tables the models declare; downgrade removes them."""
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                    db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        assert "check_ins" in inspect(db.engine).get_table_names()
        downgrade(revision="base")
        leftover = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert leftover == set()
        db.engine.dispose()
