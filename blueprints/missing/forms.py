"""Forms of missing persons: the report and the sighting (field forms, offline-safe), found, cancel and
the vulnerable-person profile. Each validates from a flat dict, so /api/sync uses the same rules."""
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from blueprints.home.services import LOCAL_TZ
from blueprints.sync.records import FieldRecordMixin
from domain.geo import valid_position
from domain.phone import InvalidPhone, normalise_phone
from models.missing import CONDITIONS
from fields import NumberField

MAX_ID = 2**31 - 1
# A phone's clock may run a little fast: a last-seen time up to 5 minutes "ahead" is still now.
CLOCK_SKEW = timedelta(minutes=5)


def risk_choices():
    return [("dementia", _l("Dementia")), ("child", _l("Child")), ("mental_illness", _l("Mental illness")),
            ("other", _l("Other"))]


def sex_choices():
    return [("unknown", _l("Unknown")), ("male", _l("male")), ("female", _l("female"))]


def condition_choices():
    labels = {"well": _l("Well, unharmed"), "injured": _l("Injured"), "hospital": _l("Taken to hospital"),
              "deceased": _l("Deceased")}
    return [(c, labels[c]) for c in CONDITIONS]


class LocalTimeField(DateTimeLocalField):
    """A time the form speaks in Beijing time (datetime-local), or ISO 8601 with an offset (API).

    Its data is an aware UTC datetime; a time that cannot be stored (year 1 in Beijing is year 0 in
    UTC) is refused like any other bad value.
    """

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], **kwargs)

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not str(valuelist[0]).strip():
            return
        text = str(valuelist[0]).strip().upper().replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
            moment = moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)
            self.data = moment.astimezone(timezone.utc)
        except (ValueError, OverflowError):
            raise ValueError(_l("Not a valid time: use the date and time picker.")) from None
        if self.data.year < 2000:
            self.data = None
            raise ValueError(_l("Not a valid time: use the date and time picker."))

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        if isinstance(self.data, datetime):
            value = self.data.astimezone(LOCAL_TZ) if self.data.tzinfo else self.data
            return value.strftime("%Y-%m-%dT%H:%M")
        return ""



def _not_in_future(form, field):
    if field.data is not None and field.data > datetime.now(timezone.utc) + CLOCK_SKEW:
        raise ValidationError(_l("This time is in the future."))


def _phone(form, field):
    text = (field.data or "").strip()
    if not text:
        field.data = None
        return
    try:
        field.data = normalise_phone(text)
    except InvalidPhone:
        raise ValidationError(_l("Not a valid phone number.")) from None


def _id_or_none(value):
    """A select's value as an id; blank is none, anything else not a number is refused later."""
    if value in (None, "", "None"):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return -1
    return number if 0 < number <= MAX_ID else -1


class PositionMixin:
    """An optional WGS-84 position: both coordinates or none; the message sits beside the latitude."""

    lat = NumberField(_l("Latitude"), validators=[Optional()])
    lon = NumberField(_l("Longitude"), validators=[Optional()])

    def position_ok(self) -> bool:
        has_lat, has_lon = self.lat.data is not None, self.lon.data is not None
        if has_lat != has_lon:
            self.lat.errors = [*self.lat.errors, _l("The position is incomplete: latitude and longitude are both needed.")]
            return False
        if has_lat and not valid_position(self.lat.data, self.lon.data):
            self.lat.errors = [*self.lat.errors, _l("This is not a usable position.")]
            return False
        return True


