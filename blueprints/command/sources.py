"""The command room's hook: every feature feeds the one screen and the analysis through a Source.

A feature adds itself with one line in its blueprint's __init__.py, e.g.

    from blueprints.command.sources import Source, register
    register(Source("visits", counts=..., layers=..., feed=...))

Every callable is optional and receives a `Today` (the screen) or a `Period` (the analysis). A
provider must cost a fixed number of queries whatever the amount of data (aggregate in SQL).
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from blueprints.home.services import LOCAL_TZ
from flask import current_app
from sqlalchemy import (Date, Integer, String, bindparam, case, cast, func, literal, literal_column, null, select,
                        type_coerce)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from domain.geo import wgs84_to_gcj02
from extensions import db
from models.types import UTCDateTime

UTC_OFFSET_HOURS = 8  # Asia/Shanghai has no daylight saving: local = UTC + 8 h, all year
MICRO = 1_000_000  # the map's positions travel as integer microdegrees (~0.1 m): see micro()


@dataclass
class Today:
    """What a screen provider is given: who looks, the local day and its UTC bounds, the tiles' datum."""

    user: object
    day: date
    start: datetime
    end: datetime
    now: datetime
    crs: str = "wgs84"

    def position(self, lat: float, lon: float) -> tuple[float, float]:
        """A stored WGS-84 position as the map shows it (GCJ-02 on Amap/Tencent tiles)."""
        return wgs84_to_gcj02(lat, lon) if self.crs == "gcj02" else (lat, lon)

    def marker(self, lat: float, lon: float, label: str, alert: bool, ref=None) -> list:
        """A compact marker (see Layer) at a stored WGS-84 position, in microdegrees as displayed."""
        if self.crs == "gcj02":
            lat, lon = wgs84_to_gcj02(lat, lon)
        marker = [round(lat * MICRO), round(lon * MICRO), label, 1 if alert else 0]
        if ref is not None:
            marker.append(ref)
        return marker

    def markers(self, rows) -> list:
        """Markers from (lat, lon, label, alert 0/1[, ref]) rows whose positions the database gave in
        WGS-84 microdegrees (micro()): the rows as they are, hundreds of markers and no work per row,
        but on GCJ-02 tiles, where each position is converted here."""
        if self.crs != "gcj02":
            return rows if isinstance(rows, list) else list(rows)
        return [self.marker(row[0] / MICRO, row[1] / MICRO, *row[2:]) for row in rows]


@dataclass
class Period:
    """What an analysis provider is given: the station's local days start..end and their UTC bounds."""

    user: object
    start: date
    end: date

    @property
    def start_utc(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=LOCAL_TZ).astimezone(timezone.utc)

    @property
    def end_utc(self) -> datetime:
        """The first instant after the period (exclusive bound)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=LOCAL_TZ).astimezone(timezone.utc)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def before(self) -> "Period":
        """The period of the same length just before this one (what the analysis compares with)."""
        return Period(self.user, self.start - timedelta(days=self.days), self.start - timedelta(days=1))


@dataclass
class Count:
    """One number of today's counts row; `order` places it (check-ins 10 ... flagged 70)."""

    key: str
    label: str
    value: int
    order: int = 100
    url: str | None = None
    alert: bool = False  # shown in red when above zero (flagged, overdue)


@dataclass
class Layer:
    """A map layer. Markers are dicts with lat, lon (display datum, see Today.position), label, alert,
    url; or, when `url` (a prefix) is given, compact lists or tuples [lat, lon, label, alert 0/1, ref]
    with lat and lon in integer microdegrees (Today.marker, Today.markers), the marker's link being
    url + ref (no ref: no link)."""

    key: str
    label: str
    color: str
    markers: list
    order: int = 100
    url: str | None = None


@dataclass
class FeedItem:
    """One line of the activity feed; `at` is when the server got it (the feed's order)."""

    at: datetime
    kind: str
    text: str
    who: str = ""
    url: str | None = None
    recorded_at: datetime | None = None
    synced: bool = False  # recorded offline and synced in later
    alert: bool = False


@dataclass
class Column:
    """A per-grid column: values by grid id (None: no grid). With `of`, a rate values/of per grid."""

    key: str
    label: str
    values: dict
    of: dict | None = None
    order: int = 100
    better: str | None = None  # "up" or "down": which change is good news (for the comparison)

    def total(self):
        return sum(v or 0 for v in self.values.values())

    def total_of(self):
        return sum(v or 0 for v in (self.of or {}).values())


