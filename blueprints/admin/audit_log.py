"""The leader's view of the audit trail: filter, page, export (the export itself is audited)."""
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from blueprints.home.services import LOCAL_TZ
from extensions import db
from models import AuditEvent, User, audit

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000  # rows: a year of a station's events is ~60k; the sheet stays openable

# What the leader reads for an action code; unknown codes are shown as they are.
ACTION_LABELS = {
    "login": _l("Logged in"), "logout": _l("Logged out"), "login_failed": _l("Failed login"),
    "login_refused_inactive": _l("Login refused: deactivated"), "login_refused_locked": _l("Login refused: locked"),
    "account_locked": _l("Account locked"), "account_unlocked": _l("Account unlocked"),
    "password_changed": _l("Password changed"), "password_reset": _l("Password reset"),
    "user_created": _l("Account created"), "user_updated": _l("Account changed"),
    "user_activated": _l("Account reactivated"), "user_deactivated": _l("Account deactivated"),
    "reveal_id": _l("Full document number shown"), "export": _l("Excel export"), "import": _l("Excel import"),
    "photo_download": _l("Photo downloaded"), "print_notice": _l("Notice printed"),
}


def action_label(code: str) -> str:
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


@dataclass
class Filters:
    """The audit log's filters, all optional; dates are local (Asia/Shanghai) and inclusive."""

    action: str | None = None
    user_id: int | None = None
    object_type: str | None = None
    start: date | None = None
    end: date | None = None

    def as_args(self) -> dict:
        """The filters as GET parameters (for page links and the export link)."""
        args = {"action": self.action, "user": self.user_id, "object_type": self.object_type,
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None}
        return {k: v for k, v in args.items() if v not in (None, "")}


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL_TZ)


def _query(station_id: int, filters: Filters):
    query = select(AuditEvent).where(AuditEvent.station_id == station_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.user_id:
        query = query.where(AuditEvent.user_id == filters.user_id)
    if filters.object_type:
        query = query.where(AuditEvent.object_type == filters.object_type)
    if filters.start:
        query = query.where(AuditEvent.created_at >= _local_midnight_utc(filters.start))
    if filters.end:
        query = query.where(AuditEvent.created_at < _local_midnight_utc(filters.end + timedelta(days=1)))
    return query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


def events_page(station_id: int, filters: Filters, page: int) -> tuple[list[AuditEvent], bool]:
    """One page of events, newest first, with their users (one query); and whether more follow."""
    query = _query(station_id, filters).options(joinedload(AuditEvent.user))
    rows = list(db.session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def choices(station_id: int) -> dict:
    """The filters' choices: actions and record types seen in this station, and its users."""
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.station_id == station_id)
                                 .group_by(AuditEvent.action).order_by(AuditEvent.action))
    types = db.session.scalars(select(AuditEvent.object_type).where(
        AuditEvent.station_id == station_id, AuditEvent.object_type.is_not(None))
        .group_by(AuditEvent.object_type).order_by(AuditEvent.object_type))
    users = db.session.scalars(select(User).where(User.station_id == station_id).order_by(User.username))
    return {"actions": list(actions), "object_types": list(types), "users": list(users)}


def local_time(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")


def detail_text(event: AuditEvent) -> str:
    """The event's detail as `key=value` pairs (ids and counts only, by the audit() contract)."""
    return ", ".join(f"{k}={v}" for k, v in sorted((event.detail or {}).items()))


def export_xlsx(user, filters: Filters) -> tuple[io.BytesIO, int]:
    """The filtered events as Excel (newest first); the export is audited with its filters."""
    from flask_babel import gettext as _

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Audit log"))
    sheet.append([_("Time"), _("User"), _("Username"), _("Action"), _("Action code"), _("Record type"),
                  _("Record id"), _("Reason"), _("Details"), _("IP address")])
    query = _query(user.station_id, filters).options(joinedload(AuditEvent.user)).limit(EXPORT_LIMIT)
    count = 0
    for event in db.session.scalars(query):
        who = event.user
        sheet.append([local_time(event.created_at), who.name if who else "", who.username if who else "",
                      action_label(event.action), event.action, event.object_type or "", event.object_id,
                      event.reason or "", detail_text(event), event.ip or ""])
        count += 1
    audit("export", user=user, reason="audit log", report="audit_log", rows=count, filters=filters.as_args())
    db.session.commit()
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out, count