class MissingReportForm(FieldRecordMixin, PositionMixin, FlaskForm):
    """A missing-person report, from a phone, online or queued offline (kind missing_report)."""

    resident_id = SelectField(_l("Person"), coerce=_id_or_none, choices=[], validate_choice=False)
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Give the person's name.")), Length(max=40)])
    sex = SelectField(_l("Sex"), choices=sex_choices, default="unknown")
    age = IntegerField(_l("Age"), validators=[Optional(), NumberRange(min=0, max=120, message=_l("Age between 0 and 120."))])
    height_cm = IntegerField(_l("Height (cm)"), validators=[
        Optional(), NumberRange(min=40, max=230, message=_l("Height between 40 and 230 cm."))])
    clothing = StringField(_l("Clothing"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=1000)])
    risk = SelectField(_l("Risk"), choices=risk_choices, validators=[DataRequired()])
    last_seen_at = LocalTimeField(_l("Last seen (time)"), validators=[
        InputRequired(message=_l("When was the person last seen?")), _not_in_future])
    last_seen_place = StringField(_l("Last seen (place)"), validators=[
        DataRequired(message=_l("Where was the person last seen?")), Length(max=160)])
    circumstances = TextAreaField(_l("Circumstances"), validators=[Optional(), Length(max=2000)])
    reporter_name = StringField(_l("Reporter's name"), validators=[Optional(), Length(max=40)])
    reporter_phone = StringField(_l("Reporter's phone"), validators=[Optional(), Length(max=30), _phone])
    photo = FileField(_l("Photo"))

    def __init__(self, *args, profiles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.resident_id.choices = [(None, _l("A new person (not on file)"))] + [
            (p.resident_id, p.resident.name) for p in profiles]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.resident_id.data == -1:
            self.resident_id.errors = [*self.resident_id.errors, _l("This person is not on file.")]
            ok = False
        return self.position_ok() and ok


class SightingForm(FieldRecordMixin, PositionMixin, FlaskForm):
    """Someone saw the person (kind sighting): when, where, a note, a photo."""

    case_id = IntegerField(_l("Case"), validators=[
        InputRequired(message=_l("Which case? The case id is missing.")),
        NumberRange(min=1, max=MAX_ID, message=_l("This case does not exist."))])
    seen_at = LocalTimeField(_l("Seen at (time)"), validators=[
        InputRequired(message=_l("When was the person seen?")), _not_in_future])
    place = StringField(_l("Place"), validators=[DataRequired(message=_l("Where was the person seen?")),
                                                 Length(max=160)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])
    photo = FileField(_l("Photo"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return self.position_ok() and ok


class FoundForm(PositionMixin, FlaskForm):
    """The person is found: by whom, where, when, in what condition. Closes the case."""

    found_at = LocalTimeField(_l("Found at (time)"), validators=[
        InputRequired(message=_l("When was the person found?")), _not_in_future])
    found_place = StringField(_l("Found at (place)"), validators=[
        DataRequired(message=_l("Where was the person found?")), Length(max=160)])
    found_by = StringField(_l("Found by"), validators=[DataRequired(message=_l("Who found the person?")),
                                                      Length(max=80)])
    condition = SelectField(_l("Condition"), choices=condition_choices, validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return self.position_ok() and ok


class CancelForm(FlaskForm):
    """Close a case as cancelled (a false alarm, the person came home): the reason is required."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("Say why the case is cancelled.")),
                                                     Length(max=500)])


class ProfileForm(FlaskForm):
    """The vulnerable-person profile of a resident."""

    risk = SelectField(_l("Risk"), choices=risk_choices, validators=[DataRequired()])
    height_cm = IntegerField(_l("Height (cm)"), validators=[
        Optional(), NumberRange(min=40, max=230, message=_l("Height between 40 and 230 cm."))])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=1000)])
    routines = TextAreaField(_l("Routines"), validators=[Optional(), Length(max=2000)])
    medical_notes = TextAreaField(_l("Medical notes"), validators=[Optional(), Length(max=2000)])
    emergency_contacts = TextAreaField(_l("Emergency contacts"), validators=[Optional(), Length(max=1000)])
    photo = FileField(_l("Photo"))


class RadiusForm(FlaskForm):
    """The command room's search radius around the last-seen place (a GET form)."""

    class Meta:
        csrf = False

    radius = IntegerField(_l("Search radius (m)"), default=2000, validators=[
        Optional(), NumberRange(min=100, max=50_000, message=_l("Between 100 m and 50 km."))])
