"""The one screen (一屏观全域): today's counts, activity feed and grid table, and the map's layers,
from every Source.

`version()` is one SQL statement (each source's max(id)/count subqueries side by side): the refresh
compares it with the version the page shows and answers 204/304 without building anything else.
The sources' counts and per-grid columns come from one UNION ALL of their tallies, the feed's
newest lines from another (feed_union); the map's markers are not in the page but fetched by
command.js from /command/layers (`layers_payload`, positions in microdegrees).
"""
import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from flask import current_app
from sqlalchemy import select, union_all

from blueprints.command.sources import MICRO, NOW, SOURCES, Column, Count, FeedItem, Layer, Today, fetch, memoized, run
from blueprints.home.services import LOCAL_TZ, local_day_bounds
from extensions import db
from models import Grid, Station, utcnow

FEED_SIZE = 20  # what the feed's panel shows beside the map; "more" appends the next ones
MORE_MAX = 500  # how far "more" goes (a busy day has a few hundred lines)


def today_for(user) -> Today:
    """The user's station's local day, its UTC bounds, now, and the map tiles' datum."""
    now = utcnow()
    day = now.astimezone(LOCAL_TZ).date()
    start, end = local_day_bounds(day)
    return Today(user, day, start, end, now, current_app.config.get("MAP_TILE_CRS", "wgs84"))


def version(today: Today, locale: str) -> str:
    """A short tag that changes when anything the screen shows changes: one statement."""
    statement = memoized(("version", today.user.station_id, today.day), lambda: _version_statement(today))
    values = run(statement, {NOW.key: today.now}).one() if statement is not None else ()
    raw = "|".join([str(today.user.station_id), today.day.isoformat(), locale, *map(str, values)])
    return hashlib.sha1(raw.encode()).hexdigest()[:16]


def _version_statement(today: Today):
    """The sources' version subqueries side by side. Memoized per station and day: a source's
    expressions may depend on those and on the current time only through sources.NOW."""
    expressions = [e for s in SOURCES if s.version for e in s.version(today)]
    return select(*expressions) if expressions else None


class GridLine(NamedTuple):
    id: int
    name: str


@dataclass
class GridRow:
    grid: GridLine | None
    cells: list  # per column, in the columns' order: (shown in red, text), e.g. (False, "3/4")


@dataclass
class Screen:
    today: Today
    counts: list[Count]
    feed: list[FeedItem]
    columns: list[Column]
    rows: list[GridRow]
    more_feed: bool = False  # more lines today than the feed shows
    station_name: str = ""


def station_grids(station_id: int) -> list[Grid]:
    return list(db.session.scalars(memoized(("grids", station_id), lambda: (
        select(Grid).where(Grid.station_id == station_id).order_by(Grid.code)))))


def station_and_grids(station_id: int) -> tuple[str, list[GridLine]]:
    """The station's name (the screen's title) and its grids (id, name) by code: one statement, columns
    only (no Station loaded through current_user.station, no Grid objects)."""
    rows = fetch(memoized(("station_grids", station_id), lambda: (
        select(Station.name, Grid.id, Grid.name).select_from(Station)
        .outerjoin(Grid, Grid.station_id == Station.id).where(Station.id == station_id).order_by(Grid.code))))
    return (rows[0][0] if rows else ""), [GridLine(grid_id, name) for _station, grid_id, name in rows
                                          if grid_id is not None]


def _cells(columns: list[Column], key) -> list[tuple[bool, str]]:
    """One grid's cells as the table shows them: "value/of" for a rate, else the value (0 when none);
    red when a "down is better" column has some."""
    cells = []
    for c in columns:
        value = c.values.get(key)
        if c.of is not None:
            text = f"{value or 0}/{c.of.get(key) or 0}"
        else:
            text = str(value or 0)
        cells.append((bool(c.better == "down" and value), text))
    return cells


