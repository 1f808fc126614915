"""Tests for domain.idcard: GB 11643 numbers, permits, passports, masking."""

import csv
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.idcard import (
    DOC_TYPES,
    ERROR_CODES,
    IdInfo,
    InvalidIdNumber,
    check_char,
    mask,
    normalise,
    parse,
)

# Reference data lives beside the repository, never copied into it.
DATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data"
TODAY = date(2026, 11, 29)
CHINA_TZ = timezone(timedelta(hours=8))


def make_id(region="140581", born=date(1985, 3, 17), sequence="123", prefix=None):
    """Build a valid 18-character number with a correct check character."""
    first17 = (prefix or region) + born.strftime("%Y%m%d") + sequence
    return first17 + check_char(first17)


def _reference_rows():
    """Return one pytest param per row of the reference CSV, or one skipped param."""
    path = DATA_DIR / "id_numbers.csv"
    if not path.is_file():
        reason = f"reference data {path} is absent (shared/data is laid beside the repo)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-data")]
    with path.open(encoding="utf-8", newline="") as f:
        return [pytest.param(row, id=row["input"]) for row in csv.DictReader(f)]


def expect_code(code, s, doc_type="resident"):
    """Assert that parse() refuses ``s`` with the given error code."""
    with pytest.raises(InvalidIdNumber) as excinfo:
        parse(s, doc_type, today=TODAY)
    assert excinfo.value.code == code
    assert code in ERROR_CODES


# --- the shared reference file -------------------------------------------


@pytest.mark.parametrize("row", _reference_rows())
def test_reference_numbers(row):
    """Does every row of shared/data/id_numbers.csv validate as the file says?"""
    if row["valid"] == "yes":
        info = parse(row["input"], today=TODAY)
        assert info.number == row["input"].upper()
        assert info.birth_date == date.fromisoformat(row["birth_date"])
        assert info.sex == row["sex"]
    else:
        with pytest.raises(InvalidIdNumber):
            parse(row["input"], today=TODAY)


# --- check character --------------------------------------------------------


@pytest.mark.parametrize(
    ("first17", "expected"),
    [
        ("11010519491231002", "X"),  # GB 11643-1999 Annex example
        ("44052418800101001", "4"),  # GB 11643-1999 Annex example
        ("14058119850317123", "5"),
        ("14058120160229004", "X"),
    ],
)
def test_check_char_matches_standard_examples(first17, expected):
    """Is the MOD 11-2 check character the one the standard prints?"""
    assert check_char(first17) == expected


@pytest.mark.parametrize(("bad", "code"), [("1234", "length"), ("1101051949123100A", "characters")])
def test_check_char_refuses_malformed_input(bad, code):
    """Does check_char refuse anything but 17 ASCII digits?"""
    with pytest.raises(InvalidIdNumber) as excinfo:
        check_char(bad)
    assert excinfo.value.code == code


def test_check_char_refuses_non_ascii_digits():
    """Arabic-Indic digits are digits to Python but not to the standard."""
    with pytest.raises(InvalidIdNumber):
        check_char("١" * 17)


# --- normalisation -------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "11010519491231002X",
        "11010519491231002x",
        "  11010519491231002X\n",
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width, Chinese input mode
        "１１０１０５１９４９１２３１００２ｘ",
        "110105 19491231 002X",
        "\u3000110105\u300019491231002x",  # ideographic spaces
    ],
)
def test_normalise_gives_canonical_form(typed):
    """Do the ways officers type a number all normalise to the same one?"""
    assert normalise(typed) == "11010519491231002X"
    assert parse(typed, today=TODAY).number == "11010519491231002X"


# --- resident numbers: error codes --------------------------------------------


@pytest.mark.parametrize("s", ["", "1405811985031712", "1405811985031712355", "X"])
def test_wrong_length(s):
    """Is a number that is not 18 characters refused as 'length'?"""
    expect_code("length", s)


@pytest.mark.parametrize(
    "s",
    ["14058119850317123A", "X40581198503171235", "1405811985031712-5", "١٤٠٥٨١١٩٨٥٠٣١٧١٢٣٥"],
)
def test_wrong_characters(s):
    """Is a letter other than a final X (or a non-ASCII digit) refused?"""
    expect_code("characters", s)


def test_wrong_check_character():
    """Is a single mistyped digit caught by the check character?"""
    expect_code("check", "140581198503171234")


@pytest.mark.parametrize(
    "born",
    ["19850230", "19851301", "19850000", "20150229", "18491231", "20261130", "30000101"],
)
def test_impossible_birth_dates(born):
    """Are nonexistent, pre-1850 and future birth dates refused as 'birth_date'?"""
    first17 = "140581" + born + "123"
    expect_code("birth_date", first17 + check_char(first17))


def test_birth_date_boundaries():
    """Are 1850-01-01 and today accepted, tomorrow refused?"""
    assert parse(make_id(born=date(1850, 1, 1)), today=TODAY).birth_date == date(1850, 1, 1)
    assert parse(make_id(born=TODAY), today=TODAY).birth_date == TODAY
    expect_code("birth_date", make_id(born=TODAY + timedelta(days=1)))


def test_default_today_is_china_date():
    """Without a pinned date, a number born today in China is accepted."""
    china_today = datetime.now(CHINA_TZ).date()
    assert parse(make_id(born=china_today)).birth_date == china_today


