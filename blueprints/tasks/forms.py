"""Forms of tasks: the command room's new task and review, and the officer's feedback (a field form)."""
from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (BooleanField, DateTimeLocalField, HiddenField, IntegerField, RadioField, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from blueprints.home.services import LOCAL_TZ
from blueprints.sync.records import FieldRecordMixin
from domain.geo import valid_position
from models.tasks import DONE, RETURNED, TASK_KINDS, TASK_STATUSES
from fields import NumberField

MAX_ID = 2**31 - 1  # an id beyond PostgreSQL's integer is as good as missing: refuse it in the form
MAX_ACCURACY_M = 10_000


def kind_choices():
    labels = {"patrol": _l("Patrol an area"), "visit": _l("Visit a person or household"),
              "search": _l("Search for a missing person"), "hazard": _l("Check a hazard's rectification"),
              "other": _l("Other")}
    return [(k, labels[k]) for k in TASK_KINDS]


def status_choices():
    labels = {"assigned": _l("Assigned"), "accepted": _l("Accepted"), "done": _l("Done, to confirm"),
              "confirmed": _l("Confirmed"), "returned": _l("Returned"), "sent_back": _l("Sent back")}
    return [(s, labels[s]) for s in TASK_STATUSES]



def _between(low: float, high: float, message):
    def check(form, field):
        if field.data is not None and not low <= field.data <= high:
            raise ValidationError(message)
    return check


def _id_or_none(value):
    """Coerce a select's value to an id; blank means none. A non-number stays as text (and is refused)."""
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _position_errors(form) -> bool:
    """Both coordinates or none, and a usable position: the error goes beside the latitude."""
    has_lat, has_lon = form.lat.data is not None, form.lon.data is not None
    if has_lat != has_lon:
        form.lat.errors.append(_l("The position is incomplete: latitude and longitude are both needed."))
        return True
    if has_lat and not valid_position(form.lat.data, form.lon.data):
        form.lat.errors.append(_l("This is not a usable position."))
        return True
    return False


class TaskForm(FlaskForm):
    """A new task: what, where, by when, for an officer or a whole grid (choices from the station)."""

    kind = SelectField(_l("Kind"), choices=kind_choices, validators=[DataRequired()])
    text = TextAreaField(_l("Instruction"), validators=[
        DataRequired(message=_l("Write what the officer should do.")), Length(max=1000)])
    place = StringField(_l("Place"), validators=[
        DataRequired(message=_l("Say where, for example 城东菜市场 or 解放路12号.")), Length(max=120)])
    lat = NumberField(_l("Latitude"), validators=[Optional(), _between(-90, 90, _l("Latitude must be between -90 and 90."))])
    lon = NumberField(_l("Longitude"), validators=[
        Optional(), _between(-180, 180, _l("Longitude must be between -180 and 180."))])
    due_at = DateTimeLocalField(_l("Due (local time)"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                validators=[InputRequired(message=_l("Give the due time."))])
    assignee_id = SelectField(_l("Officer"), coerce=_id_or_none, choices=[], validate_choice=False)
    grid_id = SelectField(_l("Or a whole grid"), coerce=_id_or_none, choices=[], validate_choice=False)
    source = HiddenField("Source", validators=[Optional(), Length(max=60)])

    def __init__(self, *args, officers=(), grids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.assignee_id.choices = [(None, "—")] + [(u.id, f"{u.name} ({u.badge_no or u.username})") for u in officers]
        self.grid_id.choices = [(None, "—")] + [(g.id, g.name) for g in grids]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.due_at.data is not None:
            # The form speaks the station's local time; the database stores UTC.
            self.due_at.data = self.due_at.data.replace(tzinfo=LOCAL_TZ).astimezone(timezone.utc)
            if self.due_at.data < datetime.now(timezone.utc).replace(second=0, microsecond=0):
                self.due_at.errors.append(_l("The due time is in the past."))
                ok = False
        if (self.assignee_id.data is None) == (self.grid_id.data is None):
            self.assignee_id.errors.append(_l("Choose an officer or a grid (one of them)."))
            ok = False
        return not _position_errors(self) and ok

    @property
    def due_local(self) -> str:
        """The due time as the datetime-local input shows it (after validation turned it into UTC)."""
        value = self.due_at.data
        if value is None:
            return self.due_at._value()
        if value.tzinfo is not None:
            value = value.astimezone(LOCAL_TZ)
        return value.strftime("%Y-%m-%dT%H:%M")


class TaskFeedbackForm(FieldRecordMixin, FlaskForm):
    """The officer's feedback on a task: done (what was found) or returned (why). A field form.

    Validates without a request (the sync path passes formdata and no files): the photo is stored by
    the view (online) or arrives first as an attachment with the same client_id (offline).
    """

    task_id = IntegerField(_l("Task"), validators=[
        InputRequired(message=_l("Which task? The task id is missing.")),
        NumberRange(min=1, max=MAX_ID, message=_l("This task does not exist."))])
    outcome = RadioField(_l("Outcome"), default=DONE, validators=[DataRequired()],
                         choices=[(DONE, _l("Done")), (RETURNED, _l("Return it to the command room"))])
    text = TextAreaField(_l("Feedback"), validators=[Optional(), Length(max=1000)])
    lat = NumberField(_l("Latitude"), validators=[Optional(), _between(-90, 90, _l("Latitude must be between -90 and 90."))])
    lon = NumberField(_l("Longitude"), validators=[
        Optional(), _between(-180, 180, _l("Longitude must be between -180 and 180."))])
    accuracy = NumberField(_l("Accuracy (m)"), validators=[
        Optional(), _between(0, MAX_ACCURACY_M, _l("Accuracy must be between 0 and 10,000 metres."))])
    photo = FileField(_l("Photo"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not (self.text.data or "").strip():
            self.text.errors.append(_l("Give the reason for returning the task.") if self.outcome.data == RETURNED
                                    else _l("Write what you found or did."))
            ok = False
        if ok and self.accuracy.data is not None and self.lat.data is None:
            self.lat.errors.append(_l("The position is incomplete: latitude and longitude are both needed."))
            ok = False
        return ok and not _position_errors(self)


class ReasonForm(FlaskForm):
    """The command room sends a task back: the reason is required."""

    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(message=_l("Say why the task is sent back.")), Length(max=500)])


class ActionForm(FlaskForm):
    """A button that changes a task (accept, confirm): only the CSRF token."""


class FilterForm(FlaskForm):
    """The command list's filters (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), choices=[], validators=[Optional()], validate_choice=False)
    overdue = BooleanField(_l("Overdue only"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [("", _l("All"))] + status_choices()
        if self.status.data not in dict(self.status.choices):
            self.status.data = ""
