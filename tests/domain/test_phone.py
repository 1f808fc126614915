"""Tests for domain.phone: E.164 normalisation and masking."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.phone import ERROR_CODES, InvalidPhone, mask_phone, normalise_phone


@pytest.mark.parametrize(
    "typed",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "0086 138 1234 5678",
        "008613812345678",
        "１３８１２３４５６７８",  # full-width, Chinese input mode
        " 13812345678 ",
    ],
)
def test_mobile_forms_normalise_to_e164(typed):
    """Do the usual ways of writing a Chinese mobile all give one E.164 form?"""
    assert normalise_phone(typed) == "+8613812345678"
    assert normalise_phone(typed, mobile_required=True) == "+8613812345678"


@pytest.mark.parametrize(
    ("typed", "e164"),
    [("0356-5221234", "+863565221234"), ("(0356) 522 1234", "+863565221234"),
     ("010-85221234", "+861085221234")],
)
def test_landline_accepted_when_mobile_not_required(typed, e164):
    """Is a Gaoping (0356) or Beijing landline accepted as a contact number?"""
    assert normalise_phone(typed) == e164


def test_landline_refused_when_mobile_required():
    """Is a landline refused with 'not_mobile' where an SMS must be sent?"""
    with pytest.raises(InvalidPhone) as excinfo:
        normalise_phone("0356-5221234", mobile_required=True)
    assert excinfo.value.code == "not_mobile"


def test_foreign_mobile_accepted():
    """A Hong Kong mobile written with its country code is a mobile too."""
    assert normalise_phone("+852 9123 4567", mobile_required=True) == "+85291234567"


@pytest.mark.parametrize(
    "typed",
    ["", "   ", "abc", "12345", "1381234567", "138123456789", "110", "+86", "13812345678ext"],
)
def test_invalid_numbers(typed):
    """Are fragments, short codes and wrong lengths refused with 'invalid'?"""
    with pytest.raises(InvalidPhone) as excinfo:
        normalise_phone(typed)
    assert excinfo.value.code == "invalid"


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+8613812345678", "+86 138****5678"),
        ("+863565221234", "+86 356***1234"),
        ("+85291234567", "+852 912*4567"),
        ("+86110", "+86 ***"),  # too short to show anything
        (None, ""),  # no number on file
    ],
)
def test_mask_phone(e164, masked):
    """Are the country code, first 3 and last 4 digits the only ones shown?"""
    assert mask_phone(e164) == masked


def test_mask_phone_hides_unparseable_input():
    """Something that is not a number at all is shown as stars only."""
    assert mask_phone("not a phone") == "***********"


@settings(max_examples=200, deadline=None)
@given(text=st.text(), mobile_required=st.booleans())
def test_normalise_never_crashes(text, mobile_required):
    """On arbitrary text, only InvalidPhone is raised, and results are stable."""
    try:
        e164 = normalise_phone(text, mobile_required=mobile_required)
    except InvalidPhone as error:
        assert error.code in ERROR_CODES
    else:
        assert e164.startswith("+") and e164[1:].isdigit()
        assert normalise_phone(e164, mobile_required=mobile_required) == e164


@settings(max_examples=200, deadline=None)
@given(digits=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_masked_mobile_shows_seven_digits(digits):
    """Every masked Chinese mobile hides exactly four digits."""
    try:
        e164 = normalise_phone(digits)
    except InvalidPhone:
        return  # an unallocated block; nothing to mask
    assert mask_phone(e164) == f"+86 {digits[:3]}****{digits[-4:]}"


@settings(max_examples=200, deadline=None)
@given(text=st.text())
def test_mask_phone_never_crashes(text):
    """Does masking arbitrary text always return a string?"""
    assert isinstance(mask_phone(text), str)
