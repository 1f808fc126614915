"""Counts for the home pages. Features contribute their counts through SUMMARY_PROVIDERS."""
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# Each provider: f(user, day_start_utc, day_end_utc) -> dict of counts; features append to these.
OFFICER_PROVIDERS: list = []
STATION_PROVIDERS: list = []


def local_day_bounds(day=None) -> tuple[datetime, datetime]:
    """Start and end (UTC) of a local Asia/Shanghai calendar day, today by default."""
    day = day or datetime.now(LOCAL_TZ).date()
    start = datetime.combine(day, time.min, tzinfo=LOCAL_TZ).astimezone(timezone.utc)
    return start, start + timedelta(days=1)


def officer_summary(user) -> dict:
    """Today's counts for a community officer's phone home."""
    start, end = local_day_bounds()
    summary: dict = {}
    for provider in OFFICER_PROVIDERS:
        summary.update(provider(user, start, end))
    return summary


def station_summary(user) -> dict:
    """Today's counts for the command room and leaders."""
    start, end = local_day_bounds()
    summary: dict = {}
    for provider in STATION_PROVIDERS:
        summary.update(provider(user, start, end))
    return summary
