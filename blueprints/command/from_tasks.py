"""Tasks (指令) on the command room's screen and in its analysis: open, overdue, done on time."""
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import and_, case, extract, func, select
from sqlalchemy.orm import joinedload

from blueprints.command.sources import Column, Count, FeedItem, Layer, Source, add_hours, register
from blueprints.tasks import services as tasks
from extensions import db
from models import Grid, User, user_grids
from models.tasks import DONE, OPEN_STATUSES, RETURNED, Task, TaskEvent

LAYER_LIMIT = 500


def _overdue(now):
    return and_(Task.status.in_(OPEN_STATUSES), Task.due_at < now)


def version(today):
    station = today.user.station_id
    # max(updated_at) moves with every step; the overdue count moves when a due time passes.
    return [select(func.max(Task.updated_at)).where(Task.station_id == station).scalar_subquery(),
            select(func.count(Task.id)).where(Task.station_id == station, _overdue(today.now)).scalar_subquery()]


def counts(today):
    numbers = tasks.station_counts(today.user, today.start, today.end)
    index = url_for("tasks.index")
    return [Count("overdue_tasks", _("Overdue tasks"), numbers["overdue_tasks"], 60,
                  url_for("tasks.index", overdue="y"), alert=True),
            Count("open_tasks", _("Open tasks"), numbers["open_tasks"], 62, index),
            Count("tasks_to_review", _("Tasks to review"), numbers["tasks_to_review"], 64,
                  url_for("tasks.index", status=DONE))]


def layers(today):
    """Open tasks that have a place on the map."""
    prefix = url_for("tasks.show", task_id=1)[:-1]  # once, not url_for per marker
    markers = []
    for task_id, lat, lon, place, text, due_at, assignee, grid in db.session.execute(
            select(Task.id, Task.lat, Task.lon, Task.place, Task.text, Task.due_at, User.name, Grid.name)
            .outerjoin(User, User.id == Task.assignee_id).outerjoin(Grid, Grid.id == Task.grid_id)
            .where(Task.station_id == today.user.station_id, Task.status.in_(OPEN_STATUSES), Task.lat.is_not(None))
            .order_by(Task.due_at).limit(LAYER_LIMIT)):
        lat, lon = today.position(lat, lon)
        whom = assignee if assignee is not None else (grid if grid is not None else "")
        markers.append({"lat": lat, "lon": lon, "alert": due_at < today.now,  # open, so overdue = past due
                        "url": f"{prefix}{task_id}", "label": f"{place} · {whom} · {text[:40]}"})
    return [Layer("tasks", _("Open tasks"), "#8a5a00", markers, 30)]


def _action_label(action: str) -> str:
    return {"created": _("Created"), "accepted": _("Accepted"), "done": _("Done"), "confirmed": _("Confirmed"),
            "returned": _("Returned"), "sent_back": _("Sent back")}.get(action, action)


def feed(today, limit):
    """Every step of a task since the start of the day, with the officer's feedback text."""
    items = []
    for e in db.session.scalars(select(TaskEvent).options(joinedload(TaskEvent.task), joinedload(TaskEvent.user))
                                .where(TaskEvent.station_id == today.user.station_id)
                                .order_by(TaskEvent.id.desc()).limit(limit)):
        if e.created_at < today.start:  # newest ids first (created_at has no index)
            break
        detail = e.feedback or e.note or e.task.text
        items.append(FeedItem(e.created_at, _("Task"), f"{_action_label(e.action)}: {detail[:80]}", e.user.name,
                              url_for("tasks.show", task_id=e.task_id), recorded_at=e.recorded_at,
                              synced=e.via == "sync", alert=e.action == RETURNED))
    return items


def _first_grids(station_id: int) -> dict:
    """Each user's first grid (lowest id): where a task given to one officer is counted."""
    return dict(db.session.execute(select(user_grids.c.user_id, func.min(user_grids.c.grid_id))
                                   .join(Grid, Grid.id == user_grids.c.grid_id).where(Grid.station_id == station_id)
                                   .group_by(user_grids.c.user_id)).all())


def _by_grid(rows, first_grids, columns: int) -> list[dict]:
    """Fold (grid_id, assignee_id, n1, n2, ...) rows onto grids: the task's grid, else its officer's."""
    result = [dict() for _ in range(columns)]
    for grid_id, assignee_id, *numbers in rows:
        grid = grid_id if grid_id is not None else first_grids.get(assignee_id)
        for column, number in zip(result, numbers):
            column[grid] = column.get(grid, 0) + int(number or 0)
    return result


def grid_today(today):
    """Per grid: open tasks and overdue ones now."""
    rows = db.session.execute(
        select(Task.grid_id, Task.assignee_id, func.count(Task.id), func.sum(case((Task.due_at < today.now, 1), else_=0)))
        .where(Task.station_id == today.user.station_id, Task.status.in_(OPEN_STATUSES))
        .group_by(Task.grid_id, Task.assignee_id)).all()
    open_, overdue = _by_grid(rows, _first_grids(today.user.station_id), 2)
    return [Column("open_tasks", _("Open tasks"), open_, order=60),
            Column("overdue_tasks", _("Overdue tasks"), overdue, order=61, better="down")]


def measures(period):
    """Tasks due in the period per grid: done on time (feedback "done" by the due time) and late or not done."""
    on_time = and_(Task.done_at.is_not(None), Task.done_at <= Task.due_at)
    rows = db.session.execute(
        select(Task.grid_id, Task.assignee_id, func.count(Task.id), func.sum(case((on_time, 1), else_=0)),
               func.sum(case((on_time, 0), else_=1)))
        .where(Task.station_id == period.user.station_id, Task.due_at >= period.start_utc,
               Task.due_at < period.end_utc)
        .group_by(Task.grid_id, Task.assignee_id)).all()
    due, done, missed = _by_grid(rows, _first_grids(period.user.station_id), 3)
    return [Column("tasks_on_time", _("Tasks done on time"), done, of=due, order=60, better="up"),
            Column("tasks_late", _("Tasks late or not done"), missed, order=61, better="down")]


def hours(period):
    """The officers' task feedback by local weekday and hour."""
    dow, hour = extract("dow", TaskEvent.recorded_at), extract("hour", TaskEvent.recorded_at)
    rows = db.session.execute(select(dow, hour, func.count(TaskEvent.id)).where(
        TaskEvent.station_id == period.user.station_id, TaskEvent.action.in_((DONE, RETURNED)),
        TaskEvent.recorded_at >= period.start_utc, TaskEvent.recorded_at < period.end_utc)
        .group_by(dow, hour)).all()
    return add_hours({}, rows)


register(Source("tasks", version=version, counts=counts, layers=layers, feed=feed, grid_today=grid_today,
                measures=measures, hours=hours))
