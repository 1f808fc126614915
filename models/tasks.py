"""Tasks (指令) from the command room to an officer or a grid, and each task's timeline."""
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.types import UTCDateTime, utcnow

TASK_KINDS = ("patrol", "visit", "search", "hazard", "other")

# Status flow: assigned -> accepted -> done -> confirmed; the officer may return it (with a reason),
# the command room may send done or returned work back (with a reason) and the officer accepts again.
ASSIGNED, ACCEPTED, DONE, CONFIRMED, RETURNED, SENT_BACK = (
    "assigned", "accepted", "done", "confirmed", "returned", "sent_back")
TASK_STATUSES = (ASSIGNED, ACCEPTED, DONE, CONFIRMED, RETURNED, SENT_BACK)
# Work still lying with the officer (what "my tasks" counts and what can become overdue).
OPEN_STATUSES = (ASSIGNED, ACCEPTED, SENT_BACK)
# Waiting for the command room.
REVIEW_STATUSES = (DONE, RETURNED)

# Timeline actions: the status names plus "created".
CREATED = "created"


class Task(db.Model):
    """One instruction: what, where, by when, for whom (an officer, or every officer of a grid)."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_station_status", "station_id", "status"),
        Index("ix_tasks_station_updated", "station_id", "updated_at"),
        Index("ix_tasks_station_due", "station_id", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    kind: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(120))
    lat: Mapped[float | None] = mapped_column(Float)  # WGS-84
    lon: Mapped[float | None] = mapped_column(Float)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Exactly one of the two at creation; a grid task gets its assignee when an officer accepts it.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(12), default=ASSIGNED)
    # Where the task was started from, e.g. "missing:12", "checkin:345", "rental:7" (free text).
    source: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bumped by every step: the command list's cheap "anything changed?" check reads its maximum.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last feedback "done" (on time?)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    assignee = relationship("User", foreign_keys=[assignee_id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    grid = relationship("Grid")
    events: Mapped[list["TaskEvent"]] = relationship(back_populates="task", order_by="TaskEvent.id",
                                                     cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        return self.status in OPEN_STATUSES and self.due_at < now


class TaskEvent(db.Model):
    """One step on a task's timeline: who did what when, with the officer's feedback if any."""

    __tablename__ = "task_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(12))  # created | accepted | done | returned | confirmed | sent_back
    note: Mapped[str | None] = mapped_column(String(500))  # the reason of a return or a send-back
    feedback: Mapped[str | None] = mapped_column(Text)  # what the officer found or did
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    client_id: Mapped[str | None] = mapped_column(String(36))
    via: Mapped[str] = mapped_column(String(8), default="online")  # online | sync
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # device clock
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # server clock

    task: Mapped[Task] = relationship(back_populates="events")
    user = relationship("User")
    photo = relationship("Attachment")


# Indexes the command room (blueprints/command) reads the rentals ledger by: today's and a period's
# registrations, inspections and tenants per grid, and the analysis's hour table. Declared with the
# command room's migration (0015_command_speed) so the rentals models stay as their feature wrote them.
from models.rentals import Inspection, RentalHousehold, Tenancy  # noqa: E402

Index("ix_inspections_station_inspected", Inspection.station_id, Inspection.inspected_on, Inspection.household_id)
Index("ix_inspections_station_recorded", Inspection.station_id, Inspection.recorded_at)
Index("ix_rental_households_station_registered", RentalHousehold.station_id, RentalHousehold.registered_on)
Index("ix_rental_households_station_recorded", RentalHousehold.station_id, RentalHousehold.recorded_at)
# The ledger's "inspection overdue" rule per grid (use, last inspection, registration) from the index alone.
Index("ix_rental_households_station_overdue", RentalHousehold.station_id, RentalHousehold.grid_id, RentalHousehold.use,
      RentalHousehold.last_inspected_on, RentalHousehold.registered_on)
Index("ix_tenancies_station_registered", Tenancy.station_id, Tenancy.registered_on, Tenancy.household_id)
