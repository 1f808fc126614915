"""The steps of a task: accept, feedback (a field form, offline-safe), confirm, send back; the photo."""
from flask import abort, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.sync import attachments, records
from blueprints.tasks import bp, services
from blueprints.tasks.forms import ActionForm, ReasonForm, TaskFeedbackForm
from blueprints.tasks.routes import FEEDBACK, MANAGE, _show, _task_or_404
from extensions import db
from web import render, requires, see_other


def _own_task_or_403(task_id: int):
    """A task of the station the officer may act on: 404 when there is none, 403 when it is someone else's."""
    task = services.station_task(current_user, task_id)
    if task is None:
        abort(404)
    if not services.can_act(current_user, task):
        abort(403)
    return task


@bp.post("/<int:task_id>/accept")
@requires(*FEEDBACK)
def accept(task_id: int):
    """The officer accepts the task (a grid task: the first one takes it); 409 when too late."""
    task = _own_task_or_403(task_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.accept_task(current_user, task)
    except services.TaskRefused as refusal:
        db.session.rollback()
        if refusal.status == 403:
            abort(403)
        db.session.refresh(task)
        return _show(task, status=refusal.status, action_error=refusal.message)
    return see_other(url_for("tasks.show", task_id=task.id))


@bp.post("/<int:task_id>/feedback")
@requires(*FEEDBACK)
def feedback(task_id: int):
    """Done with feedback, or returned with a reason (idempotent on client_id); 403 for someone else's task."""
    task = _own_task_or_403(task_id)
    form = TaskFeedbackForm()
    status = 422
    if form.validate_on_submit():
        if form.task_id.data != task.id:
            form.task_id.errors.append(_("This feedback is for another task."))
        else:
            outcome, status = _store_feedback(form)
            if outcome.status != records.REJECTED:
                return see_other(url_for("tasks.show", task_id=task.id))
    db.session.refresh(task)
    return _feedback_box(task, form, status)


def _feedback_box(task, form, status):
    return render("tasks/show.html", "tasks/_feedback.html", status=status, task=task,
                  events=services.timeline(task), can_act=services.can_act(current_user, task), manage=False,
                  action=ActionForm(), feedback=form, reason=ReasonForm(), now=None)


def _store_feedback(form) -> tuple[records.Outcome, int]:
    """Store the feedback through the field-record path; a refused step is a conflict (409)."""
    outcome = records.submit_online(current_user, "task_feedback", form)
    if outcome.status != records.REJECTED:
        return outcome, 200
    # A refused step (the task is confirmed or already done) is a conflict, a bad record id is not.
    return outcome, 409 if "task_id" in outcome.errors else 422


@bp.post("/<int:task_id>/confirm")
@requires(*MANAGE)
def confirm(task_id: int):
    """The command room confirms the feedback; 409 with the message when the task is not done."""
    task = _task_or_404(task_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.confirm_task(current_user, task)
    except services.TaskRefused as refusal:
        db.session.rollback()
        return _review(task, refusal.status, review_error=refusal.message)
    return see_other(url_for("tasks.show", task_id=task.id))


@bp.post("/<int:task_id>/send-back")
@requires(*MANAGE)
def send_back(task_id: int):
    """The command room sends the task back to the officer with a reason (422 without one)."""
    task = _task_or_404(task_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _review(task, 422, reason=form)
    try:
        services.send_back(current_user, task, form.reason.data)
    except services.TaskRefused as refusal:
        db.session.rollback()
        form.reason.errors = [refusal.message]
        return _review(task, refusal.status, reason=form)
    return see_other(url_for("tasks.show", task_id=task.id))


def _review(task, status, *, reason=None, review_error=None):
    db.session.refresh(task)
    return render("tasks/show.html", "tasks/_review.html", status=status, task=task,
                  events=services.timeline(task), can_act=False, manage=True, action=ActionForm(),
                  feedback=None, reason=reason or ReasonForm(), review_error=review_error, now=None)


@bp.get("/<int:task_id>/events/<int:event_id>/photo")
@requires()
def photo(task_id: int, event_id: int):
    """The photo of a feedback, for those who may see the task."""
    photo = services.event_photo(current_user, task_id, event_id)
    if photo is None:
        abort(404)
    response = send_file(attachments.attachment_path(photo), mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
