"""Telephone numbers: normalised to E.164 with phonenumbers, masked for display.

phonenumbers already understands +86, 0086, a leading trunk 0, full-width
digits, spaces and dashes when parsing with region CN, so this module only
decides what counts as acceptable and how a number is shown.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

__all__ = ["ERROR_CODES", "InvalidPhone", "mask_phone", "normalise_phone"]

ERROR_CODES = ("invalid", "not_mobile")

# Numbers without a country code are read as Chinese ones.
DEFAULT_REGION = "CN"

# Some regions' numbering plans cannot tell mobiles from landlines; such a
# number may be a mobile, so it is not refused when a mobile is required.
_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


class InvalidPhone(ValueError):
    """A telephone number was refused; ``code`` is 'invalid' or 'not_mobile'."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def normalise_phone(s: str, mobile_required: bool = False) -> str:
    """Return ``s`` in E.164 form (``+8613812345678``) or raise InvalidPhone.

    Landlines such as ``0356-5221234`` are accepted unless
    ``mobile_required`` (for numbers that must receive SMS), in which case
    they raise InvalidPhone('not_mobile'). Anything that is not a valid
    number in its numbering plan raises InvalidPhone('invalid').
    """
    try:
        number = phonenumbers.parse(s, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise InvalidPhone("invalid") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("invalid")
    if mobile_required and phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise InvalidPhone("not_mobile")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def mask_phone(e164: str | None) -> str:
    """Show an E.164 number with its middle hidden: ``+86 138****5678``.

    The country code stays visible, then the first 3 and last 4 digits of
    the national number; a national number shorter than 8 digits is all
    stars, since 3 + 4 shown digits would reveal almost all of it. None
    (no number on file) gives an empty string.
    """
    if e164 is None:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        # Not something normalise_phone produced: reveal nothing.
        return "*" * len(e164)
    national = phonenumbers.national_significant_number(number)
    if len(national) < 8:
        hidden = "*" * len(national)
    else:
        hidden = national[:3] + "*" * (len(national) - 7) + national[-4:]
    return f"+{number.country_code} {hidden}"
