"""Visits on the command room's screen and in its analysis (blueprints.command.sources): a fixed
number of aggregated queries each, whatever the number of visits."""
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from blueprints.command.sources import Column, Count, FeedItem, Layer, Source, register
from blueprints.visits import subjects
from extensions import db
from models import FollowUp, RentalHousehold, Visit
from models.visits import NO_ONE_HOME, VISITED_OUTCOMES

LAYER_LIMIT = 500


def _today(today):
    return (Visit.station_id == today.user.station_id, Visit.recorded_at >= today.start,
            Visit.recorded_at < today.end)


def _overdue(today):
    return (FollowUp.station_id == today.user.station_id, FollowUp.done_visit_id.is_(None),
            FollowUp.due_on < today.day)


def version(today):
    return [select(func.max(Visit.id)).where(Visit.station_id == today.user.station_id).scalar_subquery(),
            select(func.count(FollowUp.id)).where(*_overdue(today)).scalar_subquery()]


def counts(today):
    visits = db.session.scalar(select(func.count(Visit.id)).where(*_today(today))) or 0
    overdue = db.session.scalar(select(func.count(FollowUp.id)).where(*_overdue(today))) or 0
    coverage = url_for("visits.coverage_page")
    return [Count("visits_today", _("Visits"), visits, 40, url_for("visits.index")),
            Count("follow_ups_overdue", _("Follow-ups overdue"), overdue, 42, coverage, alert=True)]


def _visits_today(today, limit):
    return list(db.session.scalars(
        select(Visit).options(joinedload(Visit.officer), joinedload(Visit.resident), joinedload(Visit.place),
                              joinedload(Visit.household).joinedload(RentalHousehold.address))
        .where(*_today(today)).order_by(Visit.recorded_at.desc(), Visit.id.desc()).limit(limit)))


def layers(today):
    markers = []
    for v in _visits_today(today, LAYER_LIMIT):
        if v.lat is None:
            continue
        lat, lon = today.position(v.lat, v.lon)
        markers.append({"lat": lat, "lon": lon, "alert": v.outcome == NO_ONE_HOME,
                        "url": url_for("visits.show", visit_id=v.id),
                        "label": f"{v.officer.name} · {subjects.subject_label(v.subject_type, getattr(v, v.subject_type))}"})
    return [Layer("visits", _("Visits"), "#1b6e20", markers, 40)]


def feed(today, limit):
    return [FeedItem(v.received_at, _("Visit"),
                     f"{subjects.subject_label(v.subject_type, getattr(v, v.subject_type))} · {_label(v.outcome)}",
                     v.officer.name, url_for("visits.show", visit_id=v.id), recorded_at=v.recorded_at,
                     synced=v.via == "sync") for v in _visits_today(today, limit)]


def _label(outcome: str) -> str:
    return {"met": _("Met"), "no_one_home": _("No one home"), "refused": _("Refused")}.get(outcome, outcome)


def grid_today(today):
    rows = db.session.execute(select(Visit.grid_id, func.count(Visit.id)).where(*_today(today))
                              .group_by(Visit.grid_id)).all()
    return [Column("visits_today", _("Visits"), {g: n for g, n in rows}, order=40)]


def measures(period):
    """Visits per grid in the period, and the share where someone answered the door."""
    answered = func.sum(case((Visit.outcome.in_(VISITED_OUTCOMES), 1), else_=0))
    rows = db.session.execute(select(Visit.grid_id, func.count(Visit.id), answered).where(
        Visit.station_id == period.user.station_id, Visit.recorded_at >= period.start_utc,
        Visit.recorded_at < period.end_utc).group_by(Visit.grid_id)).all()
    total = {g: n for g, n, _a in rows}
    return [Column("visits", _("Visits"), total, order=40, better="up"),
            Column("visits_answered", _("Someone at home"), {g: int(a or 0) for g, _n, a in rows}, of=total,
                   order=41, better="up")]


register(Source("visits", version=version, counts=counts, layers=layers, feed=feed, grid_today=grid_today,
                measures=measures))
