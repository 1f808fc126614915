"""Rental households (出租房屋), their tenancies, inspections and hazards."""
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, event, func, inspect, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session, relationship
from sqlalchemy.orm.util import identity_key

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
    comparison instead of a subquery over inspections. Likewise the open tenancies and hazards are
    summed up on the household (`open_tenants`, `open_registration_delay`, `open_hazard_due`) by the
    mapper events at the end of this module, so the ledger's rules are plain column comparisons.
    """

    __tablename__ = "rental_households"
    __table_args__ = (
        Index("ix_rental_households_station_grid", "station_id", "grid_id"),
        # Every column the rules and the completeness read (ledger._flags), in (grid, officer)
        # order: the compliance report groups a station's households from this index alone.
        Index("ix_rental_households_station_rules", "station_id", "grid_id", "officer_id", "use",
              "last_inspected_on", "registered_on", "lease_end", "open_tenants", "open_registration_delay",
              "open_hazard_due", "landlord_id", "rooms", "lease_start"),
    )
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
    # Kept on write (refresh_household_summary): tenancies without a move-out; the largest
    # registration delay (days) among them (None: no open tenancy); the earliest due date of its
    # hazards not yet resolved (None: none open).
    open_tenants: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    open_registration_delay: Mapped[int | None] = mapped_column(Integer)
    open_hazard_due: Mapped[date | None] = mapped_column(Date)

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


SUMMARY_COLUMNS = ("open_tenants", "open_registration_delay", "open_hazard_due")


def summary_values(household_id):
    """The summary columns recounted from tenancies and hazards, as correlated scalar subqueries of
    the household id (a bound value, or the rental_households.id column for a whole station)."""
    t, z = Tenancy.__table__.c, Hazard.__table__.c
    open_tenancy = (t.household_id == household_id, t.move_out.is_(None))
    return {"open_tenants": select(func.count()).where(*open_tenancy).scalar_subquery(),
            "open_registration_delay": select(func.max(t.registration_delay_days)).where(*open_tenancy)
            .scalar_subquery(),
            "open_hazard_due": select(func.min(z.due_on)).where(z.household_id == household_id,
                                                                 z.resolved_on.is_(None)).scalar_subquery()}


def refresh_household_summary(connection, household_ids) -> None:
    """Recount the summary columns of these households (after a tenancy or hazard changed)."""
    table = RentalHousehold.__table__
    for household_id in sorted({hid for hid in household_ids if hid is not None}):
        connection.execute(update(table).where(table.c.id == household_id).values(summary_values(household_id)))


def rebuild_household_summaries(connection, station_id: int) -> None:
    """Recount a station's summaries in one statement (after Core INSERTs that skip the events)."""
    table = RentalHousehold.__table__
    connection.execute(update(table).where(table.c.station_id == station_id).values(summary_values(table.c.id)))


# What a tenancy or hazard contributes to its household's summary: a change elsewhere (a tenant's
# move-in date, a hazard's description) leaves the summary as it is.
_SOURCES = {Tenancy: ("household_id", "household", "move_out", "registration_delay_days"),
            Hazard: ("household_id", "due_on", "resolved_on")}
_WAS = "summary_household_was"  # InstanceState.info key: the household the row had in the database


def _stored_household(connection, target) -> int | None:
    """The household the row has in the database now (before this flush's UPDATE or DELETE): read,
    not taken from the object, whose attributes may be expired (after a commit) or have no history
    (a move through the relationship, whose foreign key the flush sets)."""
    table = type(target).__table__
    return connection.scalar(select(table.c.household_id).where(table.c.id == target.id))


def _before_update(mapper, connection, target) -> None:
    state = inspect(target)
    if any(state.attrs[name].history.has_changes() for name in _SOURCES[type(target)]):
        state.info[_WAS] = _stored_household(connection, target)


def _before_delete(mapper, connection, target) -> None:
    inspect(target).info[_WAS] = _stored_household(connection, target)


def _after_write(mapper, connection, target) -> None:
    """Recount the household the row belongs to now and the one it had (moved, deleted)."""
    state = inspect(target)
    # Its household now (as set or loaded; None when expired and unchanged) and the stored one.
    ids = {state.info.pop(_WAS, None), state.dict.get("household_id")} - {None}
    if not ids:
        return
    refresh_household_summary(connection, ids)
    session = object_session(target)
    if session is not None:  # households loaded in this session re-read their summary when next used
        session.info.setdefault("stale_household_summaries", set()).update(ids)


def _after_update(mapper, connection, target) -> None:
    if _WAS in inspect(target).info:  # only when a source column changed (see _before_update)
        _after_write(mapper, connection, target)


for _model in _SOURCES:
    event.listen(_model, "after_insert", _after_write)
    event.listen(_model, "before_update", _before_update)
    event.listen(_model, "after_update", _after_update)
    event.listen(_model, "before_delete", _before_delete)
    event.listen(_model, "after_delete", _after_write)


@event.listens_for(Session, "after_flush_postexec")
def _expire_stale_summaries(session, _context) -> None:
    for household_id in session.info.pop("stale_household_summaries", ()):
        household = session.identity_map.get(identity_key(RentalHousehold, household_id))
        if household is not None:
            session.expire(household, list(SUMMARY_COLUMNS))
