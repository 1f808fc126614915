"""Forms of patrol: the check-in (online and offline, one class) and the patrol point."""
import math
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, FloatField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from blueprints.patrol import qr
from blueprints.sync.records import FieldRecordMixin
from domain.geo import valid_position

# Beyond 10 km a "fix" does not even say which town (an IP-based guess); the officer checks in
# without a position instead, and the check-in is flagged as manual.
MAX_ACCURACY_M = 10_000


class LooseFloatField(FloatField):
    """A float field that keeps a bad value's error for the validators to phrase."""

    def process_formdata(self, valuelist):
        if valuelist and str(valuelist[0]).strip() != "":
            try:
                self.data = float(str(valuelist[0]).strip())
            except ValueError:
                self.data = None
                raise ValueError(_l("Enter a number.")) from None
        else:
            self.data = None


def _finite_between(low: float, high: float, message):
    def check(form, field):
        if field.data is not None and not (math.isfinite(field.data) and low <= field.data <= high):
            raise ValidationError(message)
    return check


class CheckInForm(FieldRecordMixin, FlaskForm):
    """A patrol check-in. The method (gps, qr, manual) is derived by the service, never sent.

    Validates without a request (the sync path passes formdata and no files): the photo is stored
    by the view (online) or arrives separately as an attachment (offline).
    """

    lat = LooseFloatField(_l("Latitude"), validators=[
        Optional(), _finite_between(-90, 90, _l("Latitude must be between -90 and 90."))])
    lon = LooseFloatField(_l("Longitude"), validators=[
        Optional(), _finite_between(-180, 180, _l("Longitude must be between -180 and 180."))])
    accuracy = LooseFloatField(_l("Accuracy (m)"), validators=[
        Optional(), _finite_between(0.1, MAX_ACCURACY_M,
                                    _l("Accuracy must be between 0 and 10,000 metres."))])
    point_id = IntegerField(_l("Patrol point"), validators=[
        Optional(), NumberRange(min=1, message=_l("Choose a patrol point from the list."))])
    qr_token = StringField(_l("Code under the QR"), validators=[Optional(), Length(max=300)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])
    photo = FileField(_l("Photo"))

    def validate_qr_token(self, field):
        if field.data:
            canonical = qr.normalize(field.data)
            if canonical is None:
                raise ValidationError(_l("This is not a patrol point code. Scan the QR again or type the "
                                         "code printed under it."))
            field.data = canonical

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not ok:
            return False
        has_lat, has_lon = self.lat.data is not None, self.lon.data is not None
        if has_lat != has_lon or (self.accuracy.data is not None and not has_lat):
            self.lat.errors.append(_l("The position is incomplete: latitude and longitude are both needed."))
            return False
        if has_lat and not valid_position(self.lat.data, self.lon.data):
            self.lat.errors.append(_l("This is not a usable position."))
            return False
        if not has_lat and not self.qr_token.data and not self.point_id.data:
            self.point_id.errors.append(_l("Without a position, choose the point or enter its code."))
            return False
        return True

    @property
    def position(self) -> tuple[float, float] | None:
        return (self.lat.data, self.lon.data) if self.lat.data is not None else None


class PatrolPointForm(FlaskForm):
    """A patrol point: where, how close counts, how often, and when."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    grid_id = SelectField(_l("Grid"), coerce=int, choices=[], validators=[DataRequired()])
    lat = LooseFloatField(_l("Latitude"), validators=[
        InputRequired(message=_l("Enter the latitude or pick the place on the map.")),
        _finite_between(-90, 90, _l("Latitude must be between -90 and 90."))])
    lon = LooseFloatField(_l("Longitude"), validators=[
        InputRequired(message=_l("Enter the longitude or pick the place on the map.")),
        _finite_between(-180, 180, _l("Longitude must be between -180 and 180."))])
    radius_m = IntegerField(_l("Radius (m)"), default=50, validators=[
        InputRequired(), NumberRange(min=10, max=1000, message=_l("Between 10 and 1,000 metres."))])
    required_per_day = IntegerField(_l("Check-ins required per day"), default=1, validators=[
        InputRequired(), NumberRange(min=0, max=24, message=_l("Between 0 and 24."))])
    window_start = TimeField(_l("Window from"), validators=[Optional()])
    window_end = TimeField(_l("Window until"), validators=[Optional()])
    active = BooleanField(_l("Active"), default=True)

    def __init__(self, *args, grid_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.grid_id.choices = list(grid_choices)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and (self.window_start.data is None) != (self.window_end.data is None):
            self.window_end.errors.append(_l("Give both ends of the window, or neither."))
            return False
        if ok and self.window_start.data is not None and self.window_start.data == self.window_end.data:
            self.window_end.errors.append(_l("The window must not be empty."))
            return False
        if ok and not valid_position(self.lat.data, self.lon.data):
            self.lat.errors.append(_l("This is not a usable position."))
            return False
        return ok


def _grid_or_none(value):
    return int(value) if value not in (None, "", "None") else None


class ReportForm(FlaskForm):
    """The compliance report's date range and grid (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("Until"), validators=[Optional()])
    grid_id = SelectField(_l("Grid"), coerce=_grid_or_none, choices=[], validators=[Optional()])

    def __init__(self, *args, grid_choices=(), today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.grid_id.choices = [(None, _l("All grids"))] + list(grid_choices)
        self.today = today

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        self.end.data = self.end.data or self.today
        self.start.data = self.start.data or self.end.data - timedelta(days=6)
        if self.end.data < self.start.data:
            self.end.errors.append(_l("The end date is before the start date."))
            return False
        if (self.end.data - self.start.data).days >= 366:
            self.end.errors.append(_l("Choose at most one year."))
            return False
        return ok
