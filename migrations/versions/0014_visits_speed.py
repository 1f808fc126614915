"""visits: last visit per resident and visits per local day, kept on write; focus residents' addresses indexed

"Who to visit" looked up every candidate's visits (the latest, and one in the last 30 days) and the
coverage report looked up every focus resident's visits and grouped 90 days of visits on each
request. resident_visit_states holds each resident's last visit (met or refused) and
visit_day_totals the visits (and no-one-home ones) per station, local day (Asia/Shanghai), grid and
officer; models.visits' mapper events keep both in the same flush as each visit. grid_id 0 means
"no grid". ix_residents_station_focus_address lets both pages go from a station's focus residents
to their addresses without reading the residents rows. Existing visits are counted here.

Revision ID: 0014
Revises: 0013
"""
from datetime import timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import models.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def upgrade():
    op.create_table(
        "resident_visit_states",
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("last_visited_at", models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"]),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"]),
        sa.PrimaryKeyConstraint("resident_id"),
    )
    op.create_table(
        "visit_day_totals",
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("no_one_home", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["officer_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"]),
        sa.PrimaryKeyConstraint("station_id", "local_day", "grid_id", "officer_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_residents_station_focus_address", "residents", ["station_id", "is_focus", "address_id"],
                    unique=False)
    _backfill()


def _backfill():
    visits = sa.table("visits", sa.column("station_id", sa.Integer), sa.column("grid_id", sa.Integer),
                      sa.column("officer_id", sa.Integer), sa.column("resident_id", sa.Integer),
                      sa.column("outcome", sa.String), sa.column("recorded_at", models.types.UTCDateTime))
    states = sa.table("resident_visit_states", sa.column("resident_id", sa.Integer),
                      sa.column("station_id", sa.Integer), sa.column("last_visited_at", models.types.UTCDateTime))
    totals = sa.table("visit_day_totals", *(sa.column(name, sa.Integer) for name in (
        "station_id", "grid_id", "officer_id", "visits", "no_one_home")), sa.column("local_day", sa.Date))
    visited = visits.c.outcome.in_(("met", "refused"))
    op.execute(states.insert().from_select(
        ["resident_id", "station_id", "last_visited_at"],
        sa.select(visits.c.resident_id, sa.func.min(visits.c.station_id), sa.func.max(visits.c.recorded_at))
        .where(visits.c.resident_id.is_not(None), visited).group_by(visits.c.resident_id)))
    # Local days in Python: the time-zone arithmetic differs between SQLite and PostgreSQL.
    days = {}
    connection = op.get_bind()
    for station_id, grid_id, officer_id, outcome, recorded_at in connection.execute(sa.select(
            visits.c.station_id, visits.c.grid_id, visits.c.officer_id, visits.c.outcome, visits.c.recorded_at)):
        day = recorded_at.replace(tzinfo=recorded_at.tzinfo or timezone.utc).astimezone(LOCAL_TZ).date()
        counts = days.setdefault((station_id, day, grid_id or 0, officer_id), [0, 0])
        counts[0] += 1
        counts[1] += outcome == "no_one_home"
    if days:
        connection.execute(totals.insert(), [
            {"station_id": s, "local_day": d, "grid_id": g, "officer_id": o, "visits": n, "no_one_home": nobody}
            for (s, d, g, o), (n, nobody) in days.items()])


def downgrade():
    op.drop_index("ix_residents_station_focus_address", table_name="residents")
    op.drop_table("visit_day_totals")
    op.drop_table("resident_visit_states")
