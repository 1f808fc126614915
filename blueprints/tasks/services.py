"""The work of tasks: who sees and may change which task, every step of the flow, lists and counts.

Steps change a task with a conditional UPDATE (`... WHERE status IN (...)`), so two people acting
at once cannot both win: the second gets a clear 409 (e.g. two officers accepting one grid task).
"""
import hashlib
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, case, false, func, or_, select, update
from sqlalchemy.orm import joinedload

from blueprints.sync import attachments, records
from extensions import db
from models import Grid, User, utcnow
from models.tasks import (ACCEPTED, ASSIGNED, CONFIRMED, CREATED, DONE, OPEN_STATUSES, RETURNED, REVIEW_STATUSES,
                          SENT_BACK, Task, TaskEvent)
from models.users import CASE, COMMAND, COMMUNITY, LEADER

KIND = "task_feedback"
MANAGE_ROLES = (COMMAND, LEADER)  # create, confirm, send back
FEEDBACK_ROLES = (COMMUNITY, CASE)  # accept, complete, return
ASSIGNABLE_ROLES = (COMMUNITY, CASE)
LIST_LIMIT = 200
LIST_PAGE = 50  # the command list shows the 50 latest changed tasks, then a "more" link loads 50 more


class TaskRefused(Exception):
    """A step that may not happen now: the HTTP status and the message (with the field it belongs to)."""

    def __init__(self, status: int, message: str, field: str = "task_id"):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


# --- who sees what ----------------------------------------------------------------------------------

def _visible_clause(user):
    """Station-wide roles see every task of the station; an officer their own and their grids'."""
    if user.sees_whole_station:
        return Task.station_id == user.station_id
    mine = Task.assignee_id == user.id
    if user.role == COMMUNITY and user.grid_ids:
        mine = or_(mine, Task.grid_id.in_(user.grid_ids))
    return and_(Task.station_id == user.station_id, mine)


def task_for(user, task_id: int) -> Task | None:
    """A task this user may see, or None (another station's task is as good as missing)."""
    if not 0 < task_id <= 2**31 - 1:
        return None
    return db.session.scalars(select(Task).where(Task.id == task_id, _visible_clause(user))).first()


def station_task(user, task_id: int) -> Task | None:
    """A task of the user's station, visible or not (a step on someone else's task answers 403)."""
    if not 0 < task_id <= 2**31 - 1:
        return None
    task = db.session.get(Task, task_id)
    return task if task is not None and task.station_id == user.station_id else None


def can_act(user, task: Task) -> bool:
    """The officer the task is for: its assignee, or any officer of its grid while nobody took it."""
    if user.role not in FEEDBACK_ROLES or task.station_id != user.station_id:
        return False
    if task.assignee_id is not None:
        return task.assignee_id == user.id
    return task.grid_id in user.grid_ids


def _actor_clause(user):
    """The SQL twin of can_act, for the conditional updates."""
    unclaimed = and_(Task.assignee_id.is_(None), Task.grid_id.in_(user.grid_ids)) if user.grid_ids else false()
    return or_(Task.assignee_id == user.id, unclaimed)


# --- choices ----------------------------------------------------------------------------------------

def assignable_officers(station_id: int) -> list[User]:
    """Active community officers and case-team members of the station, by name."""
    return list(db.session.scalars(select(User).where(
        User.station_id == station_id, User.active.is_(True), User.role.in_(ASSIGNABLE_ROLES)).order_by(User.name)))


def station_grids(station_id: int) -> list[Grid]:
    return list(db.session.scalars(select(Grid).where(Grid.station_id == station_id).order_by(Grid.code)))


# --- creating ---------------------------------------------------------------------------------------

def _add_event(task: Task, user, action: str, **fields) -> TaskEvent:
    event = TaskEvent(task=task, station_id=task.station_id, user_id=user.id, action=action, **fields)
    db.session.add(event)
    return event


