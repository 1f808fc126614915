"""Migrations: an empty database upgrades to head, matches the models, and downgrades to base."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app import create_app
from config import TestConfig
from extensions import db


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
