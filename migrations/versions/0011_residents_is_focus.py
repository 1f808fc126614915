"""residents: an indexed is_focus flag (tagged elderly_alone or wander_risk)

The visit plan and the coverage report found focus residents with `tags LIKE '% x %'`, which no
index serves (40,000 residents scanned per request). The flag mirrors the tags (models.people:
every ORM write of tags sets it); existing rows are filled here from their tags.

Revision ID: 0011
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no batch copy of the table, which other tables' foreign keys point to).
    op.add_column("residents", sa.Column("is_focus", sa.Boolean(), server_default=sa.false(), nullable=False))
    residents = sa.table("residents", sa.column("tags", sa.String), sa.column("is_focus", sa.Boolean))
    op.execute(residents.update()
               .where(sa.or_(residents.c.tags.like("% elderly_alone %"), residents.c.tags.like("% wander_risk %")))
               .values(is_focus=True))
    op.create_index("ix_residents_station_focus", "residents", ["station_id", "is_focus"], unique=False)


def downgrade():
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.drop_index("ix_residents_station_focus")
        batch_op.drop_column("is_focus")
