"""visits: last visit per rental household, kept on write (household_visit_states)

The coverage report looked up every rental household's visits (twice: visited in the last 30 days,
in the last 90) on each request. household_visit_states holds each household's last visit that
counts as visited (met or refused, any visit to it: the coverage's rule), filed under the
household's station; models.visits' mapper events keep it in the same flush as each visit, and the
coverage reads a station's households per grid from ix_rental_households_station_grid with one
primary-key look-up each here. Existing visits are counted here.

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

import models.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "household_visit_states",
        sa.Column("household_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("last_visited_at", models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["rental_households.id"]),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"]),
        sa.PrimaryKeyConstraint("household_id"),
    )
    _backfill()


def _backfill():
    visits = sa.table("visits", sa.column("household_id", sa.Integer), sa.column("outcome", sa.String),
                      sa.column("recorded_at", models.types.UTCDateTime))
    households = sa.table("rental_households", sa.column("id", sa.Integer), sa.column("station_id", sa.Integer))
    states = sa.table("household_visit_states", sa.column("household_id", sa.Integer),
                      sa.column("station_id", sa.Integer), sa.column("last_visited_at", models.types.UTCDateTime))
    v, h = visits, households
    op.execute(states.insert().from_select(
        ["household_id", "station_id", "last_visited_at"],
        sa.select(h.c.id, h.c.station_id, sa.func.max(v.c.recorded_at))
        .select_from(h.join(v, v.c.household_id == h.c.id))
        .where(v.c.outcome.in_(("met", "refused"))).group_by(h.c.id, h.c.station_id)))


def downgrade():
    op.drop_table("household_visit_states")
