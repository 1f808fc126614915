"""Tasks (指令) on the command room's screen and in its analysis: open, overdue, done on time."""
from operator import itemgetter

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import Integer, String, and_, bindparam, case, func, literal_column, select, union_all

from blueprints.command.sources import (Column, Count, FeedItem, Layer, Source, NOW, add_hours, feed_columns,
                                        feed_member, fetch, fetch_tuples, memoized, micro, register, tally,
                                        utc_hour)
from models import Grid, User, user_grids
from models.tasks import DONE, OPEN_STATUSES, RETURNED, REVIEW_STATUSES, Task, TaskEvent
from models.types import UTCDateTime

LAYER_LIMIT = 500


def _overdue(now):
    return and_(Task.status.in_(OPEN_STATUSES), Task.due_at < now)


def version(today):
    station = today.user.station_id
    # max(updated_at) moves with every step; the overdue count moves when a due time passes.
    return [select(func.max(Task.updated_at)).where(Task.station_id == station).scalar_subquery(),
            select(func.count(Task.id)).where(Task.station_id == station, _overdue(NOW)).scalar_subquery()]


def tallies(today):
    """The station's tasks per (grid, officer): open, overdue now, waiting for review; and each
    officer's first grid (where a task given to one officer is counted)."""
    station = today.user.station_id
    return memoized(("tasks", station), lambda: _tallies(station))


def _tallies(station):
    return [
        select(*tally("tasks", Task.grid_id, Task.assignee_id,
                      func.sum(case((Task.status.in_(OPEN_STATUSES), 1), else_=0)),
                      func.sum(case((_overdue(NOW), 1), else_=0)),
                      func.sum(case((Task.status.in_(REVIEW_STATUSES), 1), else_=0))))
        # Only the statuses counted (open, to review): closed tasks, most of a year's, are not read.
        .where(Task.station_id == station, Task.status.in_(OPEN_STATUSES + REVIEW_STATUSES))
        .group_by(Task.grid_id, Task.assignee_id),
        select(*tally("tasks.first_grid", user_grids.c.user_id, func.min(user_grids.c.grid_id)))
        .join(Grid, Grid.id == user_grids.c.grid_id).where(Grid.station_id == station).group_by(user_grids.c.user_id),
    ]


def fold(today, rows):
    """Counts (overdue, open, to review) and the per-grid open and overdue columns, from the tally rows."""
    first_grids = {user_id: grid_id for user_id, grid_id, *_rest in rows.get("tasks.first_grid", ())}
    task_rows = rows.get("tasks", ())
    open_, overdue = _by_grid([(g, a, n_open, n_overdue) for g, a, n_open, n_overdue, _r in task_rows], first_grids, 2)
    to_review = sum(int(n or 0) for *_, n in task_rows)
    index = url_for("tasks.index")
    counts = [Count("overdue_tasks", _("Overdue tasks"), sum(overdue.values()), 60, url_for("tasks.index", overdue="y"),
                    alert=True),
              Count("open_tasks", _("Open tasks"), sum(open_.values()), 62, index),
              Count("tasks_to_review", _("Tasks to review"), to_review, 64, url_for("tasks.index", status=DONE))]
    # Grids with only closed tasks show 0 as before (a grid absent from the dict shows 0 too).
    return counts, [Column("open_tasks", _("Open tasks"), {g: n for g, n in open_.items() if n}, order=60),
                    Column("overdue_tasks", _("Overdue tasks"), {g: n for g, n in overdue.items() if n}, order=61,
                           better="down")]


def layers(today):
    """Open tasks that have a place on the map: the database writes each label ("place · officer or
    grid · the text's first 40 characters") and whether it is overdue (open, so past due)."""
    prefix = url_for("tasks.show", task_id=1)[:-1]  # once, not url_for per marker
    station = today.user.station_id
    rows = fetch_tuples(memoized(("tasks.layer", station), lambda: (
        select(micro(Task.lat), micro(Task.lon),
               Task.place + " · " + func.coalesce(User.name, Grid.name, "") + " · "
               + func.substr(Task.text, 1, 40, type_=String),
               case((Task.due_at < NOW, 1), else_=0), Task.id)
        .outerjoin(User, User.id == Task.assignee_id).outerjoin(Grid, Grid.id == Task.grid_id)
        .where(Task.station_id == station, Task.status.in_(OPEN_STATUSES), Task.lat.is_not(None))
        .order_by(Task.due_at).limit(LAYER_LIMIT))), {NOW.key: today.now})
    return [Layer("tasks", _("Open tasks"), "#8a5a00", today.markers(rows), 30, url=prefix)]


def _action_labels() -> dict:
    return {"created": _("Created"), "accepted": _("Accepted"), "done": _("Done"), "confirmed": _("Confirmed"),
            "returned": _("Returned"), "sent_back": _("Sent back")}


