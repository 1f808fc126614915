"""Standard addresses (标准地址): one row per place, reused by every ledger that points at it."""
from sqlalchemy import Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db


def address_search_text(community: str, street: str, building: str = "", unit: str = "", room: str = "") -> str:
    """The address as one lower-case string without spaces, for `LIKE '%...%'` search."""
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
    # Prepared search column (address_search_text): filled on write, matched with LIKE.
    search: Mapped[str] = mapped_column(String(200), default="", server_default="")

    @property
    def label(self) -> str:
        parts = [self.community, self.street, self.building, self.unit, self.room]
        return " ".join(p for p in parts if p)