def test_retired_region_code_is_accepted():
    """Region codes are advisory: a made-up region still validates."""
    assert parse(make_id(region="999999"), today=TODAY).number.startswith("999999")


@pytest.mark.parametrize(
    ("sequence", "sex"), [("001", "male"), ("002", "female"), ("990", "female")]
)
def test_sex_from_sequence_parity(sequence, sex):
    """Is the sex read from the parity of the 17th character?"""
    assert parse(make_id(sequence=sequence), today=TODAY).sex == sex


def test_result_is_an_idinfo():
    """Is the result a plain IdInfo value that compares by fields?"""
    info = parse("11010519491231002X", today=TODAY)
    assert info == IdInfo("11010519491231002X", date(1949, 12, 31), "female")


def test_unknown_doc_type_is_a_programming_error():
    """An unknown doc type raises ValueError, not a user-facing code."""
    with pytest.raises(ValueError) as excinfo:
        parse("11010519491231002X", "driving_licence")
    assert not isinstance(excinfo.value, InvalidIdNumber)


# --- other documents -----------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_hmt_permit_accepted(prefix):
    """Are Hong Kong, Macao and Taiwan residence permits read like resident IDs?"""
    number = make_id(prefix=prefix, born=date(1990, 1, 1), sequence="011")
    info = parse(number, "hmt_permit", today=TODAY)
    assert info == IdInfo(number, date(1990, 1, 1), "male")


def test_hmt_permit_needs_its_prefix():
    """Is a mainland number refused as an HMT permit with 'prefix'?"""
    expect_code("prefix", "11010519491231002X", "hmt_permit")


def test_hmt_permit_has_a_check_character():
    """Is a permit with a wrong check character refused as 'check'?"""
    number = make_id(prefix="810000")
    wrong = number[:17] + ("1" if number[17] != "1" else "2")
    expect_code("check", wrong, "hmt_permit")


def test_foreign_permanent_accepted():
    """Is a foreigner's permanent residence card read, birth date included?"""
    number = make_id(prefix="911840", born=date(1978, 6, 30), sequence="002")
    info = parse(number, "foreign_permanent", today=TODAY)
    assert info == IdInfo(number, date(1978, 6, 30), "female")


def test_foreign_permanent_needs_leading_nine():
    """Is a number not starting with 9 refused as 'prefix'?"""
    expect_code("prefix", "11010519491231002X", "foreign_permanent")


def test_foreign_permanent_checks_birth_date():
    """Is an impossible birth date in a permanent residence card refused?"""
    first17 = "911840" + "19781301" + "002"
    expect_code("birth_date", first17 + check_char(first17), "foreign_permanent")


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("e12345678", "E12345678"),
        ("G1234", "G1234"),
        ("Ｋ１２３４５６７", "K1234567"),
        ("A" * 20, "A" * 20),
    ],
)
def test_passport_accepted(typed, number):
    """Are passport numbers upper-cased and carry no birth date or sex?"""
    assert parse(typed, "passport") == IdInfo(number, None, None)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("G123", "length"),
        ("A" * 21, "length"),
        ("E1234-567", "characters"),
        ("Eé12345", "characters"),
        ("ßßßßß", "characters"),  # would become "SSSSSSSSSS" if upper-cased first
    ],
)
def test_passport_refused(typed, code):
    """Are short, long and non-ASCII passport numbers refused?"""
    expect_code(code, typed, "passport")


# --- masking ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("11010519491231002X", "110105********002X"),
        ("140581198503171235", "140581********1235"),
        ("E12345678", "E12**5678"),
        ("12345678", "123*5678"),
        ("1234567", "*******"),
        ("", ""),
        (None, ""),  # an optional field left empty, as templates pass it
    ],
)
def test_mask(number, masked):
    """Does an ID keep only region + last 4, and a passport only its first 3 and last 4?"""
    assert mask(number) == masked


# --- properties ------------------------------------------------------------------------

valid_numbers = st.builds(
    make_id,
    region=st.from_regex(r"[0-9]{6}", fullmatch=True),
    born=st.dates(min_value=date(1850, 1, 1), max_value=TODAY),
    sequence=st.from_regex(r"[0-9]{3}", fullmatch=True),
)


@settings(max_examples=200, deadline=None)
@given(text=st.text(), doc_type=st.sampled_from(DOC_TYPES))
def test_parse_raises_only_invalid_id_number(text, doc_type):
    """On arbitrary text, parse() either succeeds or raises InvalidIdNumber."""
    try:
        info = parse(text, doc_type, today=TODAY)
    except InvalidIdNumber as error:
        assert error.code in ERROR_CODES
    else:
        assert info.number == normalise(info.number).upper()


@settings(max_examples=200, deadline=None)
@given(number=valid_numbers)
def test_valid_numbers_round_trip(number):
    """Does every well-formed number parse back to itself, its date and sex?"""
    info = parse(number, today=TODAY)
    assert info.number == number
    assert info.birth_date.strftime("%Y%m%d") == number[6:14]
    assert info.sex == ("male" if int(number[16]) % 2 else "female")
    assert parse(number.lower(), today=TODAY) == info


@settings(max_examples=200, deadline=None)
@given(number=valid_numbers, position=st.integers(0, 17), data=st.data())
def test_any_single_substitution_is_caught(number, position, data):
    """MOD 11-2 detects every single-character error: none slips through."""
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    typo = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(InvalidIdNumber):
        parse(typo, today=TODAY)
