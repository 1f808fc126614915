"""Missing persons (走失): vulnerable-person profiles, cases, sightings, each case's timeline, and the
per-station alert version that every phone's banner poll compares."""
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.types import UTCDateTime, utcnow

RISKS = ("dementia", "child", "mental_illness", "other")
SEXES = ("male", "female", "unknown")
OPEN, FOUND, CANCELLED = "open", "found", "cancelled"
CASE_STATUSES = (OPEN, FOUND, CANCELLED)
CONDITIONS = ("well", "injured", "hospital", "deceased")
# Timeline actions.
REPORTED, SIGHTING, CANCEL, PRINTED = "reported", "sighting", "cancelled", "printed"


class VulnerableProfile(db.Model):
    """What the team knows about a resident at risk of wandering off, so a repeat case is one tap.

    `places_found` is a list of {"place", "lat", "lon", "found_at", "case_id"}, appended by the
    "found" step of a closed case (newest last).
    """

    __tablename__ = "vulnerable_profiles"
    __table_args__ = (UniqueConstraint("resident_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    risk: Mapped[str] = mapped_column(String(16), default="dementia")
    height_cm: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)  # appearance: build, hair, marks, gait
    routines: Mapped[str | None] = mapped_column(Text)  # where she walks, when, habits
    medical_notes: Mapped[str | None] = mapped_column(Text)
    emergency_contacts: Mapped[str | None] = mapped_column(Text)
    places_found: Mapped[list] = mapped_column(JSON, default=list)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    resident = relationship("Resident")
    photo = relationship("Attachment")


class MissingPersonCase(db.Model):
    """One missing-person case: who, last seen where and when, its status and how it ended."""

    __tablename__ = "missing_cases"
    __table_args__ = (
        Index("ix_missing_cases_station_status", "station_id", "status"),
        Index("ix_missing_cases_station_closed", "station_id", "closed_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    sex: Mapped[str] = mapped_column(String(8), default="unknown")
    age: Mapped[int | None] = mapped_column(Integer)
    height_cm: Mapped[int | None] = mapped_column(Integer)
    clothing: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    risk: Mapped[str] = mapped_column(String(16))
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_place: Mapped[str] = mapped_column(String(160))
    last_seen_lat: Mapped[float | None] = mapped_column(Float)  # WGS-84
    last_seen_lon: Mapped[float | None] = mapped_column(Float)
    circumstances: Mapped[str | None] = mapped_column(Text)
    reporter_name: Mapped[str | None] = mapped_column(String(40))
    reporter_phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    status: Mapped[str] = mapped_column(String(12), default=OPEN)
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[str | None] = mapped_column(String(36))
    via: Mapped[str] = mapped_column(String(8), default="online")  # online | sync
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # device clock
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # How it ended: found (who, where, when, condition) or cancelled (why).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    found_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    found_place: Mapped[str | None] = mapped_column(String(160))
    found_lat: Mapped[float | None] = mapped_column(Float)
    found_lon: Mapped[float | None] = mapped_column(Float)
    found_by: Mapped[str | None] = mapped_column(String(80))
    condition: Mapped[str | None] = mapped_column(String(12))
    close_note: Mapped[str | None] = mapped_column(String(500))  # condition details or the cancel reason

    resident = relationship("Resident")
    photo = relationship("Attachment")
    reported_by = relationship("User", foreign_keys=[reported_by_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])

    @property
    def is_open(self) -> bool:
        return self.status == OPEN


class Sighting(db.Model):
    """Someone saw the person: when, where, a note and maybe a photo (a field record)."""

    __tablename__ = "missing_sightings"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("missing_cases.id", ondelete="CASCADE"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(160))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    client_id: Mapped[str | None] = mapped_column(String(36))
    via: Mapped[str] = mapped_column(String(8), default="online")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User")
    photo = relationship("Attachment")


class CaseEvent(db.Model):
    """One step on a case's timeline: reported, sighting, found, cancelled, notice printed."""

    __tablename__ = "missing_case_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("missing_cases.id", ondelete="CASCADE"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(12))
    sighting_id: Mapped[int | None] = mapped_column(ForeignKey("missing_sightings.id", ondelete="CASCADE"))
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User")
    sighting = relationship("Sighting")


class AlertState(db.Model):
    """The station's alert version: bumped in the same transaction as every case change.

    The banner poll compares it (one primary-key read, or Redis when configured) and answers 304
    while it is unchanged; `open_cases` tells whether the answer depends on the phone's position.
    """

    __tablename__ = "missing_alert_states"
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, default=0)
    open_cases: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