def grid_rows(grids, columns: list[Column]) -> list[GridRow]:
    """One row per grid (and one for records without a grid when there are any), cells per column."""
    rows = [GridRow(g, _cells(columns, g.id)) for g in grids]
    if any(c.values.get(None) for c in columns):
        rows.append(GridRow(None, _cells(columns, None)))
    return rows


def _tallied(today: Today) -> tuple[list[Count], list[Column]]:
    """The counts and columns of the sources that give tallies: one statement for all of them."""
    tallying = [(source, source.tallies(today)) for source in SOURCES if source.tallies]
    statements = [statement for _source, statements in tallying for statement in statements]
    rows = defaultdict(list)
    if statements:
        union = memoized(("union", *map(id, statements)), lambda: (statements, union_all(*statements)))[1]
        for tag, *values in fetch(union, {NOW.key: today.now}):
            rows[tag].append(values)
    counts, columns = [], []
    for source, _statements in tallying:
        more_counts, more_columns = source.fold(today, rows)
        counts += more_counts
        columns += more_columns
    return counts, columns


def activity(today: Today, limit: int) -> tuple[list[FeedItem], bool]:
    """The day's `limit` newest feed lines of every source, and whether there are more. Each source
    gives its newest limit + 1: the newest `limit` of all are among them, and more than `limit` of
    them means there are more. The sources that give feed_union are read by one statement."""
    members = [member for source in SOURCES if source.feed_union for member in source.feed_union(today, limit + 1)]
    rows = defaultdict(list)
    if members:
        union = memoized(("feed", *map(id, members)), lambda: (members, union_all(*members)))[1]
        for tag, *values in fetch(union):
            rows[tag].append(values)
    feed = []
    for source in SOURCES:
        if source.feed_union:
            feed += source.feed_fold(today, rows)
        elif source.feed:
            feed += source.feed(today, limit + 1)
    feed.sort(key=lambda item: item.at or datetime.min, reverse=True)
    return feed[:limit], len(feed) > limit


def build(today: Today) -> Screen:
    """Everything on the screen but the map: a fixed number of queries, whatever the data."""
    counts, columns = _tallied(today)
    for source in SOURCES:
        if source.counts:
            counts += source.counts(today)
        if source.grid_today:
            columns += source.grid_today(today)
    feed, more = activity(today, FEED_SIZE)
    columns.sort(key=lambda c: c.order)
    station_name, grids = station_and_grids(today.user.station_id)
    return Screen(today, sorted(counts, key=lambda c: c.order), feed, columns, grid_rows(grids, columns), more,
                  station_name)


LAYERS_FORMAT = "2"  # the markers' wire format command.js reads (2: positions in integer microdegrees)


def _compact(layer: Layer) -> dict:
    """A layer for the wire: markers as [lat, lon, label, alert (0/1), url after the layer's `url`
    prefix], positions in integer microdegrees (~0.1 m). About a third of the size of one object per
    marker. A layer already compact (Layer.url set) goes as it is."""
    if layer.url is not None:
        return {"key": layer.key, "label": str(layer.label), "color": layer.color, "url": layer.url,
                "markers": layer.markers}
    urls = [m["url"] for m in layer.markers if m.get("url")]
    prefix = os.path.commonprefix(urls) if urls else ""
    prefix = prefix[:prefix.rfind("/") + 1]
    markers = []
    for m in layer.markers:
        marker = [round(m["lat"] * MICRO), round(m["lon"] * MICRO), m["label"], 1 if m.get("alert") else 0]
        if m.get("url"):
            marker.append(m["url"][len(prefix):])
        markers.append(marker)
    return {"key": layer.key, "label": str(layer.label), "color": layer.color, "url": prefix, "markers": markers}


def layers_payload(today: Today) -> list[dict]:
    """The map's layers of every source, in their order, compacted (see _compact)."""
    layers = [layer for source in SOURCES if source.layers for layer in source.layers(today)]
    return [_compact(layer) for layer in sorted(layers, key=lambda layer: layer.order)]
