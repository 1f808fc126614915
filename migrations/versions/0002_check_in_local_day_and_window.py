"""Check-ins: local (Asia/Shanghai) day and shift-window flag, for portable GROUP BY reports.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

"""
from datetime import timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    # Added nullable, back-filled from recorded_at (stored as naive UTC), then made NOT NULL, so
    # a database that already holds check-ins upgrades too.
    with op.batch_alter_table("check_ins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("local_day", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("in_window", sa.Boolean(), nullable=True))

    check_ins = sa.table("check_ins", sa.column("id", sa.Integer), sa.column("recorded_at", sa.DateTime),
                         sa.column("local_day", sa.Date))
    connection = op.get_bind()
    local = ZoneInfo("Asia/Shanghai")
    for row_id, recorded_at in connection.execute(sa.select(check_ins.c.id, check_ins.c.recorded_at)).all():
        day = recorded_at.replace(tzinfo=timezone.utc).astimezone(local).date()
        connection.execute(check_ins.update().where(check_ins.c.id == row_id).values(local_day=day))

    with op.batch_alter_table("check_ins", schema=None) as batch_op:
        batch_op.alter_column("local_day", existing_type=sa.Date(), nullable=False)
        batch_op.create_index("ix_check_ins_station_day", ["station_id", "local_day"], unique=False)


def downgrade():
    with op.batch_alter_table("check_ins", schema=None) as batch_op:
        batch_op.drop_index("ix_check_ins_station_day")
        batch_op.drop_column("in_window")
        batch_op.drop_column("local_day")