def create_task(user, form) -> tuple[Task | None, dict[str, list[str]]]:
    """Create a validated task of the user's station; a foreign officer or grid is refused by field."""
    errors: dict[str, list[str]] = {}
    assignee_id, grid_id = form.assignee_id.data, form.grid_id.data
    if assignee_id is not None:
        officer = db.session.get(User, assignee_id) if 0 < assignee_id <= 2**31 - 1 else None
        if officer is None or officer.station_id != user.station_id:
            errors["assignee_id"] = [_("This officer is not in your station.")]
        elif not officer.active or officer.role not in ASSIGNABLE_ROLES:
            errors["assignee_id"] = [_("Tasks go to community officers or the case team.")]
    if grid_id is not None:
        grid = db.session.get(Grid, grid_id) if 0 < grid_id <= 2**31 - 1 else None
        if grid is None or grid.station_id != user.station_id:
            errors["grid_id"] = [_("This grid is not in your station.")]
    if errors:
        return None, errors
    now = utcnow()
    task = Task(station_id=user.station_id, kind=form.kind.data, text=form.text.data.strip(),
                place=form.place.data.strip(), lat=form.lat.data, lon=form.lon.data, due_at=form.due_at.data,
                assignee_id=assignee_id, grid_id=grid_id, created_by_id=user.id, status=ASSIGNED,
                source=(form.source.data or "").strip() or None, created_at=now, updated_at=now)
    db.session.add(task)
    _add_event(task, user, CREATED, recorded_at=now, created_at=now)
    db.session.commit()
    return task, {}


# --- the steps --------------------------------------------------------------------------------------

def _transition(task: Task, allowed: tuple[str, ...], extra_where=None, **values) -> bool:
    """Move the task on only if its status (and `extra_where`) still hold in the database."""
    query = update(Task).where(Task.id == task.id, Task.status.in_(allowed))
    if extra_where is not None:
        query = query.where(extra_where)
    result = db.session.execute(query.values(updated_at=utcnow(), **values).execution_options(
        synchronize_session=False))
    db.session.refresh(task)
    return result.rowcount == 1


def accept_task(user, task: Task) -> TaskEvent:
    """The officer takes the task (a grid task: the first officer to accept gets it); commits."""
    if not can_act(user, task):
        raise TaskRefused(403, _("This task is assigned to another officer."))
    if not _transition(task, (ASSIGNED, SENT_BACK), _actor_clause(user), status=ACCEPTED, assignee_id=user.id):
        if task.assignee_id not in (None, user.id):
            raise TaskRefused(409, _("Another officer has already taken this task."))
        raise TaskRefused(409, _("This task cannot be accepted now."))
    event = _add_event(task, user, ACCEPTED)
    db.session.commit()
    return event


def confirm_task(user, task: Task) -> TaskEvent:
    """The command room confirms the officer's feedback; only a task marked done; commits."""
    now = utcnow()
    if not _transition(task, (DONE,), status=CONFIRMED, confirmed_at=now):
        raise TaskRefused(409, _("Only a task marked done can be confirmed."))
    event = _add_event(task, user, CONFIRMED, created_at=now, recorded_at=now)
    db.session.commit()
    return event


def send_back(user, task: Task, reason: str) -> TaskEvent:
    """The command room sends done or returned work back to the officer, with the reason; commits."""
    if not _transition(task, REVIEW_STATUSES, status=SENT_BACK):
        raise TaskRefused(409, _("Only a task that is done or returned can be sent back."), field="reason")
    event = _add_event(task, user, SENT_BACK, note=reason.strip())
    db.session.commit()
    return event