@dataclass
class Source:
    """What one feature contributes. Screen: version, counts, layers, feed, grid_today (all take Today;
    feed also a limit). Analysis: measures (Period -> compared columns), snapshot (Today -> "now"
    columns, not compared), hours (Period -> {(weekday Mon=0, hour): [activity, flagged]}).
    Instead of measures a source may give `compare` ((period, previous) -> (columns, previous
    columns)): both periods from the same statements, grouped by which period a row falls in.

    Instead of counts and grid_today a source may give `tallies` (Today -> list of SELECTs built with
    tally()) and `fold` ((Today, {tag: rows}) -> (counts, columns)): the screen runs every source's
    tallies as one UNION ALL statement and hands each source back its rows. Likewise instead of feed:
    `feed_union` ((Today, limit) -> list of SELECTs built with feed_columns() and feed_member()) and
    `feed_fold` ((Today, {tag: rows}) -> feed lines), one UNION ALL of every source's newest lines."""

    name: str
    version: Callable | None = None  # Today -> list of scalar SQL subqueries that change with the data
    counts: Callable | None = None
    layers: Callable | None = None
    feed: Callable | None = None
    grid_today: Callable | None = None
    measures: Callable | None = None
    snapshot: Callable | None = None
    hours: Callable | None = None
    compare: Callable | None = None
    tallies: Callable | None = None
    fold: Callable | None = None
    feed_union: Callable | None = None
    feed_fold: Callable | None = None
    extra: dict = field(default_factory=dict)


SOURCES: list[Source] = []


def register(source: Source) -> None:
    """Add a feature's source once (a blueprint module may be imported by several apps in tests)."""
    if all(s.name != source.name for s in SOURCES):
        SOURCES.append(source)


# The current time in tallies: a named parameter the screen sets on every run, so a tally statement
# built once per station and day (memoized) still counts what is overdue now.
NOW = bindparam("command_now", type_=UTCDateTime)
MEMO_SIZE = 64


def memoized(key: tuple, build: Callable):
    """build() once per key in this app (a station's tally statements of a day, the screen's union of
    them): SQLAlchemy then finds the compiled SQL by the same object instead of building and
    hashing a new statement tree per request, which cost as much as running it."""
    memo = current_app.extensions.setdefault("command.memo", {})
    value = memo.pop(key, None)  # re-inserted below: the most recently used last, evicted last
    if value is None:
        if len(memo) >= MEMO_SIZE:
            try:
                memo.pop(next(iter(memo)), None)
            except (StopIteration, RuntimeError):  # emptied or changed by another thread meanwhile
                pass
        value = build()
    memo[key] = value
    return value


def run(statement, params: dict | None = None):
    """The rows of a columns-only statement, run on the session's connection (its transaction) without
    the ORM's per-row result layer: the map's hundreds of markers, the feeds, the tallies."""
    return db.session.connection().execute(statement, params or {})


def fetch(statement, params: dict | None = None) -> list:
    """run()'s rows as a list, fetched at once (iterating a result fetches one row per call, ~2 µs
    each: a few hundred per screen)."""
    return db.session.connection().execute(statement, params or {}).all()


def fetch_tuples(statement, params: dict | None = None) -> list[tuple]:
    """The driver's own rows (plain tuples, fetched at once) of a columns-only statement: no result
    row object per row, and ready for json.dumps (the map's markers, hundreds per request). For
    columns whose values need no conversion from the driver's (numbers, text)."""
    result = db.session.connection().execute(statement, params or {})
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def micro(column):
    """A position column in integer microdegrees (~0.1 m), rounded by the database: the map's markers
    need no float rounding or formatting per row here (and integers are shorter on the wire)."""
    return cast(func.round(column * MICRO), Integer)


def tally(tag: str, k1=None, k2=None, *numbers):
    """The select list of one UNION ALL member of the screen's tallies: (tag, k1, k2, n1, n2, n3).

    The tag is a constant of the source (rendered inline: every member of the union has the same
    shape on SQLite and PostgreSQL); k1/k2 are integer keys (a grid, an officer), n1..n3 counts.
    """
    keys = [type_coerce(k, Integer) if k is not None else type_coerce(null(), Integer) for k in (k1, k2)]
    values = list(numbers) + [literal_column("0")] * (3 - len(numbers))
    return [literal_column(f"'{tag}'").label("tag"), keys[0].label("k1"), keys[1].label("k2"),
            *(v.label(f"n{i + 1}") for i, v in enumerate(values))]


