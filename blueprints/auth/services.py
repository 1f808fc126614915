"""Authentication: find the account, check the password, audit every attempt."""
from sqlalchemy import or_, select

from extensions import db
from models import User, audit


def authenticate(login: str, password: str) -> tuple[User | None, str | None]:
    """Return (user, None) on success or (None, reason) with reason 'invalid' or 'inactive'.

    Unknown user and wrong password answer the same 'invalid', so the form does not reveal which
    accounts exist. Every attempt is audited (without the password).
    """
    login = login.strip()
    user = db.session.scalars(
        select(User).where(or_(User.username == login, User.badge_no == login)).limit(1)
    ).first()
    if user is None or not user.check_password(password):
        audit("login_failed", user=user, station_id=getattr(user, "station_id", None), login=login[:40])
        db.session.commit()
        return None, "invalid"
    if not user.active:
        audit("login_refused_inactive", user=user)
        db.session.commit()
        return None, "inactive"
    audit("login", user=user)
    db.session.commit()
    return user, None


def change_password(user: User, new_password: str) -> None:
    """Set a new password; this revokes the user's other sessions (session version bump)."""
    user.set_password(new_password)
    audit("password_changed", user, user=user)
    db.session.commit()
