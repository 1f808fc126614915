"""Patrol points (必到点) and check-ins."""
from datetime import date, datetime, time

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
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
