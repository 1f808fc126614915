"""Authentication: find the account, check the password, count failures, audit every attempt."""
from sqlalchemy import or_, select, update

from extensions import db
from models import User, audit, utcnow
from models.users import LOCK_AFTER_FAILURES


def authenticate(login: str, password: str) -> tuple[User | None, str | None]:
    """Return (user, None) on success or (None, reason): 'invalid', 'inactive' or 'locked'.

    Unknown user and wrong password answer the same 'invalid', so the form does not reveal which
    accounts exist. A locked account answers 'locked' whether or not the password is right (so the
    lock cannot be used to go on guessing). The tenth consecutive wrong password locks the account.
    Every attempt is audited (without the password).
    """
    login = login.strip()
    user = db.session.scalars(
        select(User).where(or_(User.username == login, User.badge_no == login)).limit(1)
    ).first()
    if user is not None and user.is_locked:
        audit("login_refused_locked", user=user)
        db.session.commit()
        return None, "locked"
    if user is None or not user.check_password(password):
        audit("login_failed", user=user, station_id=getattr(user, "station_id", None), login=login[:40])
        if user is not None and _count_failure(user):
            db.session.commit()
            return None, "locked"
        db.session.commit()
        return None, "invalid"
    if not user.active:
        audit("login_refused_inactive", user=user)
        db.session.commit()
        return None, "inactive"
    user.failed_logins = 0
    audit("login", user=user)
    db.session.commit()
    return user, None


def _count_failure(user: User) -> bool:
    """Add one failure (in SQL, so two phones guessing at once both count); lock at the limit.

    Returns True when this failure locked the account.
    """
    db.session.execute(update(User).where(User.id == user.id)
                       .values(failed_logins=User.failed_logins + 1))
    db.session.refresh(user, ["failed_logins", "locked_at"])
    if user.failed_logins >= LOCK_AFTER_FAILURES and user.locked_at is None:
        user.locked_at = utcnow()
        audit("account_locked", user, user=user, failures=user.failed_logins)
        return True
    return False


def change_password(user: User, new_password: str) -> None:
    """Set a new password; this revokes the user's other sessions (session version bump)."""
    user.set_password(new_password)
    audit("password_changed", user, user=user)
    db.session.commit()
