"""residents/rentals: search-key tables for the active search; open tenancies and hazards summed on
the rental household

The active search matched `residents.search LIKE '% zw%'` and `addresses.search LIKE '%zw%'`, which
read every resident and every address of the station. Each key of a resident's search column (and
each suffix of the name) is now a row of resident_search_keys, each suffix of an address's search
text a row of address_search_keys; both keyed (station, [field,] key, id), so a prefix is one range
read of the primary key (WITHOUT ROWID on SQLite; keys in the "C" collation on PostgreSQL, so the
range is byte order whatever the database's locale). The rentals ledger's rules read three columns
kept on the household (open tenants, their largest registration delay, the earliest due date of its
open hazards) instead of EXISTS subqueries over tenancies and hazards per household, and an index
holding every column the rules read lets the compliance report group the households without
reading the table. The keys are
computed here from the stored search columns (no pinyin needed); the summaries are counted in SQL.
models.people / models.places / models.rentals keep all of them on write.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

KEY_LENGTH = 40  # models.places.KEY_LENGTH: a search term is at most 40 characters
BATCH = 2_000


def _key_type():
    return sa.String(KEY_LENGTH).with_variant(sa.String(KEY_LENGTH, collation="C"), "postgresql")


def _resident_keys(row) -> list[dict]:
    """models.people.resident_key_rows, as of this revision."""
    keys = {("k", key[:KEY_LENGTH]) for key in (row.search or "").split()}
    compact = (row.name or "").replace(" ", "").lower()
    keys |= {("n", compact[i:i + KEY_LENGTH]) for i in range(len(compact))}
    return [{"station_id": row.station_id, "field": field, "key": key, "resident_id": row.id}
            for field, key in sorted(keys)]


def _address_keys(row) -> list[dict]:
    """models.places.address_key_rows, as of this revision."""
    text = row.search or ""
    return [{"station_id": row.station_id, "key": key, "address_id": row.id}
            for key in sorted({text[i:i + KEY_LENGTH] for i in range(len(text))})]


def _fill(source, target, make_rows) -> None:
    """Insert the key rows of every source row, a batch of source rows at a time."""
    connection = op.get_bind()
    last_id = 0
    while True:
        rows = connection.execute(sa.select(source).where(source.c.id > last_id)
                                  .order_by(source.c.id).limit(BATCH)).all()
        if not rows:
            return
        keys = [key for row in rows for key in make_rows(row)]
        if keys:
            connection.execute(target.insert(), keys)
        last_id = rows[-1].id


def upgrade():
    op.create_table(
        "resident_search_keys",
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=1), nullable=False),
        sa.Column("key", _key_type(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("station_id", "field", "key", "resident_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_resident_search_keys_resident_id", "resident_search_keys", ["resident_id"], unique=False)
    op.create_table(
        "address_search_keys",
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("key", _key_type(), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["address_id"], ["addresses.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("station_id", "key", "address_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_address_search_keys_address_id", "address_search_keys", ["address_id"], unique=False)
    residents = sa.table("residents", sa.column("id", sa.Integer), sa.column("station_id", sa.Integer),
                         sa.column("name", sa.String), sa.column("search", sa.String))
    addresses = sa.table("addresses", sa.column("id", sa.Integer), sa.column("station_id", sa.Integer),
                         sa.column("search", sa.String))
    resident_keys = sa.table("resident_search_keys", sa.column("station_id", sa.Integer),
                             sa.column("field", sa.String), sa.column("key", sa.String),
                             sa.column("resident_id", sa.Integer))
    address_keys = sa.table("address_search_keys", sa.column("station_id", sa.Integer),
                            sa.column("key", sa.String), sa.column("address_id", sa.Integer))
    _fill(residents, resident_keys, _resident_keys)
    _fill(addresses, address_keys, _address_keys)

    # Plain ADD COLUMNs (no batch copy of a table other tables' foreign keys point to).
    op.add_column("rental_households", sa.Column("open_tenants", sa.Integer(), server_default="0", nullable=False))
    op.add_column("rental_households", sa.Column("open_registration_delay", sa.Integer(), nullable=True))
    op.add_column("rental_households", sa.Column("open_hazard_due", sa.Date(), nullable=True))
    households = sa.table("rental_households", sa.column("id", sa.Integer), sa.column("open_tenants", sa.Integer),
                          sa.column("open_registration_delay", sa.Integer), sa.column("open_hazard_due", sa.Date))
    tenancies = sa.table("tenancies", sa.column("household_id", sa.Integer), sa.column("move_out", sa.Date),
                         sa.column("registration_delay_days", sa.Integer))
    hazards = sa.table("hazards", sa.column("household_id", sa.Integer), sa.column("due_on", sa.Date),
                       sa.column("resolved_on", sa.Date))
    open_tenancy = (tenancies.c.household_id == households.c.id, tenancies.c.move_out.is_(None))
    op.execute(households.update().values(
        open_tenants=sa.select(sa.func.count()).where(*open_tenancy).scalar_subquery(),
        open_registration_delay=sa.select(sa.func.max(tenancies.c.registration_delay_days))
        .where(*open_tenancy).scalar_subquery(),
        open_hazard_due=sa.select(sa.func.min(hazards.c.due_on))
        .where(hazards.c.household_id == households.c.id, hazards.c.resolved_on.is_(None)).scalar_subquery()))
    op.create_index("ix_rental_households_station_rules", "rental_households",
                    ["station_id", "grid_id", "officer_id", "use", "last_inspected_on", "registered_on", "lease_end",
                     "open_tenants", "open_registration_delay", "open_hazard_due", "landlord_id", "rooms",
                     "lease_start"], unique=False)


def downgrade():
    with op.batch_alter_table("rental_households", schema=None) as batch_op:
        batch_op.drop_index("ix_rental_households_station_rules")
        batch_op.drop_column("open_hazard_due")
        batch_op.drop_column("open_registration_delay")
        batch_op.drop_column("open_tenants")
    op.drop_index("ix_address_search_keys_address_id", table_name="address_search_keys")
    op.drop_table("address_search_keys")
    op.drop_index("ix_resident_search_keys_resident_id", table_name="resident_search_keys")
    op.drop_table("resident_search_keys")
