"""Account management: every change is audited and revokes sessions where it should."""
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from domain.phone import InvalidPhone, normalise_phone
from extensions import db
from models import Grid, User, audit


class AccountError(ValueError):
    """A rule broken by an account change; `field` names the form field, `message` says why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def station_users(station_id: int) -> list[User]:
    """All accounts of a station, active first, by role and name."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.station_id == station_id)
            .options(selectinload(User.grids))  # one query for every user's grids, not one per row
            .order_by(User.active.desc(), User.role, User.username)
        )
    )


def station_grids(station_id: int) -> list[Grid]:
    return list(db.session.scalars(select(Grid).where(Grid.station_id == station_id).order_by(Grid.code)))


def _check_unique(station_id: int, username: str, badge_no: str | None, exclude_id: int | None = None):
    from flask_babel import gettext as _

    clashes = [func.lower(User.username) == username.lower()]
    if badge_no:
        clashes.append(User.badge_no == badge_no)
    query = select(User).where(or_(*clashes))
    if exclude_id:
        query = query.where(User.id != exclude_id)
    for other in db.session.scalars(query):
        if other.username.lower() == username.lower():
            raise AccountError("username", _("This username is taken."))
        if badge_no and other.badge_no == badge_no and other.station_id == station_id:
            raise AccountError("badge_no", _("This badge number is already used."))


def _apply(user: User, data: dict, station_id: int) -> None:
    from flask_babel import gettext as _

    phone = (data.get("phone") or "").strip()
    try:
        user.phone = normalise_phone(phone) if phone else None
    except InvalidPhone:
        raise AccountError("phone", _("Not a valid phone number.")) from None
    user.username = data["username"].strip()
    user.name = data["name"].strip()
    user.badge_no = (data.get("badge_no") or "").strip() or None
    user.role = data["role"]
    user.is_auxiliary = bool(data.get("is_auxiliary"))
    grid_ids = data.get("grids") or []
    user.grids = list(db.session.scalars(select(Grid).where(Grid.station_id == station_id, Grid.id.in_(grid_ids))))


def create_user(station_id: int, data: dict) -> User:
    """Create an account in a station; the password must be given."""
    from flask_babel import gettext as _

    if not data.get("password"):
        raise AccountError("password", _("Set an initial password."))
    _check_policy(data["password"], data["username"])
    _check_unique(station_id, data["username"].strip(), (data.get("badge_no") or "").strip() or None)
    user = User(station_id=station_id, active=True, session_version=0)
    _apply(user, data, station_id)
    user.set_password(data["password"])
    db.session.add(user)
    db.session.flush()
    audit("user_created", user, role=user.role)
    db.session.commit()
    return user


def update_user(user: User, data: dict) -> User:
    """Change name, role, grids...; a role change revokes the user's sessions."""
    _check_unique(user.station_id, data["username"].strip(), (data.get("badge_no") or "").strip() or None, user.id)
    old_role = user.role
    _apply(user, data, user.station_id)
    if user.role != old_role:
        user.session_version += 1
    audit("user_updated", user, role=user.role)
    db.session.commit()
    return user


def _check_policy(password: str, username: str) -> None:
    """The password policy here too, so `flask users create` cannot bypass the form's check."""
    from blueprints.auth.forms import policy_message
    from domain.passwords import weakness

    code = weakness(password, username)
    if code is not None:
        raise AccountError("password", policy_message(code))


def reset_password(user: User, password: str) -> None:
    """Set a new password chosen by a leader; the user's sessions end (a lock stays until unlocked)."""
    _check_policy(password, user.username)
    user.set_password(password)
    audit("password_reset", user)
    db.session.commit()


def set_active(user: User, active: bool) -> None:
    """Deactivate (sessions end at once) or reactivate an account."""
    user.active = active
    user.session_version += 1
    audit("user_activated" if active else "user_deactivated", user)
    db.session.commit()


def unlock(user: User) -> None:
    """Unlock an account locked by failed logins; the counter starts again from zero."""
    user.locked_at = None
    user.failed_logins = 0
    audit("account_unlocked", user)
    db.session.commit()
