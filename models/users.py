"""Accounts and roles."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from extensions import db
from models.stations import Grid, Station, user_grids
from models.types import UTCDateTime, utcnow

COMMUNITY, COMMAND, CASE, LEADER = "community", "command", "case", "leader"
ROLES = (COMMUNITY, COMMAND, CASE, LEADER)
# Roles that see the whole station rather than their own grids.
STATION_WIDE = (COMMAND, LEADER)
LOCK_AFTER_FAILURES = 10  # consecutive wrong passwords: enough for typos, far too few to guess


class User(UserMixin, db.Model):
    """A station member who logs in: officer, auxiliary (辅警), command room, case team or leader."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("station_id", "badge_no"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    badge_no: Mapped[str | None] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(12))
    is_auxiliary: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Bumped on password change or deactivation: every older session stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    locale: Mapped[str | None] = mapped_column(String(12))
    # Consecutive failed logins (reset by a successful one); at LOCK_AFTER_FAILURES the account is
    # locked until a leader unlocks it.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    station: Mapped[Station] = relationship()
    grids: Mapped[list[Grid]] = relationship(secondary=user_grids, order_by=Grid.code)

    def get_id(self) -> str:
        """Flask-Login identity: id and session version, so a bumped version logs sessions out."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    def set_password(self, password: str) -> None:
        """Hash and store a new password and revoke existing sessions."""
        self.password_hash = generate_password_hash(password)
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def sees_whole_station(self) -> bool:
        return self.role in STATION_WIDE

    @property
    def grid_ids(self) -> list[int]:
        return [g.id for g in self.grids]

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"
