"""Form fields shared by the field forms of several features."""
import math

from flask_babel import lazy_gettext as _l
from wtforms import FloatField


class NumberField(FloatField):
    """A float field whose bad value gets a plain message; NaN and infinity count as bad.

    A synced item arrives as text from a phone ("abc", "NaN", "1e999"): each gets "Enter a number."
    beside the field instead of WTForms' generic message or a value that breaks arithmetic later.
    """

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and str(valuelist[0]).strip() != "":
            try:
                value = float(str(valuelist[0]).strip())
            except ValueError:
                raise ValueError(_l("Enter a number.")) from None
            if not math.isfinite(value):
                raise ValueError(_l("Enter a number."))
            self.data = value
