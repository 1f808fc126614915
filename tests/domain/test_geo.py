"""Tests for domain.geo: distances, bounding boxes, speeds and GCJ-02."""

import math
from datetime import datetime, timedelta, timezone

import pytest
from geopy.distance import great_circle
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.geo import (
    bounding_box,
    distance_m,
    gcj02_to_wgs84,
    nearest,
    precise_distance_m,
    speed_kmh,
    valid_position,
    wgs84_to_gcj02,
)

GAOPING = (35.7986, 112.9237)  # city centre, WGS-84 (shared/data/gaoping.json)
T0 = datetime(2026, 11, 29, 9, 0, tzinfo=timezone(timedelta(hours=8)))

latitudes = st.floats(-90, 90, allow_nan=False)
longitudes = st.floats(-180, 180, allow_nan=False)


# --- distances -------------------------------------------------------------------


def test_one_degree_of_latitude():
    """Do both distances give the textbook length of a degree at the equator?"""
    # Sphere of 6371.009 km: 2 * pi * R / 360.
    assert distance_m(0, 0, 1, 0) == pytest.approx(111_195.08, abs=0.01)
    # WGS-84 ellipsoid, equator to 1 deg N: 110 574.4 m.
    assert precise_distance_m(0, 0, 1, 0) == pytest.approx(110_574.4, abs=0.5)


def test_fast_and_precise_agree_within_half_a_percent():
    """Is great_circle close enough to geodesic at patrol distances?"""
    north = (GAOPING[0] + 0.01, GAOPING[1] + 0.01)
    fast, precise = distance_m(*GAOPING, *north), precise_distance_m(*GAOPING, *north)
    assert 1000 < precise < 2000
    assert fast == pytest.approx(precise, rel=0.005)


def test_distance_to_self_is_zero():
    """Is the distance from a point to itself exactly zero?"""
    assert distance_m(*GAOPING, *GAOPING) == 0
    assert precise_distance_m(*GAOPING, *GAOPING) == 0


@settings(max_examples=200, deadline=None)
@given(lat1=latitudes, lon1=longitudes, lat2=latitudes, lon2=longitudes)
def test_distance_properties(lat1, lon1, lat2, lon2):
    """Distances never raise in range, are non-negative, symmetric, bounded."""
    d = distance_m(lat1, lon1, lat2, lon2)
    assert 0 <= d <= math.pi * 6_371_009 + 1
    assert d == pytest.approx(distance_m(lat2, lon2, lat1, lon1), abs=1e-6)


@settings(max_examples=50, deadline=None)  # geodesic is ~30x slower
@given(lat1=latitudes, lon1=longitudes, lat2=latitudes, lon2=longitudes)
def test_precise_distance_properties(lat1, lon1, lat2, lon2):
    """Geodesic distances never raise in range, are non-negative and symmetric."""
    d = precise_distance_m(lat1, lon1, lat2, lon2)
    assert d >= 0
    assert d == pytest.approx(precise_distance_m(lat2, lon2, lat1, lon1), abs=1e-3)


# --- bounding boxes --------------------------------------------------------------


def test_bounding_box_around_gaoping():
    """Is a 1 km box about 2 km tall and wide, centred on the point?"""
    south, west, north, east = bounding_box(*GAOPING, 1000)
    assert distance_m(south, GAOPING[1], north, GAOPING[1]) == pytest.approx(2010, rel=0.001)
    assert distance_m(GAOPING[0], west, GAOPING[0], east) == pytest.approx(2010, rel=0.01)
    assert (south + north) / 2 == pytest.approx(GAOPING[0])
    assert (west + east) / 2 == pytest.approx(GAOPING[1])


def test_bounding_box_of_zero_radius_is_the_point():
    """Does a zero radius give a box that is exactly the point?"""
    assert bounding_box(*GAOPING, 0) == (GAOPING[0], GAOPING[1], GAOPING[0], GAOPING[1])


@pytest.mark.parametrize(
    ("lat", "lon", "radius", "expected"),
    [
        (89.999, 10.0, 1000, (89.999 - 0.00904, -180.0, 90.0, 180.0)),  # covers the pole
        (10.0, 179.999, 1000, (10.0 - 0.00904, -180.0, 10.0 + 0.00904, 180.0)),  # antimeridian
        (-10.0, -179.999, 1000, (-10.0 - 0.00904, -180.0, -10.0 + 0.00904, 180.0)),
    ],
)
def test_bounding_box_edges_widen_to_all_longitudes(lat, lon, radius, expected):
    """Near a pole or the 180th meridian, does the box keep west <= east?"""
    box = bounding_box(lat, lon, radius)
    assert box == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize(
    ("lat", "lon", "radius"),
    [(91, 0, 10), (0, 181, 10), (float("nan"), 0, 10), (*GAOPING, -1), (*GAOPING, float("nan"))],
)
def test_bounding_box_refuses_bad_input(lat, lon, radius):
    """Are out-of-range positions and negative or NaN radii refused?"""
    with pytest.raises(ValueError):
        bounding_box(lat, lon, radius)


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(-89.5, 89.5),
    lon=longitudes,
    radius=st.floats(0, 100_000),
    bearing=st.floats(0, 360),
    fraction=st.floats(0, 1),
)
def test_bounding_box_contains_the_circle(lat, lon, radius, bearing, fraction):
    """Is every point within the radius inside the box (never cut off)?"""
    assume(valid_position(lat, lon))
    south, west, north, east = bounding_box(lat, lon, radius)
    assert west <= east and south <= north
    inside = great_circle(meters=radius * fraction).destination((lat, lon), bearing)
    eps = 1e-9  # geopy's destination() itself rounds by ~1e-16 degree
    assert south - eps <= inside.latitude <= north + eps
    assert west - eps <= inside.longitude <= east + eps


