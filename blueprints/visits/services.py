"""The work of visits: recording one (online and synced alike), follow-ups, a subject's history.

Recording goes through records.save_once, so the online POST and the synced copy of one visit
create it once, with its new place and its follow-up in the same savepoint.
"""
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from blueprints.home.services import LOCAL_TZ
from blueprints.rentals.ledger import H
from blueprints.sync import attachments, records
from blueprints.visits import subjects
from blueprints.visits.forms import local_day
from extensions import db
from models import FollowUp, RentalHousehold, Visit, utcnow
from models.users import CASE, COMMAND, COMMUNITY, LEADER
from models.visits import NO_ONE_HOME

KIND = "visit"
# Community officers record visits (and leaders who go along); the command room and the case team read.
RECORD_ROLES = (COMMUNITY, LEADER)
READ_ROLES = (COMMUNITY, COMMAND, CASE, LEADER)
COVERAGE_ROLES = (COMMAND, LEADER)
HISTORY_LIMIT = 30
LIST_LIMIT = 50


def today_local() -> date:
    return local_day(utcnow())


def _subject_columns(subject_type: str, subject_id: int) -> dict:
    return {"subject_type": subject_type, "resident_id": subject_id if subject_type == "resident" else None,
            "household_id": subject_id if subject_type == "household" else None,
            "place_id": subject_id if subject_type == "place" else None}


def _open_follow_up(user, form, subject) -> FollowUp:
    """The follow-up this visit answers: the officer's own, still open, about the same subject."""
    follow_up = db.session.get(FollowUp, form.follow_up_id.data)
    if follow_up is None or follow_up.officer_id != user.id or follow_up.station_id != user.station_id:
        raise subjects.SubjectError("follow_up_id", _("This follow-up is not one of yours."))
    if follow_up.done_visit_id is not None:
        raise subjects.SubjectError("follow_up_id", _("This follow-up was already done."))
    if subject is None or (follow_up.subject_type, follow_up.subject_id) != (subject.type, subject.id):
        raise subjects.SubjectError("subject_id", _("The follow-up is about someone else: choose the same subject."))
    return follow_up


def _build(user, form, subject, follow_up, via: str) -> Visit:
    """The visit row (and a new place, the closed and the new follow-up), all in save_once's savepoint."""
    if subject is None:
        place = subjects.new_place(user, form, form.position)
        db.session.flush()
        subject = subjects.Subject("place", place, place.grid_id)
    recorded_at = form.recorded_at.data
    lat, lon = form.position or (None, None)
    photo = attachments.record_photo(user, form)
    visit = Visit(station_id=user.station_id, officer_id=user.id, grid_id=subject.grid_id,
                  **_subject_columns(subject.type, subject.id), purpose=form.purpose.data, outcome=form.outcome.data,
                  notes=(form.notes.data or "").strip() or None, lat=lat, lon=lon,
                  accuracy_m=form.accuracy.data if lat is not None else None, photo_id=photo.id if photo else None,
                  client_id=form.client_id.data, via=via, recorded_at=recorded_at, received_at=utcnow(),
                  local_hour=recorded_at.astimezone(LOCAL_TZ).hour)
    db.session.add(visit)
    db.session.flush()
    # No one home does not close a follow-up: it stays on the list until someone was met (or refused).
    if follow_up is not None and visit.outcome != NO_ONE_HOME:
        follow_up.done_visit_id, follow_up.done_at = visit.id, utcnow()
    if form.follow_up.data:
        db.session.add(FollowUp(station_id=user.station_id, officer_id=user.id, grid_id=subject.grid_id,
                                visit_id=visit.id, **_subject_columns(subject.type, subject.id),
                                due_on=form.follow_up_due.data))
    return visit


def record_visit(user, form, *, via: str = "online", commit: bool = True) -> records.Outcome:
    """Record a validated visit once per client_id; the officer is always `user`.

    The subject must exist, belong to the station and (for a community officer) lie in their grids;
    otherwise the visit is rejected with the field's message and nothing is saved.
    """
    if user.role not in RECORD_ROLES:
        return records.Outcome(records.REJECTED, errors={"client_id": [_("Your role may not record visits.")]})
    try:
        subject = None
        if form.subject_id.data is not None:
            subject = subjects.resolve(user, form.subject_type.data, form.subject_id.data)
        follow_up = _open_follow_up(user, form, subject) if form.follow_up_id.data else None
    except subjects.SubjectError as error:
        return records.Outcome(records.REJECTED, errors={error.field: [error.message]})
    return records.save_once(user, KIND, form, lambda: _build(user, form, subject, follow_up, via), commit=commit)


