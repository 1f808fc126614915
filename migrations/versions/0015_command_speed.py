"""command/tasks: indexes the command room reads the rentals ledger by (issue 8's screen speed)

Today's and a period's registrations, inspections and tenants per grid, and the analysis's hour
table of registrations and inspections, each read a range of one station's rows instead of all of
them; the households whose inspection is overdue are counted per grid from an index alone. Declared in models/tasks.py (the rentals models stay as their feature wrote them).

Revision ID: 0015
Revises: 0014
"""
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_inspections_station_inspected", "inspections", ["station_id", "inspected_on", "household_id"]),
    ("ix_inspections_station_recorded", "inspections", ["station_id", "recorded_at"]),
    ("ix_rental_households_station_registered", "rental_households", ["station_id", "registered_on"]),
    ("ix_rental_households_station_recorded", "rental_households", ["station_id", "recorded_at"]),
    ("ix_rental_households_station_overdue", "rental_households",
     ["station_id", "grid_id", "use", "last_inspected_on", "registered_on"]),
    ("ix_tenancies_station_registered", "tenancies", ["station_id", "registered_on", "household_id"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
