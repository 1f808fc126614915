"""Patrol points (必到点) and check-ins."""
from datetime import date, datetime, time

from sqlalchemy import (Boolean, Date, Float, ForeignKey, Index, Integer, String, Time, case, delete, event, func,
                        insert, inspect, select, update)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models import upserts
from models.types import UTCDateTime, utcnow


class PatrolPoint(db.Model):
    """A place officers must visit: a position, a radius, and how often (optionally in a window)."""

    __tablename__ = "patrol_points"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[int] = mapped_column(Integer, default=50)
    required_per_day: Mapped[int] = mapped_column(Integer, default=1)
    # A shift window (local time, Asia/Shanghai), e.g. the night market 20:00-23:00.
    window_start: Mapped[time | None] = mapped_column(Time)
    window_end: Mapped[time | None] = mapped_column(Time)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    grid = relationship("Grid")


class CheckIn(db.Model):
    """One patrol check-in: the raw position and the server's own scoring of it."""

    __tablename__ = "check_ins"
    __table_args__ = (
        Index("ix_check_ins_station_recorded", "station_id", "recorded_at"),
        Index("ix_check_ins_officer_recorded", "officer_id", "recorded_at"),
        # (station, day) narrows every per-day query; the trailing columns cover the compliance
        # report's GROUP BY officer, point, day (no table lookup per check-in).
        Index("ix_check_ins_station_day_cover", "station_id", "local_day", "officer_id", "point_id", "in_window",
              "flags"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    point_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_points.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    within_geofence: Mapped[bool | None] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(8))  # gps | qr | manual
    note: Mapped[str | None] = mapped_column(String(500))
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    # Comma-separated flag codes from domain.checkin_rules; empty when nothing is suspicious.
    flags: Mapped[str] = mapped_column(String(120), default="")
    client_id: Mapped[str | None] = mapped_column(String(36))
    via: Mapped[str] = mapped_column(String(8), default="online")  # online | sync
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The Asia/Shanghai calendar day of recorded_at, stored so reports group by a plain column on
    # every database (no dialect-specific time-zone arithmetic in SQL).
    local_day: Mapped[date] = mapped_column(Date)
    # Inside the point's shift window when it has one; None without a window (or without a point).
    in_window: Mapped[bool | None] = mapped_column(Boolean)

    officer = relationship("User")
    point = relationship("PatrolPoint")
    photo = relationship("Attachment")

    @property
    def flag_list(self) -> list[str]:
        return [f for f in self.flags.split(",") if f]


class PatrolDayTotal(db.Model):
    """What one officer's check-ins at one point add up to on one local day, kept on write.

    The compliance report reads these (officers x points x days) instead of every check-in. Each
    CheckIn written through the ORM unit of work adds itself here in the same flush (and
    transaction, and savepoint) by the mapper events below; an ORM update or delete of a check-in
    moves its counts. Core INSERT/UPDATE/DELETE on check_ins (and the ORM's bulk statements) bypass
    the events: whoever does that (the demo seeder) calls rebuild_day_totals afterwards.
    point_id 0 stands for "no point" (a free check-in), so the key has no NULL and one upsert
    serves both cases; it is therefore not a foreign key.
    """

    __tablename__ = "patrol_day_totals"
    # The key runs (station, officer, point, day): the report asks for its officers x the station's
    # points over a day range, and reads each pair's days as one contiguous run, already in GROUP BY
    # order (no sort). On SQLite the table is WITHOUT ROWID: the rows live in that key's B-tree.
    __table_args__ = {"sqlite_with_rowid": False}
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    point_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: no point
    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    # Check-ins that satisfy the point (in its window, or it has none), not capped: the report caps
    # per day with the point's current required_per_day.
    done: Mapped[int] = mapped_column(Integer, default=0)
    outside_window: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[int] = mapped_column(Integer, default=0)
    check_ins: Mapped[int] = mapped_column(Integer, default=0)


_KEY = ("station_id", "officer_id", "point_id", "local_day")
_COUNTS = ("done", "outside_window", "flagged", "check_ins")
_SOURCE = ("station_id", "local_day", "officer_id", "point_id", "in_window", "flags")


def _contribution(values: dict) -> dict:
    """The totals row key and counts one check-in (given its _SOURCE values) adds."""
    late = values["in_window"] is False
    return {"station_id": values["station_id"], "local_day": values["local_day"],
            "officer_id": values["officer_id"], "point_id": values["point_id"] or 0,
            "done": 0 if late else 1, "outside_window": 1 if late else 0,
            "flagged": 1 if values["flags"] else 0, "check_ins": 1}


def _day_total_upsert(insert):
    table = PatrolDayTotal.__table__
    insert_ = insert(table)
    return insert_.on_conflict_do_update(index_elements=[table.c[name] for name in _KEY],
                                         set_={name: table.c[name] + insert_.excluded[name] for name in _COUNTS})


def _add(connection, row: dict) -> None:
    """Add a check-in's counts to its day row: one atomic INSERT .. ON CONFLICT DO UPDATE, so
    concurrent check-ins of the same officer, point and day each count once (SQLite, PostgreSQL)."""
    upserts.run(connection, "patrol_day_totals", _day_total_upsert, row)


def _subtract(connection, row: dict) -> None:
    """Take a check-in's counts off its day row (and drop the row when no check-in is left)."""
    table = PatrolDayTotal.__table__
    where = [table.c[name] == row[name] for name in _KEY]
    connection.execute(update(table).where(*where).values(
        {name: table.c[name] - row[name] for name in _COUNTS}))
    connection.execute(delete(table).where(*where, table.c.check_ins <= 0))


@event.listens_for(CheckIn, "after_insert")
def _check_in_inserted(mapper, connection, target: CheckIn) -> None:
    _add(connection, _contribution({name: getattr(target, name) for name in _SOURCE}))


def _stored(connection, check_in_id: int) -> dict:
    """The counted columns of a check-in as the database holds them (before this flush changes them)."""
    c = CheckIn.__table__.c
    return dict(connection.execute(select(*(c[name] for name in _SOURCE)).where(c.id == check_in_id))
                .mappings().one())


@event.listens_for(CheckIn, "before_update")
def _check_in_updating(mapper, connection, target: CheckIn) -> None:
    # The old values are read from the row itself: after a commit the object's attributes are
    # expired, and setting one then leaves no old value in its history.
    state = inspect(target)
    if any(state.attrs[name].history.has_changes() for name in _SOURCE):
        _subtract(connection, _contribution(_stored(connection, target.id)))
        _add(connection, _contribution({name: getattr(target, name) for name in _SOURCE}))


@event.listens_for(CheckIn, "before_delete")
def _check_in_deleting(mapper, connection, target: CheckIn) -> None:
    _subtract(connection, _contribution(_stored(connection, target.id)))


def day_totals_select(station_id: int | None = None):
    """The totals recounted from check_ins (GROUP BY station, officer, point, day), as a SELECT of
    the table's columns in order: the seeder's rebuild and the tests' recount."""
    c = CheckIn.__table__.c
    point = func.coalesce(c.point_id, 0)
    late = c.in_window.is_(False)
    query = (select(c.station_id, c.officer_id, point.label("point_id"), c.local_day,
                    func.sum(case((late, 0), else_=1)).label("done"),
                    func.sum(case((late, 1), else_=0)).label("outside_window"),
                    func.sum(case((c.flags != "", 1), else_=0)).label("flagged"),
                    func.count().label("check_ins"))
             .group_by(c.station_id, c.officer_id, point, c.local_day))
    return query if station_id is None else query.where(c.station_id == station_id)


def rebuild_day_totals(connection, station_id: int) -> None:
    """Recount a station's day totals from its check-ins (after Core INSERTs that skip the events)."""
    table = PatrolDayTotal.__table__
    connection.execute(delete(table).where(table.c.station_id == station_id))
    connection.execute(insert(table).from_select([*_KEY, *_COUNTS], day_totals_select(station_id)))
