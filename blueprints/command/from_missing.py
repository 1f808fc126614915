"""Missing persons (走失) on the command room's screen: open cases, their last-seen places and
sightings on the map, reports and sightings in the feed. Imported only when models.missing exists."""
from operator import itemgetter

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from blueprints.command.sources import (Count, FeedItem, Layer, Source, feed_columns, feed_member, memoized, register,
                                        run, tally)
from extensions import db
from models.missing import OPEN, MissingPersonCase, Sighting

C = MissingPersonCase
LAYER_LIMIT = 500


def version(today):
    station = today.user.station_id
    return [select(func.max(C.updated_at)).where(C.station_id == station).scalar_subquery(),
            select(func.max(Sighting.id)).where(Sighting.station_id == station).scalar_subquery()]


def tallies(today):
    station = today.user.station_id
    return memoized(("missing", station), lambda: [select(*tally("missing.open", None, None, func.count(C.id)))
                                                   .where(C.station_id == station, C.status == OPEN)])


def fold(today, rows):
    number = sum(int(n or 0) for *_k, n, _a, _b in rows.get("missing.open", ()))
    return [Count("missing_open", _("Open missing cases"), number, 50, url_for("missing.index"), alert=True)], []


def layers(today):
    """Each open case where last seen, and its sightings: two queries, columns only."""
    prefix = url_for("missing.show", case_id=1)[:-1]
    last_seen, seen = _("%(name)s, last seen at %(place)s"), _("%(name)s, seen at %(place)s")
    station = today.user.station_id
    cases = run(memoized(("missing.layer", station), lambda: (
        select(C.id, C.name, C.last_seen_place, C.last_seen_lat, C.last_seen_lon)
        .where(C.station_id == station, C.status == OPEN).order_by(C.id.desc()).limit(LAYER_LIMIT)))).all()
    names = {case_id: name for case_id, name, *_rest in cases}
    markers = []
    for case_id, name, place, lat, lon in cases:
        if lat is not None:
            markers.append(today.marker(lat, lon, last_seen % {"name": name, "place": place}, True, case_id))
    if names:
        for case_id, place, lat, lon in db.session.execute(
                select(Sighting.case_id, Sighting.place, Sighting.lat, Sighting.lon)
                .where(Sighting.case_id.in_(list(names)), Sighting.lat.is_not(None)).order_by(Sighting.id)):
            markers.append(today.marker(lat, lon, seen % {"name": names[case_id], "place": place}, False, case_id))
    return [Layer("missing", _("Missing persons and sightings"), "#b00020", markers, 5, url=prefix)]


def feed_union(today, limit):
    """Cases reported and sightings added since the start of the day (newest ids first), as members of
    the screen's feed (not the device's recorded time: the screen does not show it)."""
    station, start = today.user.station_id, today.start
    return [memoized(("missing.feed", station, start, limit), lambda: feed_member(
                select(*feed_columns("missing", C.created_at, C.id, C.id, C.via, t1=C.name))
                .where(C.station_id == station, C.created_at >= start).order_by(C.id.desc()).limit(limit))),
            memoized(("missing.sighting_feed", station, start, limit), lambda: feed_member(
                select(*feed_columns("missing.sightings", Sighting.created_at, Sighting.id, Sighting.case_id,
                                     Sighting.via, t1=Sighting.place))
                .where(Sighting.station_id == station, Sighting.created_at >= start)
                .order_by(Sighting.id.desc()).limit(limit)))]


def feed_fold(today, rows):
    """The reports' and sightings' feed lines, newest first."""
    prefix = url_for("missing.show", case_id=1)[:-1]
    kind, reported, sighting = _("Missing"), _("Reported missing: %(name)s"), _("Sighting")
    items = [FeedItem(created_at, kind, reported % {"name": name}, url=f"{prefix}{case_id}", synced=via == "sync",
                      alert=True)
             for created_at, _seq, case_id, via, _flag, _who, name, _t2 in _newest(rows.get("missing", ()))]
    items += [FeedItem(created_at, sighting, place, url=f"{prefix}{case_id}", synced=via == "sync")
              for created_at, _seq, case_id, via, _flag, _who, place, _t2 in _newest(rows.get("missing.sightings", ()))]
    return items


def _newest(rows) -> list:
    """A feed member's rows by their sequence (the id), highest first."""
    return sorted(rows, key=itemgetter(1), reverse=True)


register(Source("missing", version=version, tallies=tallies, fold=fold, layers=layers, feed_union=feed_union,
                feed_fold=feed_fold))
