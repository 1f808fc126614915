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


def _write_keys(connection, target: Address) -> None:
    rows = address_key_rows(target.id, target.station_id, target.search)
    if rows:
        connection.execute(insert(AddressSearchKey.__table__), rows)


def _drop_keys(connection, target: Address) -> None:
    connection.execute(delete(AddressSearchKey.__table__).where(
        AddressSearchKey.__table__.c.address_id == target.id))


@event.listens_for(Address, "after_insert")
def _address_inserted(mapper, connection, target: Address) -> None:
    _write_keys(connection, target)


@event.listens_for(Address, "after_update")
def _address_updated(mapper, connection, target: Address) -> None:
    state = inspect(target)
    if any(state.attrs[name].history.has_changes() for name in ("search", "station_id")):
        _drop_keys(connection, target)
        _write_keys(connection, target)


@event.listens_for(Address, "before_delete")
def _address_deleted(mapper, connection, target: Address) -> None:
    _drop_keys(connection, target)