def _feedback_event(user, form, via: str) -> TaskEvent:
    """Inside save_once's savepoint: check the task and move it on; a refusal undoes the receipt."""
    task = station_task(user, form.task_id.data)
    if task is None:
        raise TaskRefused(404, _("This task does not exist."))
    if not can_act(user, task):
        raise TaskRefused(403, _("This task is assigned to another officer."))
    if task.status not in OPEN_STATUSES:
        messages = {CONFIRMED: _("This task is already confirmed: feedback can no longer be added."),
                    DONE: _("This task is already done and waiting for the command room."),
                    RETURNED: _("This task was returned and is waiting for the command room.")}
        raise TaskRefused(409, messages.get(task.status, _("This task cannot take feedback now.")))
    outcome, text, now = form.outcome.data, form.text.data.strip(), utcnow()
    values = {"status": outcome, "assignee_id": user.id}
    if outcome == DONE:
        values["done_at"] = now
    if not _transition(task, OPEN_STATUSES, _actor_clause(user), **values):
        raise TaskRefused(409, _("This task changed meanwhile. Reload the page."))
    photo = attachments.record_photo(user, form)
    return TaskEvent(task_id=task.id, station_id=task.station_id, user_id=user.id, action=outcome,
                     note=text[:500] if outcome == RETURNED else None, feedback=text if outcome == DONE else None,
                     photo_id=photo.id if photo else None, lat=form.lat.data, lon=form.lon.data,
                     accuracy_m=form.accuracy.data if form.lat.data is not None else None,
                     client_id=form.client_id.data, via=via, recorded_at=form.recorded_at.data, created_at=now)


def record_task_feedback(user, form, *, via: str = "online", commit: bool = True) -> records.Outcome:
    """Record the officer's feedback once per client_id (the same record synced twice is one event).

    The receipt is claimed first, so a retry answers `duplicate` even though the task has moved on;
    a refused step (someone else's task, a confirmed task) answers `rejected` with the field's message.
    """
    if user.role not in FEEDBACK_ROLES:
        return records.Outcome(records.REJECTED, errors={"task_id": [_("Your role may not give task feedback.")]})
    try:
        return records.save_once(user, KIND, form, lambda: _feedback_event(user, form, via), commit=commit)
    except TaskRefused as refusal:
        return records.Outcome(records.REJECTED, errors={refusal.field: [refusal.message]})


# --- lists and counts -------------------------------------------------------------------------------

@dataclass
class TaskRow:
    """A task on the command list: its columns, the officer's and the grid's names, and its latest
    feedback (or return reason) with whether it has a photo. Plain values, no ORM objects: the
    list shows 50 of these."""

    id: int
    kind: str
    text: str
    place: str
    due_at: datetime
    status: str
    assignee: str | None  # the officer's name
    grid: str | None  # the grid's name
    has_feedback: bool = False
    feedback: str = ""
    photo: bool = False

    def is_overdue(self, now: datetime) -> bool:
        return self.status in OPEN_STATUSES and self.due_at < now


def _overdue_clause(now: datetime):
    return and_(Task.status.in_(OPEN_STATUSES), Task.due_at < now)


def command_list(user, status: str = "", overdue: bool = False, offset: int = 0,
                 limit: int = LIST_PAGE) -> tuple[list[TaskRow], bool]:
    """A page of the station's tasks, newest change first, with each one's latest feedback: two
    queries of columns. Also whether more tasks follow (one extra row is read to know)."""
    query = (select(Task.id, Task.kind, Task.text, Task.place, Task.due_at, Task.status, User.name, Grid.name)
             .outerjoin(User, User.id == Task.assignee_id).outerjoin(Grid, Grid.id == Task.grid_id)
             .where(_visible_clause(user)))
    if status:
        query = query.where(Task.status == status)
    if overdue:
        query = query.where(_overdue_clause(utcnow()))
    rows = [TaskRow(*row) for row in db.session.execute(query.order_by(Task.updated_at.desc(), Task.id.desc())
                                                        .offset(max(offset, 0)).limit(limit + 1))]
    more, rows = len(rows) > limit, rows[:limit]
    if rows:
        by_id = {row.id: row for row in rows}
        for task_id, feedback, note, photo_id in db.session.execute(
                select(TaskEvent.task_id, TaskEvent.feedback, TaskEvent.note, TaskEvent.photo_id)
                .where(TaskEvent.task_id.in_(list(by_id)), TaskEvent.action.in_((DONE, RETURNED)))
                .order_by(TaskEvent.id)):  # the last one of each task wins
            row = by_id[task_id]
            row.has_feedback, row.feedback, row.photo = True, feedback or note or "", photo_id is not None
    return rows, more