def feed_columns(tag: str, at, seq, ref=None, via=None, flag=None, who=None, t1=None, t2=None) -> list:
    """The select list of one member of the screen's feed (one UNION ALL of every source's newest
    lines): (tag, at, seq, ref, via, flag, who, t1, t2). `at` is when the server got the line, `seq`
    the member's order (newest first: the highest), ref/flag integers, via/who/t1/t2 text; a column a
    member has not is a typed NULL (PostgreSQL types every column of a UNION)."""
    def text(value):
        return value if value is not None else cast(null(), String)

    def number(value):
        return value if value is not None else cast(null(), Integer)

    return [literal_column(f"'{tag}'").label("tag"), at.label("at"), number(seq).label("seq"), number(ref).label("ref"),
            text(via).label("via"), number(flag).label("flag"), text(who).label("who"), text(t1).label("t1"),
            text(t2).label("t2")]


def feed_member(statement):
    """A member of the feed's UNION ALL with its own ORDER BY and LIMIT (kept inside a subquery)."""
    return select(*statement.subquery().c)


class utc_hour(FunctionElement):
    """The UTC hour a timestamp column falls in, as text 'YYYY-MM-DD HH' (the analysis's hour table
    groups by it: a substring on SQLite, where two strftime() per row cost several times more)."""

    type = String()
    name = "utc_hour"
    inherit_cache = True


@compiles(utc_hour)
def _utc_hour_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD HH24')"


@compiles(utc_hour, "sqlite")
def _utc_hour_sqlite(element, compiler, **kw):
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 13)"  # stored as 'YYYY-MM-DD HH:MM:SS...'


class local_hour_minute(FunctionElement):
    """HH:MM in station time (UTC + 8 h, all year) of a UTC timestamp column, as text, computed by the
    database: a marker's label needs no datetime object per row."""

    type = String()
    name = "local_hour_minute"
    inherit_cache = True


@compiles(local_hour_minute)
def _local_hour_minute_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)} + interval '{UTC_OFFSET_HOURS} hours', 'HH24:MI')"


@compiles(local_hour_minute, "sqlite")
def _local_hour_minute_sqlite(element, compiler, **kw):
    return f"strftime('%H:%M', {compiler.process(element.clauses, **kw)}, '+{UTC_OFFSET_HOURS} hours')"


class day_text(FunctionElement):
    """A date column as 'YYYY-MM-DD' text (date.isoformat()), read without a date object per row."""

    type = String()
    name = "day_text"
    inherit_cache = True


@compiles(day_text)
def _day_text_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD')"


@compiles(day_text, "sqlite")
def _day_text_sqlite(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)  # stored as 'YYYY-MM-DD' text


def joined(*parts):
    """SQL for Python's " ".join(p for p in parts if p) over non-NULL text columns (an address's parts
    as one label): each non-empty part with a space in front, the first space cut off."""
    spaced = [case((part != "", literal(" ") + part), else_=literal("")) for part in parts]
    text = spaced[0]
    for part in spaced[1:]:
        text = text + part
    return func.substr(text, 2, type_=String)


def _local_weekday_hour(bucket: str) -> tuple[int, int]:
    """The local (Mon=0 weekday, hour) of a utc_hour bucket (station time is UTC + 8 h all year)."""
    hour = int(bucket[11:13]) + UTC_OFFSET_HOURS
    weekday = date(int(bucket[:4]), int(bucket[5:7]), int(bucket[8:10])).weekday()
    if hour >= 24:
        hour -= 24
        weekday = (weekday + 1) % 7
    return weekday, hour


def add_hours(cells: dict, rows, flagged: bool = False) -> dict:
    """Fold (utc_hour bucket, n[, flagged n]) rows into {(weekday, hour): [activity, flagged]}."""
    for row in rows:
        cell = cells.setdefault(_local_weekday_hour(row[0]), [0, 0])
        cell[0] += int(row[1] or 0)
        if flagged and len(row) > 2:
            cell[1] += int(row[2] or 0)
    return cells


def in_period(column, period: "Period"):
    """1 for a row of `period`, 0 for one of the period just before it (the query reads both): a date
    column is compared with the first day, a timestamp with its first instant."""
    bound = period.start if isinstance(column.type, Date) else period.start_utc
    return case((column >= bound, 1), else_=0)
