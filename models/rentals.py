"""Rental households (出租房屋), their tenancies, inspections and hazards."""
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.people import Resident
from models.places import Address
from models.types import UTCDateTime, utcnow

USES = ("residential", "group", "mixed", "commercial", "other")  # 住宅, 群租, 商住, 商用, 其他
GROUP_RENTAL = "group"


class RentalHousehold(db.Model):
    """A rented dwelling: address, landlord, rooms, use, lease terms, last inspection.

    `grid_id` copies the address's grid when registered: every compliance report groups by it.
    `last_inspected_on` is kept up to date by the inspection service so "overdue" is one indexed
    comparison instead of a subquery over inspections.
    """

    __tablename__ = "rental_households"
    __table_args__ = (Index("ix_rental_households_station_grid", "station_id", "grid_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    address_id: Mapped[int] = mapped_column(ForeignKey("addresses.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    landlord_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    rooms: Mapped[int | None] = mapped_column(Integer)
    use: Mapped[str] = mapped_column(String(12), default="residential")
    lease_start: Mapped[date | None] = mapped_column(Date)
    lease_end: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(String(36))  # finds the photo sent with the form
    registered_on: Mapped[date] = mapped_column(Date)
    last_inspected_on: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    address: Mapped[Address] = relationship()
    landlord: Mapped[Resident | None] = relationship()
    tenancies: Mapped[list["Tenancy"]] = relationship(back_populates="household", order_by="Tenancy.move_in")
    inspections: Mapped[list["Inspection"]] = relationship(
        back_populates="household", order_by="Inspection.inspected_on.desc()")


class Tenancy(db.Model):
    """A resident living in a household from move-in to move-out (open while move_out is None).

    `registration_delay_days` (registered_on - move_in) is stored so the "registered late" rule is
    a plain integer comparison on every database.
    """

    __tablename__ = "tenancies"
    __table_args__ = (Index("ix_tenancies_resident_open", "resident_id", "move_out"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("rental_households.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    move_in: Mapped[date] = mapped_column(Date)
    move_out: Mapped[date | None] = mapped_column(Date)
    registered_on: Mapped[date] = mapped_column(Date)
    registration_delay_days: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    household: Mapped[RentalHousehold] = relationship(back_populates="tenancies")
    resident: Mapped[Resident] = relationship()


class Inspection(db.Model):
    """A safety inspection (检查) of a household with its checklist; hazards hang off it."""

    __tablename__ = "inspections"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("rental_households.id"), index=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    inspected_on: Mapped[date] = mapped_column(Date)
    fire_extinguisher: Mapped[bool] = mapped_column(Boolean, default=False)
    escape_route: Mapped[bool] = mapped_column(Boolean, default=False)
    wiring_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    ebikes_indoors: Mapped[bool] = mapped_column(Boolean, default=False)
    tenants_registered: Mapped[bool] = mapped_column(Boolean, default=False)
    findings: Mapped[str | None] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(String(36))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    household: Mapped[RentalHousehold] = relationship(back_populates="inspections")
    officer = relationship("User")
    hazards: Mapped[list["Hazard"]] = relationship(back_populates="inspection", order_by="Hazard.id")


class Hazard(db.Model):
    """A hazard found in an inspection, to be rectified by a due date; resolved on follow-up."""

    __tablename__ = "hazards"
    __table_args__ = (Index("ix_hazards_station_open", "station_id", "resolved_on", "due_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("rental_households.id"), index=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    description: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(String(200))

    inspection: Mapped[Inspection] = relationship(back_populates="hazards")