def feed_union(today, limit):
    """Every step of a task, newest first, with the officer's feedback text (else the note, else the
    task's text), as a member of the screen's feed (feed_fold keeps those since the start of the day)."""
    station = today.user.station_id
    # (The device's recorded time is not shown on the screen: not read.)
    return [memoized(("tasks.feed", station, limit), lambda: feed_member(
        select(*feed_columns("tasks", TaskEvent.created_at, TaskEvent.id, TaskEvent.task_id, TaskEvent.via,
                             who=User.name, t1=TaskEvent.action,
                             t2=func.coalesce(func.nullif(TaskEvent.feedback, ""), func.nullif(TaskEvent.note, ""),
                                              Task.text)))
        .join(Task, Task.id == TaskEvent.task_id).join(User, User.id == TaskEvent.user_id)
        .where(TaskEvent.station_id == station).order_by(TaskEvent.id.desc()).limit(limit)))]


def feed_fold(today, rows):
    """The tasks' feed lines since the start of the day, newest first."""
    items = []
    prefix = url_for("tasks.show", task_id=1)[:-1]
    kind, labels = _("Task"), _action_labels()
    for created_at, _seq, task_id, via, _flag, who, action, detail in sorted(rows.get("tasks", ()), key=itemgetter(1),
                                                                            reverse=True):
        if created_at < today.start:  # newest ids first (created_at has no index)
            break
        items.append(FeedItem(created_at, kind, f"{labels.get(action, action)}: {detail[:80]}", who,
                              f"{prefix}{task_id}", synced=via == "sync",
                              alert=action == RETURNED))
    return items


def _by_grid(rows, first_grids, columns: int) -> list[dict]:
    """Fold (grid_id, assignee_id, n1, n2, ...) rows onto grids: the task's grid, else its officer's."""
    result = [dict() for _ in range(columns)]
    for grid_id, assignee_id, *numbers in rows:
        grid = grid_id if grid_id is not None else first_grids.get(assignee_id)
        for column, number in zip(result, numbers):
            column[grid] = column.get(grid, 0) + int(number or 0)
    return result


def measures(period):
    """Tasks due in the period per grid: done on time (feedback "done" by the due time) and late or not done."""
    return compare(period, period)[0]


def compare(period, previous):
    """Both periods' measures from one statement over previous..period (grouped by which period) and
    each officer's first grid, as one UNION ALL built once with bind parameters: (tag, later, grid,
    assignee, due, on time, missed) rows, "f" rows being (user, first grid)."""
    rows = fetch(memoized(("tasks.compare",), _compare_statement),
                 {"station": period.user.station_id, "first": previous.start_utc, "split": period.start_utc,
                  "end": period.end_utc})
    first_grids = {user_id: grid_id for tag, _later, user_id, grid_id, *_rest in rows if tag == "f"}
    result = []
    for which in (1, 0):
        due, done, missed = _by_grid([row[2:] for row in rows if row[0] == "t" and row[1] == which], first_grids, 3)
        result.append([Column("tasks_on_time", _("Tasks done on time"), done, of=due, order=60, better="up"),
                       Column("tasks_late", _("Tasks late or not done"), missed, order=61, better="down")])
    return tuple(result)


def _compare_statement():
    station = bindparam("station", type_=Integer)
    on_time = and_(Task.done_at.is_not(None), Task.done_at <= Task.due_at)
    now = case((Task.due_at >= bindparam("split", type_=UTCDateTime), 1), else_=0)
    zero = literal_column("0")
    return union_all(
        select(literal_column("'t'"), now, Task.grid_id, Task.assignee_id, func.count(Task.id),
               func.sum(case((on_time, 1), else_=0)), func.sum(case((on_time, 0), else_=1)))
        .where(Task.station_id == station, Task.due_at >= bindparam("first", type_=UTCDateTime),
               Task.due_at < bindparam("end", type_=UTCDateTime))
        .group_by(now, Task.grid_id, Task.assignee_id),
        select(literal_column("'f'"), zero, user_grids.c.user_id, func.min(user_grids.c.grid_id), zero, zero, zero)
        .join(Grid, Grid.id == user_grids.c.grid_id).where(Grid.station_id == station)
        .group_by(user_grids.c.user_id))


def hours(period):
    """The officers' task feedback by local weekday and hour."""
    def build():
        bucket = utc_hour(TaskEvent.recorded_at)
        return (select(bucket, func.count(TaskEvent.id))
                .where(TaskEvent.station_id == bindparam("station", type_=Integer),
                       TaskEvent.action.in_((DONE, RETURNED)),
                       TaskEvent.recorded_at >= bindparam("start", type_=UTCDateTime),
                       TaskEvent.recorded_at < bindparam("end", type_=UTCDateTime))
                .group_by(bucket))
    rows = fetch(memoized(("tasks.hours",), build),
               {"station": period.user.station_id, "start": period.start_utc, "end": period.end_utc})
    return add_hours({}, rows)


register(Source("tasks", version=version, tallies=tallies, fold=fold, layers=layers, feed_union=feed_union,
                feed_fold=feed_fold, measures=measures, compare=compare, hours=hours))
