"""The audit trail: who did what to which record, when, and why."""
from datetime import datetime

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    """One audited action: log in/out, failed login, user change, full-ID reveal, export..."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    user = relationship("User")


def audit(action: str, obj=None, *, user=None, station_id=None, reason=None, **detail) -> AuditEvent:
    """Add an AuditEvent to the session (the caller's transaction commits it).

    `user` defaults to the logged-in user; `obj` is any model with `id` (its class names the type).
    Never pass personal data in `detail`: it is for ids and counts.
    """
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    event = AuditEvent(
        action=action,
        user_id=getattr(user, "id", None),
        station_id=station_id or getattr(user, "station_id", None),
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=getattr(obj, "id", None),
        reason=reason,
        detail=detail or None,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event
