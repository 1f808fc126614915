"""Standard addresses (标准地址): one row per place, reused by every ledger that points at it."""
from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint, delete, event, insert, inspect
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db

# A search term is at most this long (residents.services.normalise_query), so keys cut to this
# length match a term by prefix exactly as the whole key would.
KEY_LENGTH = 40


def key_type(length: int = KEY_LENGTH):
    """A key column: compared byte by byte on every database, so `key >= 'zw' AND key < 'zx'` is
    exactly "starts with zw" and reads an index (SQLite's default BINARY; "C" on PostgreSQL, whose
    database collation may be a locale's)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def prefix_range(column, term: str):
    """`column` starts with `term`, as an index range: term <= column < term with its last
    character incremented (byte order = code point order in UTF-8)."""
    last = ord(term[-1])
    upper = term[:-1] + chr(last + 1) if last not in (0xD7FF, 0x10FFFF) else term + "\U0010ffff"
    return (column >= term) & (column < upper)


def address_search_text(community: str, street: str, building: str = "", unit: str = "", room: str = "") -> str:
    """The address as one lower-case string without spaces: found by any part of it (AddressSearchKey)."""
    return "".join(p for p in (community, street, building, unit, room) if p).replace(" ", "").lower()


class Address(db.Model):
    """A standard address: community, street, building, unit, room; position in WGS-84."""

    __tablename__ = "addresses"
    __table_args__ = (
        UniqueConstraint("station_id", "community", "street", "building", "unit", "room"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    community: Mapped[str] = mapped_column(String(60))
    street: Mapped[str] = mapped_column(String(80))
    building: Mapped[str] = mapped_column(String(20), default="")
    unit: Mapped[str] = mapped_column(String(20), default="")
    room: Mapped[str] = mapped_column(String(20), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # Prepared search column (address_search_text): filled on write; its suffixes are the
    # AddressSearchKey rows the residents search reads (the rentals list still matches it with LIKE).
    search: Mapped[str] = mapped_column(String(200), default="", server_default="")

    @property
    def label(self) -> str:
        parts = [self.community, self.street, self.building, self.unit, self.room]
        return " ".join(p for p in parts if p)


class AddressSearchKey(db.Model):
    """One suffix of an address's search column (cut to KEY_LENGTH): a prefix range on the
    (station, key) primary key finds the addresses whose search text contains the term, as
    `search LIKE '%term%'` would, without reading every address. Kept on write by the events below."""

    __tablename__ = "address_search_keys"
    # SQLite: the rows live in the primary key's B-tree, so a prefix read is one range scan.
    __table_args__ = {"sqlite_with_rowid": False}
    # A copy of the address's station (the index's first column), not a foreign key: these derived
    # rows are checked through their address (ON DELETE CASCADE), and a station's ~400,000 keys load
    # without a second foreign-key check each (the demo seeder's COPY on PostgreSQL).
    station_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(key_type(), primary_key=True)
    address_id: Mapped[int] = mapped_column(ForeignKey("addresses.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)


def address_key_rows(address_id: int, station_id: int, search: str | None) -> list[dict]:
    """The AddressSearchKey rows of one address: every suffix of its search text."""
    text = search or ""
    keys = sorted({text[i:i + KEY_LENGTH] for i in range(len(text))})
    return [{"station_id": station_id, "key": key, "address_id": address_id} for key in keys]


def keep_search_keys(model, key_table, owner_column: str, rows_of, watched: tuple[str, ...]) -> None:
    """Keep `key_table`'s rows of each `model` row equal to `rows_of(target)`: written after an insert,
    rewritten after an update of a `watched` attribute, dropped before a delete (Resident, Address)."""
    owner = key_table.c[owner_column]

    def drop(connection, target) -> None:
        connection.execute(delete(key_table).where(owner == target.id))

    def write(connection, target) -> None:
        rows = rows_of(target)
        if rows:
            connection.execute(insert(key_table), rows)

    def updated(mapper, connection, target) -> None:
        state = inspect(target)
        if any(state.attrs[name].history.has_changes() for name in watched):
            drop(connection, target)
            write(connection, target)

    event.listen(model, "after_insert", lambda mapper, connection, target: write(connection, target))
    event.listen(model, "after_update", updated)
    event.listen(model, "before_delete", lambda mapper, connection, target: drop(connection, target))


keep_search_keys(Address, AddressSearchKey.__table__, "address_id",
                 lambda a: address_key_rows(a.id, a.station_id, a.search), ("search", "station_id"))