# --- reading ----------------------------------------------------------------------------------------

def _with_subjects(query):
    return query.options(joinedload(Visit.officer), joinedload(Visit.resident),
                         joinedload(Visit.household).joinedload(RentalHousehold.address), joinedload(Visit.place))


def visit_scope(user, query):
    """Visits this user may see: the station for station-wide roles and the case team, else own grids and own."""
    query = query.where(Visit.station_id == user.station_id)
    if user.role == COMMUNITY:
        query = query.where((Visit.grid_id.in_(user.grid_ids or [-1])) | (Visit.officer_id == user.id))
    return query


def visit_for(user, visit_id: int) -> Visit | None:
    """A visit this user may see, or None (another station's or grid's is as good as missing)."""
    if not 0 < visit_id <= 2**31 - 1:
        return None
    return db.session.scalars(_with_subjects(visit_scope(user, select(Visit).where(Visit.id == visit_id)))).first()


def recent_visits(user, limit: int = LIST_LIMIT) -> list[Visit]:
    """The newest visits: an officer's own, or the station's for everyone else."""
    query = select(Visit)
    if user.role in RECORD_ROLES and not user.sees_whole_station:
        query = query.where(Visit.station_id == user.station_id, Visit.officer_id == user.id)
    else:
        query = visit_scope(user, query)
    return list(db.session.scalars(_with_subjects(query).order_by(Visit.recorded_at.desc(), Visit.id.desc())
                                   .limit(limit)))


def history(subject, limit: int = HISTORY_LIMIT) -> tuple[list[Visit], int]:
    """A subject's visits newest first (at most `limit`) and how many there are."""
    column = {"resident": Visit.resident_id, "household": Visit.household_id, "place": Visit.place_id}[subject.type]
    where = (Visit.station_id == subject.record.station_id, column == subject.id)
    rows = list(db.session.scalars(select(Visit).options(joinedload(Visit.officer)).where(*where)
                                   .order_by(Visit.recorded_at.desc(), Visit.id.desc()).limit(limit)))
    total = len(rows) if len(rows) < limit else db.session.scalar(select(func.count(Visit.id)).where(*where))
    return rows, total


# --- follow-ups -------------------------------------------------------------------------------------

def my_follow_ups(user) -> list[FollowUp]:
    """The officer's open follow-ups, oldest due date first (overdue ones lead)."""
    return list(db.session.scalars(
        select(FollowUp).options(joinedload(FollowUp.resident), joinedload(FollowUp.place),
                                 joinedload(FollowUp.household).joinedload(H.address),
                                 selectinload(FollowUp.visit))
        .where(FollowUp.station_id == user.station_id, FollowUp.officer_id == user.id,
               FollowUp.done_visit_id.is_(None))
        .order_by(FollowUp.due_on, FollowUp.id).limit(200)))


def follow_up_for(user, follow_up_id: int) -> FollowUp | None:
    """One of the officer's own follow-ups, or None."""
    if not 0 < follow_up_id <= 2**31 - 1:
        return None
    follow_up = db.session.get(FollowUp, follow_up_id)
    return follow_up if follow_up is not None and follow_up.officer_id == user.id else None


def officer_counts(user, start, end) -> dict:
    """Follow-ups due today or overdue, for the officer's phone home."""
    if user.role != COMMUNITY:
        return {}
    due = db.session.scalar(select(func.count(FollowUp.id)).where(
        FollowUp.station_id == user.station_id, FollowUp.officer_id == user.id, FollowUp.done_visit_id.is_(None),
        FollowUp.due_on <= today_local())) or 0
    return {"follow_ups_due": due}


def follow_ups_of(visit: Visit) -> list[FollowUp]:
    """The follow-up a visit asked for and the one it answered."""
    return list(db.session.scalars(select(FollowUp).where(
        (FollowUp.visit_id == visit.id) | (FollowUp.done_visit_id == visit.id)).order_by(FollowUp.id)))
