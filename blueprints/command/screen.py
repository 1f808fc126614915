"""The one screen (一屏观全域): today's counts, map layers, activity feed and grid table, from every Source.

`version()` is one SQL statement (each source's max(id)/count subqueries side by side): the refresh
compares it with the version the page shows and answers 204/304 without building anything else.
"""
import hashlib
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from blueprints.command.sources import SOURCES, Column, Count, FeedItem, Layer, Today
from blueprints.home.services import LOCAL_TZ, local_day_bounds
from extensions import db
from models import Grid, utcnow

FEED_SIZE = 40


def today_for(user) -> Today:
    """The user's station's local day, its UTC bounds, now, and the map tiles' datum."""
    now = utcnow()
    day = now.astimezone(LOCAL_TZ).date()
    start, end = local_day_bounds(day)
    return Today(user, day, start, end, now, current_app.config.get("MAP_TILE_CRS", "wgs84"))


def version(today: Today, locale: str) -> str:
    """A short tag that changes when anything the screen shows changes: one statement."""
    expressions = [e for s in SOURCES if s.version for e in s.version(today)]
    values = db.session.execute(select(*expressions)).one() if expressions else ()
    raw = "|".join([str(today.user.station_id), today.day.isoformat(), locale, *map(str, values)])
    return hashlib.sha1(raw.encode()).hexdigest()[:16]


@dataclass
class GridRow:
    grid: Grid | None
    cells: dict  # column key -> (value, of)


@dataclass
class Screen:
    today: Today
    counts: list[Count]
    layers: list[Layer]
    feed: list[FeedItem]
    columns: list[Column]
    rows: list[GridRow]

    def layers_payload(self) -> list[dict]:
        return [{"key": layer.key, "label": str(layer.label), "color": layer.color, "markers": layer.markers}
                for layer in self.layers]


def station_grids(station_id: int) -> list[Grid]:
    return list(db.session.scalars(select(Grid).where(Grid.station_id == station_id).order_by(Grid.code)))


def grid_rows(grids, columns: list[Column]) -> list[GridRow]:
    """One row per grid (and one for records without a grid when there are any), cells per column."""
    rows = [GridRow(g, {c.key: (c.values.get(g.id), (c.of or {}).get(g.id)) for c in columns}) for g in grids]
    if any(c.values.get(None) for c in columns):
        rows.append(GridRow(None, {c.key: (c.values.get(None), (c.of or {}).get(None)) for c in columns}))
    return rows


def build(today: Today) -> Screen:
    """Everything on the screen: a fixed number of queries per source, whatever the data."""
    counts, layers, feed, columns = [], [], [], []
    for source in SOURCES:
        if source.counts:
            counts += source.counts(today)
        if source.layers:
            layers += source.layers(today)
        if source.feed:
            feed += source.feed(today, FEED_SIZE)
        if source.grid_today:
            columns += source.grid_today(today)
    feed.sort(key=lambda item: item.at or datetime.min, reverse=True)
    columns.sort(key=lambda c: c.order)
    return Screen(today, sorted(counts, key=lambda c: c.order), sorted(layers, key=lambda layer: layer.order),
                  feed[:FEED_SIZE], columns, grid_rows(station_grids(today.user.station_id), columns))
