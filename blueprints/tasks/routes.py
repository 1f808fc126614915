"""Task views: the command room's list, new task and review; the officer's tasks, accept and feedback."""
import math
import uuid
from datetime import datetime, timedelta

from flask import abort, current_app, make_response, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from jinja2.filters import do_truncate

from blueprints.home.services import LOCAL_TZ
from blueprints.tasks import bp, services
from blueprints.tasks.forms import ActionForm, FilterForm, ReasonForm, TaskFeedbackForm, TaskForm, kind_choices
from models import utcnow
from models.tasks import OPEN_STATUSES
from web import render, requires, see_other, station_time, wants_fragment

MANAGE, FEEDBACK = services.MANAGE_ROLES, services.FEEDBACK_ROLES


def _task_or_404(task_id: int):
    task = services.task_for(current_user, task_id)
    if task is None:
        abort(404)
    return task


# --- command room -----------------------------------------------------------------------------------

def _labels() -> dict:
    """Per-row texts computed once per render (gettext and url_for per row cost more than the row)."""
    return {"kind_labels": {key: str(label) for key, label in kind_choices()},
            "status_labels": {"assigned": _("Assigned"), "accepted": _("Accepted"), "done": _("Done, to confirm"),
                              "confirmed": _("Confirmed"), "returned": _("Returned"), "sent_back": _("Sent back")},
            "overdue_label": _("Overdue"), "photo_label": _("Photo"), "due_label": _("Due"),
            "show_prefix": url_for("tasks.show", task_id=1)[:-1]}


def _prepare(rows, now, labels: dict) -> None:
    """Each row's printed texts (labels, shortened text and feedback, due time), set in Python once:
    per-row filter and method calls from the template were most of the list's rendering."""
    env, kinds, statuses = current_app.jinja_env, labels["kind_labels"], labels["status_labels"]
    for row in rows:
        row.late = row.is_overdue(now)
        row.status_label = statuses.get(row.status, row.status)
        row.kind_label = kinds.get(row.kind) or kinds["other"]
        row.short_text = do_truncate(env, row.text, 60)
        row.short_feedback = do_truncate(env, row.feedback, 60)
        row.due_iso, row.due_text = row.due_at.isoformat(), station_time(row.due_at, "%m-%d %H:%M")


def _rows_context(status: str, overdue: bool, offset: int) -> dict:
    rows, more = services.command_list(current_user, status, overdue, offset)
    next_offset = offset + services.LIST_PAGE
    more_url = url_for("tasks.more", status=status or None, overdue="y" if overdue else None,
                       offset=next_offset) if more else None
    now, labels = utcnow(), _labels()
    _prepare(rows, now, labels)
    return {"rows": rows, "more_url": more_url, "now": now, **labels}


def _filter_values() -> tuple[FilterForm, str, bool]:
    filters = FilterForm(request.args)
    return filters, filters.status.data or "", bool(filters.overdue.data)


def _list_context(version: str) -> dict:
    filters, status, overdue = _filter_values()
    return {"filters": filters, **_rows_context(status, overdue, 0),
            "counts": services.counts(current_user), "version": version,
            "poll_url": url_for("tasks.index", status=status or None, overdue="y" if overdue else None, v=version)}


@bp.get("/more")
@requires(*MANAGE)
def more():
    """The next page of the command list: its rows for the htmx "more" link, else the page from there on."""
    filters, status, overdue = _filter_values()
    offset = min(max(request.args.get("offset", 0, type=int), 0), 100_000)
    if wants_fragment():
        return render("tasks/_rows.html", **_rows_context(status, overdue, offset))
    version = services.list_version(current_user, str(get_locale()))
    return render("tasks/index.html", filters=filters, counts=services.counts(current_user), version=version,
                  poll_url=url_for("tasks.index", status=status or None, overdue="y" if overdue else None,
                                   v=version), **_rows_context(status, overdue, offset))


@bp.get("/")
@requires(*MANAGE)
def index():
    """The command room's tasks with counts and filters; the list polls itself and is cheap when idle."""
    version = services.list_version(current_user, str(get_locale()))
    etag = f'"tasks-{version}"'
    if wants_fragment() and (etag in request.headers.get("If-None-Match", "") or request.args.get("v") == version):
        # Nothing changed since the list the page shows: 304 for a revalidating cache, else 204 (no swap).
        response = make_response("", 304 if etag in request.headers.get("If-None-Match", "") else 204)
    else:
        response = render("tasks/index.html", "tasks/_list.html", **_list_context(version))
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("HX-Request")
    return response


