"""How much to trust a patrol check-in.

A check-in is never refused: an officer in a basement with no GPS fix, or
offline in a village, must still be able to record that they were there.
Instead, ``assess_check_in`` returns flag codes that the app shows to the
supervisor reviewing patrols and translates for display.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from domain.geo import distance_m as _distance_m
from domain.geo import speed_kmh as _speed_kmh
from domain.geo import valid_position

__all__ = [
    "CLOCK_SKEW_TOLERANCE",
    "FLAGS",
    "FUTURE_TOLERANCE",
    "GEOFENCE_ACCURACY_ALLOWANCE_MAX_M",
    "IMPOSSIBLE_SPEED_KMH",
    "METHODS",
    "POOR_ACCURACY_M",
    "SPEED_MIN_DISTANCE_M",
    "assess_check_in",
]

METHODS = ("gps", "qr", "manual")

# Every flag, in the order assess_check_in() returns them.
FLAGS = (
    "outside_geofence",
    "poor_accuracy",
    "impossible_speed",
    "future_time",
    "clock_skew",
    "manual",
)

# A fix is "somewhere within accuracy_m" of the reported point, so the
# geofence is widened by the accuracy, but by no more than 100 m: otherwise a
# wildly inaccurate fix (a cell-tower estimate of 2 km) would pass any fence.
GEOFENCE_ACCURACY_ALLOWANCE_MAX_M = 100.0

# Phone GPS outdoors is typically 5-30 m; beyond 100 m the position comes
# from Wi-Fi or cell towers and says little about which building it was.
POOR_ACCURACY_M = 100.0

# Faster than a car may legally drive between most patrol points (urban and
# national roads in Gaoping are 40-80 km/h; expressways 120 km/h).
IMPOSSIBLE_SPEED_KMH = 120.0

# Two fixes a few seconds apart with ordinary GPS jitter of tens of metres
# give absurd speeds; below 200 m the speed says nothing about travel.
SPEED_MIN_DISTANCE_M = 200.0

# A phone's clock may run a little ahead of the server's (NTP drift, the
# request's own latency); more than 2 min ahead is a clock set by hand.
FUTURE_TOLERANCE = timedelta(minutes=2)

# An online check-in reaches the server within seconds, so recorded and
# received times more than 10 min apart mean a wrong phone clock. Offline
# check-ins are synced later by design and are not judged by this.
CLOCK_SKEW_TOLERANCE = timedelta(minutes=10)


def assess_check_in(
    *,
    lat: float | None,
    lon: float | None,
    accuracy_m: float | None,
    distance_m: float | None,
    radius_m: float | None,
    method: str,
    recorded_at: datetime,
    received_at: datetime,
    online: bool,
    previous: tuple[float, float, datetime] | None,
) -> list[str]:
    """Return the flags raised by a check-in, in the order of ``FLAGS``.

    ``lat, lon, accuracy_m`` are the device's WGS-84 fix (None without one);
    ``distance_m`` is its distance from the patrol point and ``radius_m`` the
    point's geofence (None when either is unknown: no geofence judgement).
    ``recorded_at`` is the device's time, ``received_at`` the server's; both
    must be timezone-aware. ``previous`` is the officer's last check-in as
    ``(lat, lon, recorded_at)``. Raises ValueError for an unknown method or
    naive datetimes, which are programming errors, never for the evidence.
    """
    if method not in METHODS:
        raise ValueError(f"unknown check-in method {method!r}")
    _require_aware(recorded_at, received_at, *(previous[2:] if previous else ()))

    flags = set()
    if _outside_geofence(accuracy_m, distance_m, radius_m):
        flags.add("outside_geofence")
    if accuracy_m is not None and accuracy_m > POOR_ACCURACY_M:
        flags.add("poor_accuracy")
    if _impossible_speed(lat, lon, recorded_at, previous):
        flags.add("impossible_speed")
    if recorded_at - received_at > FUTURE_TOLERANCE:
        flags.add("future_time")
    if online and abs(received_at - recorded_at) > CLOCK_SKEW_TOLERANCE:
        flags.add("clock_skew")
    if method == "manual":  # a typed-in or picked position proves nothing
        flags.add("manual")
    return [flag for flag in FLAGS if flag in flags]


def _outside_geofence(
    accuracy_m: float | None, distance_m: float | None, radius_m: float | None
) -> bool:
    """Tell whether the fix lies beyond the fence even allowing for accuracy."""
    if distance_m is None or radius_m is None:
        return False
    # An unknown or nonsensical accuracy earns no allowance.
    known = accuracy_m is not None and math.isfinite(accuracy_m) and accuracy_m > 0
    allowance = min(accuracy_m, GEOFENCE_ACCURACY_ALLOWANCE_MAX_M) if known else 0.0
    return distance_m > radius_m + allowance


def _impossible_speed(
    lat: float | None,
    lon: float | None,
    recorded_at: datetime,
    previous: tuple[float, float, datetime] | None,
) -> bool:
    """Tell whether reaching this fix from the previous one needs > 120 km/h."""
    if previous is None or lat is None or lon is None:
        return False
    prev_lat, prev_lon, prev_time = previous
    if not (valid_position(lat, lon) and valid_position(prev_lat, prev_lon)):
        return False
    if _distance_m(prev_lat, prev_lon, lat, lon) < SPEED_MIN_DISTANCE_M:
        return False
    speed = _speed_kmh(prev_lat, prev_lon, prev_time, lat, lon, recorded_at)
    # Equal times give no speed: two check-ins in one instant are a
    # double submission, not travel.
    return speed is not None and speed > IMPOSSIBLE_SPEED_KMH


def _require_aware(*moments: datetime) -> None:
    """Raise ValueError if any datetime lacks a time zone."""
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("check-in times must be timezone-aware")
