"""Tests for domain.checkin_rules: the flags on a patrol check-in."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.checkin_rules import (
    CLOCK_SKEW_TOLERANCE,
    FLAGS,
    FUTURE_TOLERANCE,
    IMPOSSIBLE_SPEED_KMH,
    METHODS,
    SPEED_MIN_DISTANCE_M,
    assess_check_in,
)
from domain.geo import distance_m

CHINA = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 29, 9, 30, tzinfo=CHINA)
POINT = (35.7986, 112.9237)  # Gaoping city centre, WGS-84
METRES_PER_DEGREE_LAT = 111_195.08  # on geopy's great-circle sphere
SECOND = timedelta(seconds=1)


def assess(**overrides):
    """Assess a check-in that is clean unless overridden: GPS, on the spot."""
    fields = dict(
        lat=POINT[0],
        lon=POINT[1],
        accuracy_m=15.0,
        distance_m=10.0,
        radius_m=50.0,
        method="gps",
        recorded_at=NOW,
        received_at=NOW + timedelta(seconds=2),
        online=True,
        previous=None,
    )
    fields.update(overrides)
    return assess_check_in(**fields)


def north_of_point(metres):
    """Return (lat, lon) the given distance due north of POINT."""
    return POINT[0] + metres / METRES_PER_DEGREE_LAT, POINT[1]


def test_clean_check_in_has_no_flags():
    """A GPS check-in on the spot, online, on time raises nothing."""
    assert assess() == []


# --- outside_geofence --------------------------------------------------------------


@pytest.mark.parametrize(
    ("distance", "accuracy", "flagged"),
    [
        (50.0, 0.0, False),  # on the fence itself
        (69.99, 20.0, False),
        (70.0, 20.0, False),  # radius 50 + accuracy 20
        (70.01, 20.0, True),
        (150.0, 100.0, False),  # allowance reaches its 100 m cap
        (150.0, 2000.0, False),
        (150.01, 2000.0, True),  # a 2 km cell fix does not stretch the fence
        (50.01, None, True),  # unknown accuracy earns no allowance
        (50.01, -5.0, True),
        (50.01, float("nan"), True),
    ],
)
def test_outside_geofence_boundary(distance, accuracy, flagged):
    """Is the fence radius + min(accuracy, 100 m), and only beyond it flagged?"""
    flags = assess(distance_m=distance, radius_m=50.0, accuracy_m=accuracy)
    assert ("outside_geofence" in flags) is flagged


@pytest.mark.parametrize(("distance", "radius"), [(None, 50.0), (5000.0, None), (None, None)])
def test_no_geofence_judgement_without_distance_or_radius(distance, radius):
    """Without a distance or a fence radius, no geofence flag is guessed."""
    assert "outside_geofence" not in assess(distance_m=distance, radius_m=radius)


# --- poor_accuracy -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("accuracy", "flagged"), [(5.0, False), (100.0, False), (100.01, True), (None, False)]
)
def test_poor_accuracy_boundary(accuracy, flagged):
    """Is accuracy flagged only beyond 100 m, and never when unknown?"""
    flags = assess(accuracy_m=accuracy, distance_m=None)
    assert flags == (["poor_accuracy"] if flagged else [])


# --- impossible_speed --------------------------------------------------------------


def previous_at(metres, seconds_before):
    """A previous check-in ``metres`` north of POINT, ``seconds_before`` NOW."""
    return (*north_of_point(metres), NOW - timedelta(seconds=seconds_before))


def seconds_at_limit(metres):
    """How long ``metres`` takes at exactly the impossible speed."""
    return metres / (IMPOSSIBLE_SPEED_KMH / 3.6)


@pytest.mark.parametrize(("factor", "flagged"), [(1.01, False), (0.99, True)])
def test_impossible_speed_boundary(factor, flagged):
    """Is 5 km covered a little slower than 120 km/h fine, a little faster not?"""
    previous = previous_at(5000, seconds_at_limit(5000) * factor)
    assert ("impossible_speed" in assess(previous=previous)) is flagged


def test_ordinary_patrol_pace_is_fine():
    """Walking 800 m in 10 minutes between two points raises nothing."""
    assert assess(previous=previous_at(800, 600)) == []


@pytest.mark.parametrize(
    ("metres", "flagged"), [(SPEED_MIN_DISTANCE_M - 1, False), (SPEED_MIN_DISTANCE_M + 1, True)]
)
def test_short_hops_are_ignored(metres, flagged):
    """Below 200 m, GPS jitter a second apart is not treated as speed."""
    assert distance_m(*POINT, *north_of_point(metres)) == pytest.approx(metres, abs=0.01)
    assert ("impossible_speed" in assess(previous=previous_at(metres, 1))) is flagged


def test_same_instant_is_not_speed():
    """A double submission at the same instant is not infinite speed."""
    assert "impossible_speed" not in assess(previous=previous_at(50_000, 0))


def test_previous_recorded_after_this_one():
    """Check-ins synced out of order are judged on the time between them."""
    later = (*north_of_point(5000), NOW + timedelta(seconds=60))
    assert "impossible_speed" in assess(previous=later)


@pytest.mark.parametrize(
    "overrides",
    [
        {"previous": None},
        {"lat": None, "lon": None, "previous": previous_at(50_000, 1)},
        {"previous": (0.0, 0.0, NOW - SECOND)},  # previous fix was a GPS failure
    ],
)
def test_no_speed_judgement_without_two_positions(overrides):
    """Speed needs two real positions; a missing or null fix is not judged."""
    assert "impossible_speed" not in assess(**overrides)


# --- times -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ahead", "flagged"),
    [(FUTURE_TOLERANCE, False), (FUTURE_TOLERANCE + SECOND, True), (timedelta(0), False)],
)
def test_future_time_boundary(ahead, flagged):
    """Is a device clock more than 2 minutes ahead of the server flagged?"""
    flags = assess(recorded_at=NOW + ahead, received_at=NOW, online=False)
    assert flags == (["future_time"] if flagged else [])


@pytest.mark.parametrize(
    ("offset", "flagged"),
    [
        (CLOCK_SKEW_TOLERANCE, False),
        (CLOCK_SKEW_TOLERANCE + SECOND, True),
        (-CLOCK_SKEW_TOLERANCE, False),
        (-CLOCK_SKEW_TOLERANCE - SECOND, True),
    ],
)
def test_clock_skew_boundary_online(offset, flagged):
    """Online, is a gap over 10 minutes either way flagged as clock skew?"""
    flags = assess(recorded_at=NOW - offset, received_at=NOW, online=True)
    assert ("clock_skew" in flags) is flagged


def test_offline_check_in_synced_hours_later_is_fine():
    """Offline check-ins arrive late by design: no clock_skew."""
    assert assess(recorded_at=NOW - timedelta(hours=6), received_at=NOW, online=False) == []


def test_clock_far_ahead_online_is_both_future_and_skewed():
    """A clock 11 min ahead online raises both time flags, in order."""
    flags = assess(recorded_at=NOW + timedelta(minutes=11), received_at=NOW, online=True)
    assert flags == ["future_time", "clock_skew"]


def test_time_zones_are_compared_as_instants():
    """A device in UTC+8 and a server in UTC agree on the same instant."""
    assert assess(recorded_at=NOW, received_at=NOW.astimezone(timezone.utc)) == []


# --- method ----------------------------------------------------------------------


def test_manual_method_is_flagged():
    """A manual check-in is flagged even when nothing else is known."""
    flags = assess(method="manual", lat=None, lon=None, accuracy_m=None, distance_m=None)
    assert flags == ["manual"]


def test_qr_method_is_not_flagged():
    """Scanning the point's QR code is evidence enough by itself."""
    assert assess(method="qr", accuracy_m=None) == []


