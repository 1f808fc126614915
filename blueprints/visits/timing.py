"""When to knock next time: from the hours of earlier unanswered visits, a different part of the day.

Pure Python (no Flask, no database): the plan passes in local hours (Asia/Shanghai, 0-23).
"""
from collections import Counter

# Parts of the day in which a visit is reasonable (local hours, end exclusive).
PERIODS = (("morning", 8, 12), ("afternoon", 12, 17), ("evening", 17, 21))


def period_of(hour: int) -> str | None:
    """The part of the day an hour falls in; None at night (outside visiting hours)."""
    for name, start, end in PERIODS:
        if start <= hour < end:
            return name
    return None


def suggest_period(missed_hours, met_hours=()) -> str | None:
    """The part of the day to try next, or None when no visit went unanswered.

    A part of the day in which someone was met before wins; otherwise the part with the fewest
    unanswered visits, the earliest of them on a tie.
    """
    missed = Counter(p for p in (period_of(h) for h in missed_hours) if p)
    if not missed and not any(period_of(h) is None for h in missed_hours):
        return None
    met = Counter(p for p in (period_of(h) for h in met_hours) if p)
    untried_met = [name for name, _s, _e in PERIODS if met[name] and not missed[name]]
    if untried_met:
        return max(untried_met, key=lambda name: met[name])
    fewest = min(missed[name] for name, _s, _e in PERIODS)
    for name, _s, _e in PERIODS:
        if missed[name] == fewest:
            return name
    return None  # pragma: no cover (PERIODS is not empty)
