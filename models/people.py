"""Residents (实有人口): one row per person on the station's books."""
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from extensions import db
from models.places import KEY_LENGTH, Address, keep_search_keys, key_type
from models.types import UTCDateTime, utcnow

# Stored codes; the labels (常住, 流动, 寄住) are translated by the app.
CATEGORIES = ("permanent", "floating", "lodging")
TAGS = ("elderly_alone", "wander_risk", "disability", "left_behind_child", "key_person")
# Focus residents (重点关注) of visits: tagged 独居老人 or 走失风险; kept in Resident.is_focus (indexed).
FOCUS_TAGS = ("elderly_alone", "wander_risk")


def is_focus_tags(tags: str | None) -> bool:
    """True when a tags string (" a b ") holds one of FOCUS_TAGS."""
    return any(tag in FOCUS_TAGS for tag in (tags or "").split())


class Resident(db.Model):
    """A person: document (normalised), derived birth date and sex, phone (E.164), address, tags.

    `tags` is a space-separated list with a space at both ends (" elderly_alone wander_risk "), so
    one tag is found with `LIKE '% tag %'` on every database. `search` holds the prepared search
    keys (name, pinyin spellings and initials, number tails, phone digits); each key is also a row
    of ResidentSearchKey (kept on write by the mapper events below), which the active search reads.
    `is_focus` mirrors the tags (one of FOCUS_TAGS) so the visit plan and coverage find focus
    residents through an index; every ORM write of `tags` sets it (the validator below), and a Core
    insert must pass it (blueprints/rentals/demo.py does).
    """

    __tablename__ = "residents"
    __table_args__ = (
        UniqueConstraint("station_id", "doc_type", "doc_number"),
        Index("ix_residents_station_search", "station_id", "search"),
        Index("ix_residents_station_focus", "station_id", "is_focus"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    doc_type: Mapped[str] = mapped_column(String(20), default="resident")
    doc_number: Mapped[str] = mapped_column(String(20))
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(6))
    phone: Mapped[str | None] = mapped_column(String(20))
    address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id"), index=True)
    category: Mapped[str] = mapped_column(String(12), default="permanent")
    tags: Mapped[str] = mapped_column(String(200), default=" ")
    is_focus: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    notes: Mapped[str | None] = mapped_column(String(500))
    search: Mapped[str] = mapped_column(String(600), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    address: Mapped[Address | None] = relationship()

    @validates("tags")
    def _keep_focus(self, _key, tags):
        self.is_focus = is_focus_tags(tags)
        return tags

    @property
    def tag_list(self) -> list[str]:
        return (self.tags or "").split()

    def __repr__(self) -> str:
        return f"<Resident {self.id}>"


SEARCH_KEY = "k"  # a key of Resident.search: matched by prefix (ASCII terms)
NAME_SUFFIX = "n"  # a suffix of the name: matched by prefix = the name matched anywhere (Chinese terms)


class ResidentSearchKey(db.Model):
    """One search key of a resident: a key of Resident.search (field "k") or a suffix of the name
    without spaces, lower-cased (field "n"), so a prefix range on the (station, field, key) primary
    key finds the residents whose key starts with the term, or whose name contains it."""

    __tablename__ = "resident_search_keys"
    # SQLite: the rows live in the primary key's B-tree, so a prefix read is one range scan.
    __table_args__ = {"sqlite_with_rowid": False}
    # A copy of the resident's station (the index's first column), not a foreign key: these derived
    # rows are checked through their resident (ON DELETE CASCADE), and a station's ~400,000 keys load
    # without a second foreign-key check each (the demo seeder's COPY on PostgreSQL).
    station_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    field: Mapped[str] = mapped_column(String(1), primary_key=True)
    key: Mapped[str] = mapped_column(key_type(), primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)


def resident_key_rows(resident_id: int, station_id: int, name: str | None, search: str | None) -> list[dict]:
    """The ResidentSearchKey rows of one resident (from its stored search column and name)."""
    keys = {(SEARCH_KEY, key[:KEY_LENGTH]) for key in (search or "").split()}
    compact = (name or "").replace(" ", "").lower()
    keys |= {(NAME_SUFFIX, compact[i:i + KEY_LENGTH]) for i in range(len(compact))}
    return [{"station_id": station_id, "field": field, "key": key, "resident_id": resident_id}
            for field, key in sorted(keys)]


keep_search_keys(Resident, ResidentSearchKey.__table__, "resident_id",
                 lambda r: resident_key_rows(r.id, r.station_id, r.name, r.search), ("name", "search", "station_id"))