def _task_form(**kwargs) -> TaskForm:
    """The task form with the station's officers and grids as choices (kwargs: formdata=None, prefill)."""
    station_id = current_user.station_id
    return TaskForm(officers=services.assignable_officers(station_id), grids=services.station_grids(station_id),
                    **kwargs)


def _form_page(form, status=200):
    return render("tasks/new.html", "tasks/_form.html", status=status, form=form,
                  tile_url=current_app.config.get("MAP_TILE_URL", ""),
                  tile_crs=current_app.config.get("MAP_TILE_CRS", "wgs84"))


@bp.get("/new")
@requires(*MANAGE)
def new():
    """A new task, prefilled from ?kind=&text=&place=&lat=&lon=&source= (links from other features)."""
    args = request.args
    form = _task_form(formdata=None, kind=args.get("kind") if args.get("kind") in dict(kind_choices()) else "other",
                      text=args.get("text", "")[:1000], place=args.get("place", "")[:120],
                      lat=_coordinate("lat"), lon=_coordinate("lon"),
                      source=args.get("source", "")[:60], due_at=_default_due())
    return _form_page(form)


def _default_due() -> datetime:
    """Tomorrow at this hour, Beijing time (what the datetime-local input shows)."""
    return (datetime.now(LOCAL_TZ) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0, tzinfo=None)


def _coordinate(name: str) -> float | None:
    value = request.args.get(name, type=float)
    return value if value is not None and math.isfinite(value) else None


@bp.post("/")
@requires(*MANAGE)
def create():
    """Create a task; 422 with the messages beside the fields (another station's officer, a past due time)."""
    form = _task_form()
    if form.validate_on_submit():
        task, errors = services.create_task(current_user, form)
        if task is not None:
            return see_other(url_for("tasks.show", task_id=task.id))
        for name, messages in errors.items():
            form[name].errors = list(form[name].errors) + messages
    return _form_page(form, status=422)


# --- one task ---------------------------------------------------------------------------------------

def _fresh_feedback(task) -> TaskFeedbackForm:
    """An empty feedback form with a new record id and the server's time (outbox.js refreshes both)."""
    form = TaskFeedbackForm(formdata=None, task_id=task.id)
    form.client_id.data = str(uuid.uuid4())
    form.recorded_at.data = utcnow().isoformat(timespec="seconds")
    return form


def _show(task, *, status=200, feedback=None, reason=None, review_error=None, action_error=None):
    can_act = services.can_act(current_user, task)
    return render("tasks/show.html", status=status, task=task, events=services.timeline(task), now=utcnow(),
                  can_act=can_act, manage=current_user.role in MANAGE, action=ActionForm(),
                  feedback=feedback or (_fresh_feedback(task) if can_act else None),
                  reason=reason or ReasonForm(), review_error=review_error, action_error=action_error)


@bp.get("/<int:task_id>")
@requires()
def show(task_id: int):
    """A task with its timeline: the officer's accept and feedback, the command room's review."""
    return _show(_task_or_404(task_id))


@bp.get("/mine")
@requires(*FEEDBACK)
def mine():
    """The officer's tasks: open ones soonest due first, then the latest finished ones."""
    open_tasks, others = services.my_tasks(current_user)
    now, labels = utcnow(), _labels()
    return render("tasks/mine.html", open_tasks=_lines(open_tasks, now, labels), others=_lines(others, now, labels),
                  L=labels)


class _Line:
    """One line of the officer's list, its printed texts set once in Python (services.my_tasks rows)."""
    __slots__ = ("id", "status", "status_label", "kind_label", "short_text", "place", "due_iso", "due_text",
                 "late", "grid_text")


def _lines(rows, now, labels: dict) -> list[_Line]:
    """What each line prints (labels, text shortened to 80, due time in station time, overdue mark, the
    grid of an unclaimed task), computed in one loop instead of a macro call with filters per row."""
    env, kinds, statuses = current_app.jinja_env, labels["kind_labels"], labels["status_labels"]
    grid_label = _("Grid %(name)s")
    lines = []
    for row in rows:
        line = _Line()
        line.id, line.status, line.place = row.id, row.status, row.place
        line.status_label = statuses.get(row.status, row.status)
        line.kind_label = kinds.get(row.kind) or kinds["other"]
        line.short_text = do_truncate(env, row.text, 80)
        line.due_iso, line.due_text = row.due_at.isoformat(), station_time(row.due_at, "%m-%d %H:%M")
        line.late = row.status in OPEN_STATUSES and row.due_at < now
        line.grid_text = grid_label % {"name": row.grid_name} if row.assignee_id is None and row.grid_name else None
        lines.append(line)
    return lines