# --- positions and speeds ---------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon", "ok"),
    [
        (*GAOPING, True),
        (-33.86, 151.21, True),
        (90, 180, True),
        (-90, -180, True),
        (0, 0, False),  # "Null Island": a failed fix, never a real patrol
        (0, 1e-6, True),
        (90.0001, 0, False),
        (0, -180.0001, False),
        (float("nan"), 112.9, False),
        (35.8, float("inf"), False),
        (None, 112.9, False),
        ("35.8", 112.9, False),
        (True, 112.9, False),
    ],
)
def test_valid_position(lat, lon, ok):
    """Are only real, in-range, non-null fixes accepted?"""
    assert valid_position(lat, lon) is ok


def test_speed_kmh():
    """Is 1 km in one minute 60 km/h, whichever fix comes first?"""
    north = (GAOPING[0] + 1000 / 111_195.08, GAOPING[1])
    assert distance_m(*GAOPING, *north) == pytest.approx(1000, abs=0.01)
    later = T0 + timedelta(minutes=1)
    assert speed_kmh(*GAOPING, T0, *north, later) == pytest.approx(60, abs=0.001)
    assert speed_kmh(*north, later, *GAOPING, T0) == pytest.approx(60, abs=0.001)


def test_speed_without_time_is_none():
    """Two fixes at the same instant give no speed, not a division by zero."""
    assert speed_kmh(*GAOPING, T0, 35.9, 113.0, T0) is None


# --- GCJ-02 ----------------------------------------------------------------------

# Published WGS-84 -> GCJ-02 pairs: the test vectors of eviltransform (an
# independent implementation of the same transform), to 1e-6 degree.
REFERENCE_PAIRS = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
]

CITIES = {
    "Beijing": (39.9042, 116.4074),
    "Shanghai": (31.2304, 121.4737),
    "Guangzhou": (23.1291, 113.2644),
    "Chengdu": (30.5728, 104.0668),
    "Harbin": (45.8038, 126.5350),
    "Urumqi": (43.8256, 87.6168),
    "Lhasa": (29.6520, 91.1721),
    "Gaoping": GAOPING,
}


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE_PAIRS)
def test_wgs84_to_gcj02_matches_reference(wgs, gcj):
    """Does the forward transform match published vectors to 1e-6 degree?"""
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-6)


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE_PAIRS)
def test_gcj02_to_wgs84_matches_reference(wgs, gcj):
    """Does a point picked on Amap come back within 0.5 m of the WGS-84 truth?"""
    assert distance_m(*gcj02_to_wgs84(*gcj), *wgs) < 0.5


def test_tiananmen():
    """The often-quoted Tiananmen pair; its GCJ-02 side is given to 4 decimals
    only (about ±5 m in each axis), hence the wider tolerance."""
    gcj = wgs84_to_gcj02(39.9087243, 116.3952859)
    assert distance_m(*gcj, 39.9101, 116.4014) < 15
    assert distance_m(*gcj02_to_wgs84(39.9101, 116.4014), 39.9087243, 116.3952859) < 15


@pytest.mark.parametrize("city", CITIES)
def test_offset_in_chinese_cities(city):
    """Is the GCJ-02 offset a few hundred metres, as on real map tiles?"""
    wgs = CITIES[city]
    assert 100 < distance_m(*wgs, *wgs84_to_gcj02(*wgs)) < 700


@pytest.mark.parametrize(
    "position",
    [
        (48.8566, 2.3522),  # Paris
        (40.7128, -74.0060),  # New York
        (35.6762, 139.6503),  # Tokyo, east of the rectangle
        (-33.8688, 151.2093),  # Sydney
        (0.5, 100.0),  # Sumatra, south of it
    ],
)
def test_outside_china_unchanged(position):
    """Outside China, are positions returned exactly as given, both ways?"""
    assert wgs84_to_gcj02(*position) == position
    assert gcj02_to_wgs84(*position) == position


@settings(max_examples=200, deadline=None)
@given(lat=st.floats(18.0, 53.5), lon=st.floats(73.5, 135.0))
def test_gcj02_round_trip(lat, lon):
    """Does WGS-84 -> GCJ-02 -> WGS-84 come back within a metre anywhere in China?"""
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lat, lon))
    assert distance_m(lat, lon, *back) < 1


# --- nearest -----------------------------------------------------------------------


def test_nearest_picks_the_closest_point():
    """Is the closest point returned with its distance?"""
    points = [("school", 35.80, 112.93), ("market", 35.7987, 112.9238), ("station", 35.79, 112.91)]
    key, d = nearest(*GAOPING, points)
    assert key == "market"
    assert d == pytest.approx(distance_m(*GAOPING, 35.7987, 112.9238))


def test_nearest_of_nothing_is_none():
    """With no points at all, is the answer None?"""
    assert nearest(*GAOPING, []) is None


def test_nearest_takes_any_iterable_and_keeps_first_of_ties():
    """Does a generator work, and does a tie go to the first point?"""
    points = ((key, GAOPING[0] + 0.001, GAOPING[1]) for key in (7, 3))
    assert nearest(*GAOPING, points)[0] == 7