# --- all together, and misuse ------------------------------------------------------


def test_flags_come_in_stable_order():
    """With everything wrong at once, are flags in the documented order?"""
    flags = assess(
        method="manual",
        accuracy_m=500.0,
        distance_m=1000.0,
        recorded_at=NOW + timedelta(hours=1),
        received_at=NOW,
        previous=(*north_of_point(50_000), NOW + timedelta(hours=1) - timedelta(minutes=1)),
    )
    assert flags == list(FLAGS)


@pytest.mark.parametrize(
    "overrides",
    [
        {"method": "photo"},
        {"recorded_at": NOW.replace(tzinfo=None)},
        {"received_at": NOW.replace(tzinfo=None)},
        {"previous": (*POINT, NOW.replace(tzinfo=None))},
    ],
)
def test_programming_errors_raise_value_error(overrides):
    """Unknown methods and naive datetimes are caller bugs: ValueError."""
    with pytest.raises(ValueError):
        assess(**overrides)


optional_floats = st.none() | st.floats(allow_nan=True, allow_infinity=True)
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(CHINA)
)


@settings(max_examples=200, deadline=None)
@given(
    lat=st.none() | st.floats(-90, 90),
    lon=st.none() | st.floats(-180, 180),
    accuracy=optional_floats,
    distance=optional_floats,
    radius=optional_floats,
    method=st.sampled_from(METHODS),
    recorded=instants,
    received=instants,
    online=st.booleans(),
    previous=st.none() | st.tuples(st.floats(-90, 90), st.floats(-180, 180), instants),
)
def test_never_raises_and_returns_known_flags_in_order(
    lat, lon, accuracy, distance, radius, method, recorded, received, online, previous
):
    """Whatever the evidence, assessment returns known flags, in order, once each."""
    flags = assess_check_in(
        lat=lat, lon=lon, accuracy_m=accuracy, distance_m=distance, radius_m=radius,
        method=method, recorded_at=recorded, received_at=received, online=online,
        previous=previous,
    )
    assert flags == [flag for flag in FLAGS if flag in flags]
    assert ("manual" in flags) == (method == "manual")
