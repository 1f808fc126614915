"""Missing persons (走失) on the command room's screen: open cases, their last-seen places and
sightings on the map, reports and sightings in the feed. Imported only when models.missing exists."""
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from blueprints.command.sources import Count, FeedItem, Layer, Source, register
from extensions import db
from models.missing import OPEN, MissingPersonCase, Sighting

C = MissingPersonCase
LAYER_LIMIT = 500


def version(today):
    station = today.user.station_id
    return [select(func.max(C.updated_at)).where(C.station_id == station).scalar_subquery(),
            select(func.max(Sighting.id)).where(Sighting.station_id == station).scalar_subquery()]


def counts(today):
    number = db.session.scalar(select(func.count(C.id)).where(C.station_id == today.user.station_id,
                                                              C.status == OPEN)) or 0
    return [Count("missing_open", _("Open missing cases"), number, 50, url_for("missing.index"), alert=True)]


def layers(today):
    """Each open case where last seen, and its sightings: two queries."""
    cases = list(db.session.scalars(select(C).where(C.station_id == today.user.station_id, C.status == OPEN)
                                    .order_by(C.id.desc()).limit(LAYER_LIMIT)))
    by_id = {c.id: c for c in cases}
    markers = []
    for c in cases:
        if c.last_seen_lat is not None:
            lat, lon = today.position(c.last_seen_lat, c.last_seen_lon)
            markers.append({"lat": lat, "lon": lon, "alert": True, "url": url_for("missing.show", case_id=c.id),
                            "label": _("%(name)s, last seen at %(place)s", name=c.name, place=c.last_seen_place)})
    if by_id:
        for s in db.session.scalars(select(Sighting).where(Sighting.case_id.in_(list(by_id)),
                                                           Sighting.lat.is_not(None))):
            lat, lon = today.position(s.lat, s.lon)
            markers.append({"lat": lat, "lon": lon, "alert": False, "url": url_for("missing.show", case_id=s.case_id),
                            "label": _("%(name)s, seen at %(place)s", name=by_id[s.case_id].name, place=s.place)})
    return [Layer("missing", _("Missing persons and sightings"), "#b00020", markers, 5)]


def feed(today, limit):
    """Cases reported and sightings added since the start of the day (newest ids first)."""
    items = []
    for c in db.session.scalars(select(C).where(C.station_id == today.user.station_id)
                                .order_by(C.id.desc()).limit(limit)):
        if c.created_at < today.start:
            break
        items.append(FeedItem(c.created_at, _("Missing"), _("Reported missing: %(name)s", name=c.name),
                              url=url_for("missing.show", case_id=c.id), recorded_at=c.recorded_at,
                              synced=c.via == "sync", alert=True))
    for s in db.session.scalars(select(Sighting).where(Sighting.station_id == today.user.station_id)
                                .order_by(Sighting.id.desc()).limit(limit)):
        if s.created_at < today.start:
            break
        items.append(FeedItem(s.created_at, _("Sighting"), s.place, url=url_for("missing.show", case_id=s.case_id),
                              recorded_at=s.seen_at, synced=s.via == "sync"))
    return items


register(Source("missing", version=version, counts=counts, layers=layers, feed=feed))
