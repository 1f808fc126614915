"""Residents (实有人口): one row per person on the station's books."""
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.places import Address
from models.types import UTCDateTime, utcnow

# Stored codes; the labels (常住, 流动, 寄住) are translated by the app.
CATEGORIES = ("permanent", "floating", "lodging")
TAGS = ("elderly_alone", "wander_risk", "disability", "left_behind_child", "key_person")


class Resident(db.Model):
    """A person: document (normalised), derived birth date and sex, phone (E.164), address, tags.

    `tags` is a space-separated list with a space at both ends (" elderly_alone wander_risk "), so
    one tag is found with `LIKE '% tag %'` on every database. `search` holds the prepared search
    keys (name, pinyin spellings and initials, number tails, phone digits) for `LIKE` matching.
    """

    __tablename__ = "residents"
    __table_args__ = (
        UniqueConstraint("station_id", "doc_type", "doc_number"),
        Index("ix_residents_station_search", "station_id", "search"),
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
    notes: Mapped[str | None] = mapped_column(String(500))
    search: Mapped[str] = mapped_column(String(600), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    address: Mapped[Address | None] = relationship()

    @property
    def tag_list(self) -> list[str]:
        return (self.tags or "").split()

    def __repr__(self) -> str:
        return f"<Resident {self.id}>"
