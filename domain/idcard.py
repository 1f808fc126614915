"""Identity document numbers: GB 11643-1999 resident IDs and their relatives.

A resident identity number has 18 characters: a 6-digit region code, an
8-digit birth date (YYYYMMDD), a 3-digit sequence whose last digit is odd for
men and even for women, and an ISO 7064 MOD 11-2 check character.

Region codes are deliberately *not* validated: codes are retired and renamed
over the decades, and an ID issued under a retired code stays valid for life
(the standard's own example 440524188001010014 uses one). This is also why we
hand-write the check instead of using python-stdnum, which rejects it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

__all__ = [
    "DOC_TYPES",
    "ERROR_CODES",
    "IdInfo",
    "InvalidIdNumber",
    "check_char",
    "mask",
    "normalise",
    "parse",
]

# Document types the app offers; the labels are translated by the app.
DOC_TYPES = ("resident", "hmt_permit", "foreign_permanent", "passport")

# Error codes carried by InvalidIdNumber, in the order parse() checks them.
ERROR_CODES = ("length", "characters", "prefix", "check", "birth_date")

# ISO 7064 MOD 11-2: the weight of position i (0-based, from the left) is
# 2**(17-i) mod 11, and the remainder of the weighted sum indexes this string.
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARS = "10X98765432"

# 港澳台居民居住证 numbers start with 81 (Hong Kong), 82 (Macao) or 83
# (Taiwan) in place of a mainland province code.
_HMT_PREFIXES = ("81", "82", "83")

# 外国人永久居留身份证 (2023 layout, 18 characters) always starts with 9.
_FOREIGN_PERMANENT_PREFIX = "9"

# The oldest living people were born in the 1900s; 1850 leaves room for
# historical records (the standard's own example is from 1880) while still
# catching a mistyped century such as 1085.
_EARLIEST_BIRTH = date(1850, 1, 1)

# China has one time zone and no daylight saving: a fixed offset gives the
# local date without needing the tz database, so a baby born just after
# midnight in Beijing is not "born in the future" on a UTC server.
_CHINA_TZ = timezone(timedelta(hours=8))

_PASSPORT_MIN, _PASSPORT_MAX = 5, 20

_DIGITS17 = re.compile(r"[0-9]{17}")
_ID18 = re.compile(r"[0-9]{17}[0-9X]")
_PASSPORT = re.compile(r"[0-9A-Za-z]+")

# Full-width ASCII (U+FF01..U+FF5E) maps to ASCII by a fixed offset; phone
# keyboards in Chinese input mode produce these for digits and letters.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


class InvalidIdNumber(ValueError):
    """An identity number failed validation; ``code`` says why.

    The code is one of ``ERROR_CODES`` and is translated by the app.
    """

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class IdInfo:
    """A validated identity number and what it tells about its holder."""

    number: str
    birth_date: date | None
    sex: str | None  # 'male', 'female' or None when the document says nothing


def normalise(s: str) -> str:
    """Return ``s`` as an officer meant it: no whitespace, ASCII, upper-case X.

    Full-width digits and letters (typed in Chinese input mode) become ASCII,
    and a lower-case check character ``x`` becomes ``X``. Whitespace is
    removed everywhere, not only at the ends, because numbers are often
    written in groups ("110105 19491231 002X").
    """
    s = s.translate(_FULL_WIDTH)
    s = "".join(s.split())
    return s.replace("x", "X")


def check_char(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character for 17 ASCII digits.

    Raises InvalidIdNumber('length') or ('characters') when ``first17`` is
    not exactly 17 ASCII digits.
    """
    if len(first17) != 17:
        raise InvalidIdNumber("length")
    if not _DIGITS17.fullmatch(first17):
        raise InvalidIdNumber("characters")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS))
    return _CHECK_CHARS[total % 11]


def parse(s: str, doc_type: str = "resident", *, today: date | None = None) -> IdInfo:
    """Validate and normalise a document number of ``doc_type``.

    Returns an IdInfo; raises InvalidIdNumber with one of the codes
    'length', 'characters', 'prefix' (an 18-character permit that does not
    start as its type requires), 'check' or 'birth_date'. ``today`` defaults
    to the current date in China and exists so tests can pin it. An unknown
    ``doc_type`` is a programming error and raises a plain ValueError.
    """
    if doc_type not in DOC_TYPES:
        raise ValueError(f"unknown document type {doc_type!r}")
    number = normalise(s)
    if doc_type == "passport":
        return _parse_passport(number)

    if len(number) != 18:
        raise InvalidIdNumber("length")
    if not _ID18.fullmatch(number):
        raise InvalidIdNumber("characters")
    if doc_type == "hmt_permit" and not number.startswith(_HMT_PREFIXES):
        raise InvalidIdNumber("prefix")
    if doc_type == "foreign_permanent" and not number.startswith(_FOREIGN_PERMANENT_PREFIX):
        raise InvalidIdNumber("prefix")
    if check_char(number[:17]) != number[17]:
        raise InvalidIdNumber("check")

    birth_date = _birth_date(number[6:14], today or datetime.now(_CHINA_TZ).date())
    # The last digit of the sequence code (17th character) encodes sex; all
    # three 18-character layouts follow GB 11643 here.
    sex = "male" if int(number[16]) % 2 else "female"
    return IdInfo(number=number, birth_date=birth_date, sex=sex)


def mask(number: str | None) -> str:
    """Hide the middle of a document number for display, exports and logs.

    An 18-character number keeps its region code and last 4 (``140581********1235``): the region
    says no more than the address does, while the birth date and sequence stay hidden. Other
    numbers of 8 or more characters (passports) show the first 3 and last 4; a shorter one would
    be mostly revealed by that, so it becomes all stars. The length is kept. None (no number on
    file) gives an empty string, so templates can filter optional fields.
    """
    if number is None:
        return ""
    if len(number) == 18:
        return number[:6] + "*" * 8 + number[-4:]
    if len(number) < 8:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def _parse_passport(number: str) -> IdInfo:
    """Validate a passport number: 5-20 letters or digits, no check digit."""
    if not _PASSPORT_MIN <= len(number) <= _PASSPORT_MAX:
        raise InvalidIdNumber("length")
    if not _PASSPORT.fullmatch(number):
        raise InvalidIdNumber("characters")
    # Upper-case only after the ASCII check: 'ß'.upper() is 'SS'.
    # Passports of different countries share no layout: nothing to read.
    return IdInfo(number=number.upper(), birth_date=None, sex=None)


def _birth_date(yyyymmdd: str, today: date) -> date:
    """Return the birth date encoded in an ID, or raise 'birth_date'."""
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        raise InvalidIdNumber("birth_date") from None
    if not _EARLIEST_BIRTH <= born <= today:
        raise InvalidIdNumber("birth_date")
    return born
