"""The analysis period (a GET form: no CSRF token, bookmarkable)."""
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import Optional

MAX_DAYS = 366
DEFAULT_DAYS = 7


class AnalysisForm(FlaskForm):
    """From and until (local days); empty means the last 7 days up to today."""

    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("Until"), validators=[Optional()])

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not ok:
            return False
        self.end.data = self.end.data or self.today
        self.start.data = self.start.data or self.end.data - timedelta(days=DEFAULT_DAYS - 1)
        if self.end.data < self.start.data:
            self.end.errors.append(_l("The end date is before the start date."))
            return False
        if (self.end.data - self.start.data).days >= MAX_DAYS:
            self.end.errors.append(_l("Choose at most one year."))
            return False
        return True
