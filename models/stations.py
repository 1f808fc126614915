"""Stations (the tenant) and their grids (警务网格)."""
from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db

user_grids = Table(
    "user_grids",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("grid_id", ForeignKey("grids.id", ondelete="CASCADE"), primary_key=True),
)


class Station(db.Model):
    """A police station (派出所): every station-owned row points here."""

    __tablename__ = "stations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))

    grids: Mapped[list["Grid"]] = relationship(back_populates="station", order_by="Grid.code")


class Grid(db.Model):
    """A policing grid or community (警务网格/社区) inside a station's area."""

    __tablename__ = "grids"
    __table_args__ = (UniqueConstraint("station_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(80))

    station: Mapped[Station] = relationship(back_populates="grids")

    def __repr__(self) -> str:
        return f"<Grid {self.code}>"