def counts(user) -> dict:
    """Tasks per status, and overdue ones, visible to the user: one query."""
    now = utcnow()
    rows = db.session.execute(select(Task.status, func.count(Task.id),
                                     func.sum(case((_overdue_clause(now), 1), else_=0)))
                              .where(_visible_clause(user)).group_by(Task.status))
    result = {"overdue": 0, "total": 0}
    for status, number, overdue in rows:
        result[status] = number
        result["overdue"] += int(overdue or 0)
        result["total"] += number
    return result


def list_version(user, locale: str) -> str:
    """A tag that changes when any visible task changes, one is added, or one becomes overdue."""
    now = utcnow()
    row = db.session.execute(select(func.count(Task.id), func.max(Task.updated_at),
                                    func.sum(case((_overdue_clause(now), 1), else_=0)))
                             .where(_visible_clause(user))).one()
    raw = f"{user.id}:{locale}:{row[0]}:{row[1]}:{row[2] or 0}"
    return hashlib.sha1(raw.encode()).hexdigest()[:16]


def _open_for(user):
    """Tasks waiting for this officer: their own open ones and their grids' unclaimed ones."""
    return and_(_visible_clause(user), Task.status.in_(OPEN_STATUSES),
                or_(Task.assignee_id == user.id, Task.assignee_id.is_(None)))


def my_tasks(user) -> tuple[list, list]:
    """The officer's open tasks (soonest due first) and the latest 20 finished or waiting ones: rows of
    the columns the list prints (id, kind, text, place, due_at, status, assignee_id, grid_name), not
    Task objects (building up to 220 ORM objects cost more than the statements)."""
    columns = (Task.id, Task.kind, Task.text, Task.place, Task.due_at, Task.status, Task.assignee_id,
               Grid.name.label("grid_name"))
    open_tasks = db.session.execute(select(*columns).outerjoin(Grid, Grid.id == Task.grid_id)
                                    .where(_open_for(user)).order_by(Task.due_at, Task.id).limit(LIST_LIMIT)).all()
    others = db.session.execute(select(*columns).outerjoin(Grid, Grid.id == Task.grid_id).where(
        _visible_clause(user), Task.assignee_id == user.id, Task.status.not_in(OPEN_STATUSES))
        .order_by(Task.updated_at.desc()).limit(20)).all()
    return open_tasks, others


def timeline(task: Task) -> list[TaskEvent]:
    """Every step of the task, oldest first, with who did it and the photo."""
    return list(db.session.scalars(select(TaskEvent).options(joinedload(TaskEvent.user), joinedload(TaskEvent.photo))
                                   .where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)))


def event_photo(user, task_id: int, event_id: int):
    """The photo of a step of a task this user may see, or None."""
    task = task_for(user, task_id)
    event = db.session.get(TaskEvent, event_id) if task and 0 < event_id <= 2**31 - 1 else None
    if event is None or event.task_id != task.id or event.photo is None:
        return None
    return event.photo


# --- home page counts -------------------------------------------------------------------------------

def officer_counts(user, start: datetime, end: datetime) -> dict:
    """The officer's open tasks (count, and the five due soonest) for the phone home."""
    number = db.session.scalar(select(func.count(Task.id)).where(_open_for(user))) or 0
    soon = list(db.session.scalars(select(Task).where(_open_for(user)).order_by(Task.due_at, Task.id).limit(5))) \
        if number else []
    return {"open_tasks": number, "open_task_list": soon}


def station_counts(user, start: datetime, end: datetime) -> dict:
    """Open, overdue and to-review tasks of the station (for the command room's screen)."""
    now = utcnow()
    row = db.session.execute(select(
        func.sum(case((Task.status.in_(OPEN_STATUSES), 1), else_=0)),
        func.sum(case((_overdue_clause(now), 1), else_=0)),
        func.sum(case((Task.status.in_(REVIEW_STATUSES), 1), else_=0)))
        .where(Task.station_id == user.station_id)).one()
    return {"open_tasks": int(row[0] or 0), "overdue_tasks": int(row[1] or 0), "tasks_to_review": int(row[2] or 0)}
