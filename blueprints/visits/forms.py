"""Forms of visits: the visit itself (a field form, online and offline alike) and the coverage filter.

The synced item is one flat dict, so the subject travels as `subject_type` + `subject_id`; a place
created on the spot travels as `subject_type=place` without an id and with `place_*` fields. Rules
that need the database (the subject exists, is of this station and of the officer's grids) live in
the service, which answers them as field errors too.
"""
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from blueprints.home.services import LOCAL_TZ
from blueprints.sync.records import FieldRecordMixin
from domain.geo import valid_position
from models import utcnow
from models.visits import OUTCOMES, PLACE_TYPES, PURPOSES, SUBJECT_TYPES
from fields import NumberField

MAX_ID = 2**31 - 1  # beyond PostgreSQL's integer an id is as good as missing: refuse it in the form
MAX_ACCURACY_M = 10_000  # rougher than 10 km is an IP-based guess, not a position
# A phone's clock may run a little ahead of the server's; more than this is a wrong clock.
CLOCK_SKEW = timedelta(minutes=2)


def purpose_choices():
    labels = {"routine": _l("Routine visit"), "follow_up": _l("Follow-up"), "mediation": _l("Mediation (调解)"),
              "safety_advice": _l("Safety advice"), "anti_fraud": _l("Anti-fraud publicity (反诈宣传)"),
              "focus_check": _l("Focus-person check"), "elderly_care": _l("Elderly care"), "other": _l("Other")}
    return [(p, labels[p]) for p in PURPOSES]


def outcome_choices():
    labels = {"met": _l("Met"), "no_one_home": _l("No one home"), "refused": _l("Refused")}
    return [(o, labels[o]) for o in OUTCOMES]


def subject_type_choices():
    labels = {"resident": _l("Resident"), "household": _l("Rental household"), "place": _l("Place")}
    return [(s, labels[s]) for s in SUBJECT_TYPES]


def place_type_choices():
    labels = {"shop": _l("Shop"), "restaurant": _l("Restaurant"), "market": _l("Market"), "hotel": _l("Hotel"),
              "internet_cafe": _l("Internet café"), "school": _l("School"), "enterprise": _l("Enterprise"),
              "other": _l("Other")}
    return [(t, labels[t]) for t in PLACE_TYPES]



def _between(low: float, high: float, message):
    def check(form, field):
        if field.data is not None and not low <= field.data <= high:
            raise ValidationError(message)
    return check


def local_day(moment):
    """The Asia/Shanghai calendar day of an aware time."""
    return moment.astimezone(LOCAL_TZ).date()


class VisitForm(FieldRecordMixin, FlaskForm):
    """A visit to a resident, a rental household or a place. Validates from a flat dict, no request."""

    subject_type = SelectField(_l("Visited"), choices=subject_type_choices(), default="resident")
    subject_id = IntegerField(_l("Who or what"), validators=[
        Optional(), NumberRange(min=1, max=MAX_ID, message=_l("Choose who or what you visited from the list."))])
    place_name = StringField(_l("Name of the place"), validators=[Optional(), Length(max=80)])
    place_type = SelectField(_l("Type of place"), choices=place_type_choices(), default="shop")
    place_address = StringField(_l("Address of the place"), validators=[Optional(), Length(max=120)])
    place_contact = StringField(_l("Contact"), validators=[Optional(), Length(max=60)])
    purpose = SelectField(_l("Purpose"), choices=purpose_choices(), default="routine")
    outcome = RadioField(_l("Outcome"), choices=outcome_choices(), default="met",
                         validators=[DataRequired(message=_l("Choose the outcome."))])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=1000)])
    follow_up = BooleanField(_l("Needs a follow-up visit"))
    follow_up_due = DateField(_l("Follow up by"), validators=[Optional()])
    follow_up_id = IntegerField("Follow Up Id", validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    lat = NumberField(_l("Latitude"), validators=[Optional(), _between(-90, 90, _l("Latitude must be between -90 and 90."))])
    lon = NumberField(_l("Longitude"), validators=[
        Optional(), _between(-180, 180, _l("Longitude must be between -180 and 180."))])
    accuracy = NumberField(_l("Accuracy (m)"), validators=[
        Optional(), _between(0, MAX_ACCURACY_M, _l("Accuracy must be between 0 and 10,000 metres."))])
    photo = FileField(_l("Photo"))

    def validate_recorded_at(self, field):
        # The mixin's validator has turned the text into an aware datetime (or failed already).
        if hasattr(field.data, "tzinfo") and field.data > utcnow() + CLOCK_SKEW:
            raise ValidationError(_l("This visit is dated in the future: check the date and time of the phone."))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.subject_id.data is None and not self.subject_id.errors:
            if self.subject_type.data == "place":
                if not (self.place_name.data or "").strip():
                    self.place_name.errors.append(_l("Choose the place from the list, or enter the name of a new one."))
                    ok = False
            else:
                self.subject_id.errors.append(_l("Choose who or what you visited from the list."))
                ok = False
        if self.follow_up.data:
            ok = self._check_follow_up_due() and ok
        if (self.lat.data is None) != (self.lon.data is None) or (
                self.accuracy.data is not None and self.lat.data is None):
            self.lat.errors.append(_l("The position is incomplete: latitude and longitude are both needed."))
            ok = False
        elif self.lat.data is not None and not valid_position(self.lat.data, self.lon.data):
            self.lat.errors.append(_l("This is not a usable position."))
            ok = False
        return ok

    def _check_follow_up_due(self) -> bool:
        due = self.follow_up_due.data
        if due is None:
            if not self.follow_up_due.errors:
                self.follow_up_due.errors.append(_l("Give the date of the follow-up visit."))
            return False
        # "In the past" as the officer saw it: the day the visit was recorded (a synced visit may be old).
        recorded = self.recorded_at.data
        if self.recorded_at.errors or not hasattr(recorded, "tzinfo"):
            recorded = utcnow()  # a refused time (far future, unreadable) says nothing about "today"
        if due < local_day(recorded):
            self.follow_up_due.errors.append(_l("The follow-up date is in the past."))
            return False
        return True

    @property
    def position(self) -> tuple[float, float] | None:
        return (self.lat.data, self.lon.data) if self.lat.data is not None else None


class CoverageExportForm(FlaskForm):
    """The export button: only the CSRF token (an export is a POST, and audited)."""
