"""Resident visits (走访), the follow-ups they create, and places (实有单位/场所) that can be visited."""
from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.types import UTCDateTime, utcnow

# Stored codes; the labels are translated by the app.
SUBJECT_TYPES = ("resident", "household", "place")
PURPOSES = ("routine", "follow_up", "mediation", "safety_advice", "anti_fraud", "focus_check", "elderly_care",
            "other")
MET, NO_ONE_HOME, REFUSED = "met", "no_one_home", "refused"
OUTCOMES = (MET, NO_ONE_HOME, REFUSED)
# Someone answered the door: what counts as "visited" for plans and coverage (no one home does not).
VISITED_OUTCOMES = (MET, REFUSED)
PLACE_TYPES = ("shop", "restaurant", "market", "hotel", "internet_cafe", "school", "enterprise", "other")


class Place(db.Model):
    """A place on the station's books (实有单位/场所): a shop, restaurant, the market, a school...

    `search` is the prepared search column (name, pinyin keys, address, contact digits) matched with
    LIKE, like the residents' one.
    """

    __tablename__ = "places"
    __table_args__ = (Index("ix_places_station_grid", "station_id", "grid_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    name: Mapped[str] = mapped_column(String(80))
    type: Mapped[str] = mapped_column(String(20), default="shop")
    address: Mapped[str] = mapped_column(String(120), default="")
    contact: Mapped[str | None] = mapped_column(String(60))
    lat: Mapped[float | None] = mapped_column(Float)  # WGS-84
    lon: Mapped[float | None] = mapped_column(Float)
    search: Mapped[str] = mapped_column(String(400), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    grid = relationship("Grid")


class Visit(db.Model):
    """One visit: who was visited (exactly one of resident, household, place), why, what came of it.

    `grid_id` copies the subject's grid when recorded (coverage groups by it); `local_hour` is the
    Asia/Shanghai hour of `recorded_at`, stored so "no one home at these hours" needs no time-zone
    arithmetic in SQL.
    """

    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_station_recorded", "station_id", "recorded_at"),
        Index("ix_visits_officer_recorded", "officer_id", "recorded_at"),
        Index("ix_visits_resident_recorded", "resident_id", "recorded_at"),
        Index("ix_visits_household_recorded", "household_id", "recorded_at"),
        Index("ix_visits_place_recorded", "place_id", "recorded_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    subject_type: Mapped[str] = mapped_column(String(12))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("rental_households.id"))
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id"))
    purpose: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(12))
    notes: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    client_id: Mapped[str | None] = mapped_column(String(36))
    via: Mapped[str] = mapped_column(String(8), default="online")  # online | sync
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)  # device clock
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # server clock
    local_hour: Mapped[int] = mapped_column(Integer)

    officer = relationship("User")
    resident = relationship("Resident")
    household = relationship("RentalHousehold")
    place = relationship("Place")
    photo = relationship("Attachment")

    @property
    def subject_id(self) -> int | None:
        return {"resident": self.resident_id, "household": self.household_id, "place": self.place_id}.get(
            self.subject_type)


class FollowUp(db.Model):
    """A visit to make again by a due date, for the officer who asked for it; done by the next visit."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        Index("ix_follow_ups_officer_open", "officer_id", "done_visit_id", "due_on"),
        Index("ix_follow_ups_station_open", "station_id", "done_visit_id", "due_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    subject_type: Mapped[str] = mapped_column(String(12))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("rental_households.id"))
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id"))
    due_on: Mapped[date] = mapped_column(Date)
    done_visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit = relationship("Visit", foreign_keys=[visit_id])
    resident = relationship("Resident")
    household = relationship("RentalHousehold")
    place = relationship("Place")

    @property
    def subject_id(self) -> int | None:
        return {"resident": self.resident_id, "household": self.household_id, "place": self.place_id}.get(
            self.subject_type)
