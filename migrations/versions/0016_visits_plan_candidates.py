"""visits: the plan's candidates kept on write (visit_candidates)

"Who to visit" walked every focus resident of the station and every open tenancy of the overdue
rental households to their addresses, then kept the few in the officer's grids and around the
officer. visit_candidates holds every focus resident (household_id 0) and every open tenancy (its
household) with the grid and position of the resident's address, indexed by (station, grid, lat,
...), so the plan reads one index range, and by (station, household, grid, ...), so the coverage
counts a station's focus residents (household 0) per grid from the index alone. models.visits'
session listener recomputes a resident's rows after each flush that touched them. Existing rows are
computed here with the same INSERT .. SELECT. The visits' (household, recorded_at) index gains the
outcome, so the coverage's "household visited since" reads no visit rows.

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "visit_candidates",
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("is_focus", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("resident_id", "household_id"),
    )
    op.create_index("ix_visit_candidates_box", "visit_candidates",
                    ["station_id", "grid_id", "lat", "lon", "is_focus", "household_id", "resident_id"], unique=False)
    op.create_index("ix_visit_candidates_station_household", "visit_candidates",
                    ["station_id", "household_id", "grid_id", "resident_id"], unique=False)
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_index("ix_visits_household_recorded")
        batch_op.create_index("ix_visits_household_visited", ["household_id", "recorded_at", "outcome"], unique=False)
    _backfill()


def _backfill():
    residents = sa.table("residents", sa.column("id", sa.Integer), sa.column("station_id", sa.Integer),
                         sa.column("address_id", sa.Integer), sa.column("is_focus", sa.Boolean))
    addresses = sa.table("addresses", sa.column("id", sa.Integer), sa.column("grid_id", sa.Integer),
                         sa.column("lat", sa.Float), sa.column("lon", sa.Float))
    tenancies = sa.table("tenancies", sa.column("resident_id", sa.Integer), sa.column("household_id", sa.Integer),
                         sa.column("move_out", sa.Date))
    candidates = sa.table("visit_candidates", *(sa.column(name) for name in (
        "resident_id", "household_id", "station_id", "grid_id", "lat", "lon", "is_focus")))
    r, a, t = residents, addresses, tenancies
    focus = (sa.select(r.c.id, sa.literal_column("0", sa.Integer), r.c.station_id, a.c.grid_id, a.c.lat, a.c.lon,
                       r.c.is_focus)
             .select_from(r.join(a, a.c.id == r.c.address_id)).where(r.c.is_focus.is_(True)))
    tenants = (sa.select(r.c.id, t.c.household_id, r.c.station_id, a.c.grid_id, a.c.lat, a.c.lon, r.c.is_focus)
               .select_from(t.join(r, r.c.id == t.c.resident_id).join(a, a.c.id == r.c.address_id))
               .where(t.c.move_out.is_(None)))
    op.execute(candidates.insert().from_select(
        ["resident_id", "household_id", "station_id", "grid_id", "lat", "lon", "is_focus"], sa.union(focus, tenants)))


def downgrade():
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_index("ix_visits_household_visited")
        batch_op.create_index("ix_visits_household_recorded", ["household_id", "recorded_at"], unique=False)
    op.drop_index("ix_visit_candidates_station_household", table_name="visit_candidates")
    op.drop_index("ix_visit_candidates_box", table_name="visit_candidates")
    op.drop_table("visit_candidates")
