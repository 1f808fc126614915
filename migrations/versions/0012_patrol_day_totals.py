"""patrol_day_totals: check-in counts per station, local day, officer and point, kept on write

The 31-day compliance report grouped every check-in of the period (~8,000 at station scale) by
officer, point and day on each request. These rows hold that grouping (done, outside the window,
flagged, all), kept up to date in the same flush as each check-in (models.patrols' mapper
events), so the report reads ~3,500 small rows. point_id 0 means "no point". The key is (station,
officer, point, day): the report looks up its officers x points over a day range, each pair's days
one contiguous run in GROUP BY order; on SQLite the table is WITHOUT ROWID (rows in the key's order).
Existing check-ins are counted here.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "patrol_day_totals",
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("outside_window", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Integer(), nullable=False),
        sa.Column("check_ins", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["officer_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"]),
        sa.PrimaryKeyConstraint("station_id", "officer_id", "point_id", "local_day"),
        sqlite_with_rowid=False,
    )
    check_ins = sa.table("check_ins", sa.column("station_id", sa.Integer), sa.column("officer_id", sa.Integer),
                         sa.column("point_id", sa.Integer), sa.column("local_day", sa.Date),
                         sa.column("in_window", sa.Boolean), sa.column("flags", sa.String))
    totals = sa.table("patrol_day_totals", *(sa.column(name, sa.Integer) for name in (
        "station_id", "officer_id", "point_id", "local_day", "done", "outside_window", "flagged", "check_ins")))
    c = check_ins.c
    point = sa.func.coalesce(c.point_id, 0)
    late = c.in_window.is_(False)
    counts = (sa.select(c.station_id, c.officer_id, point, c.local_day,
                        sa.func.sum(sa.case((late, 0), else_=1)), sa.func.sum(sa.case((late, 1), else_=0)),
                        sa.func.sum(sa.case((c.flags != "", 1), else_=0)), sa.func.count())
              .group_by(c.station_id, c.officer_id, point, c.local_day))
    op.execute(totals.insert().from_select(list(totals.c.keys()), counts))


def downgrade():
    op.drop_table("patrol_day_totals")
