"""Patrol on the command room's screen and in its analysis: check-ins, officers' positions, compliance."""
from collections import defaultdict

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import and_, case, extract, func, select
from sqlalchemy.orm import selectinload

from blueprints.command.sources import Column, Count, FeedItem, Layer, Source, add_hours, register
from blueprints.home.services import LOCAL_TZ
from blueprints.patrol import reports
from blueprints.patrol import services as patrol
from extensions import db
from models import CheckIn, PatrolPoint, User
from models.users import COMMUNITY

LAYER_LIMIT = 2000  # a station's busiest day is a few hundred check-ins


def _flagged():
    return func.sum(case((CheckIn.flags != "", 1), else_=0))


def version(today):
    return [select(func.max(CheckIn.id)).where(CheckIn.station_id == today.user.station_id,
                                               CheckIn.local_day == today.day).scalar_subquery()]


def counts(today):
    numbers = patrol.station_counts(today.user, today.start, today.end)
    feed = url_for("patrol.feed")
    return [Count("checkins", _("Check-ins"), numbers["checkins_today"], 10, feed),
            Count("flagged", _("Flagged check-ins"), numbers["flagged_today"], 70, feed, alert=True),
            Count("officers_active", _("Officers on patrol"), numbers["officers_active"], 80, feed)]


def layers(today):
    """Today's check-ins and, from the same rows, each officer's latest one: one query."""
    rows = db.session.execute(
        select(CheckIn.id, CheckIn.lat, CheckIn.lon, CheckIn.flags, CheckIn.recorded_at, CheckIn.officer_id,
               User.name, PatrolPoint.name)
        .join(User, User.id == CheckIn.officer_id).outerjoin(PatrolPoint, PatrolPoint.id == CheckIn.point_id)
        .where(CheckIn.station_id == today.user.station_id, CheckIn.local_day == today.day, CheckIn.lat.is_not(None))
        .limit(LAYER_LIMIT)).all()
    # Sorted here, not in SQL: an ORDER BY recorded_at tempts SQLite onto the (station, recorded_at)
    # index, a walk through the whole year, instead of the (station, local_day) one.
    rows.sort(key=lambda row: (row.recorded_at, row.id), reverse=True)
    check_ins, officers = [], {}
    for _id, lat, lon, flags, recorded_at, officer_id, officer, point in rows:
        lat, lon = today.position(lat, lon)
        label = f"{officer} · {point or '—'} · {recorded_at.astimezone(LOCAL_TZ):%H:%M}"
        check_ins.append({"lat": lat, "lon": lon, "label": label, "alert": bool(flags)})
        officers.setdefault(officer_id, {"lat": lat, "lon": lon, "label": label, "alert": False})
    return [Layer("checkins", _("Check-ins today"), "#0b3d91", check_ins, 10),
            Layer("officers", _("Officers' last position"), "#1b6e20", list(officers.values()), 20)]


def feed(today, limit):
    """The station's check-ins of the day, newest received first (patrol's own feed query)."""
    items = []
    for c in patrol.feed(today.user.station_id, today.day)[:limit]:
        text = _("Check-in at %(point)s", point=c.point.name) if c.point else _("Check-in without a point")
        items.append(FeedItem(c.received_at, _("Patrol"), text, c.officer.name, url_for("patrol.feed"),
                              recorded_at=c.recorded_at, synced=c.via == "sync", alert=bool(c.flags)))
    return items


def grid_today(today):
    """Per grid: check-ins, flagged, and today's required points done (patrol's compliance report)."""
    rows = db.session.execute(
        select(CheckIn.grid_id, func.count(CheckIn.id), _flagged())
        .where(CheckIn.station_id == today.user.station_id, CheckIn.local_day == today.day)
        .group_by(CheckIn.grid_id)).all()
    report = reports.compliance(today.user.station_id, today.day, today.day)
    return [Column("checkins", _("Check-ins"), {g: n for g, n, _f in rows}, order=10),
            Column("flagged", _("Flagged"), {g: int(f or 0) for g, _n, f in rows}, order=70, better="down"),
            Column("points_done", _("Points done"), {g.id: t.done for g, t in report.by_grid},
                   of={g.id: t.required for g, t in report.by_grid}, order=15, better="up")]


def compliance_by_grid(station_id: int, start, end) -> dict:
    """Patrol compliance per grid over a period: the numbers of patrol's report (reports.compliance
    by_grid) in four queries and ~officers x points rows, whatever the number of days.

    reports.compliance reads one row per officer, point and day (~40,000 for a year: over a second
    in Python). Here the cap "done counts at most required_per_day per point and day" is applied in
    SQL by a GROUP BY over a GROUP BY; the assembly mirrors the report (officer's grids, check-ins
    without a point in the officer's first grid). tests/test_command_analysis.py checks both agree.
    """
    points = list(db.session.scalars(select(PatrolPoint).where(PatrolPoint.station_id == station_id)))
    point_grid = {p.id: p.grid_id for p in points}
    required_by_grid = defaultdict(int)
    for p in points:
        if p.active and p.required_per_day > 0:
            required_by_grid[p.grid_id] += p.required_per_day
    officers = list(db.session.scalars(select(User).options(selectinload(User.grids)).where(
        User.station_id == station_id, User.role == COMMUNITY, User.active.is_(True))))

    done, outside = patrol.done_counts()
    daily = (select(CheckIn.officer_id, CheckIn.point_id, done.label("done"), outside.label("outside"),
                    _flagged().label("flagged"), func.count().label("n"))
             .where(CheckIn.station_id == station_id, CheckIn.local_day >= start, CheckIn.local_day <= end)
             .group_by(CheckIn.officer_id, CheckIn.point_id, CheckIn.local_day).subquery())
    cap = case((and_(PatrolPoint.active.is_(True), PatrolPoint.required_per_day > 0), PatrolPoint.required_per_day),
               else_=0)
    rows = db.session.execute(
        select(daily.c.officer_id, daily.c.point_id, func.sum(case((daily.c.done > cap, cap), else_=daily.c.done)),
               func.sum(daily.c.outside), func.sum(daily.c.flagged), func.sum(daily.c.n))
        .select_from(daily).outerjoin(PatrolPoint, PatrolPoint.id == daily.c.point_id)
        .group_by(daily.c.officer_id, daily.c.point_id)).all()
    seen = defaultdict(reports.Tally)  # (officer, grid or None) -> counts over the period
    for officer_id, point_id, n_done, n_outside, n_flagged, n_all in rows:
        tally = seen[(officer_id, point_grid.get(point_id))]
        tally.done += int(n_done or 0)
        tally.outside_window += int(n_outside or 0)
        tally.flagged += int(n_flagged or 0)
        tally.check_ins += int(n_all or 0)

    days = (end - start).days + 1
    by_grid = defaultdict(reports.Tally)
    for officer in officers:
        for index, grid in enumerate(officer.grids):
            tally = by_grid[grid.id]
            tally.add(reports.Tally(required=required_by_grid[grid.id] * days))
            tally.add(seen.get((officer.id, grid.id), reports.Tally()))
            if index == 0:
                tally.add(seen.get((officer.id, None), reports.Tally()))
    return dict(by_grid)


def measures(period):
    by_grid = compliance_by_grid(period.user.station_id, period.start, period.end)
    return [Column("patrol", _("Patrol compliance"), {g: t.done for g, t in by_grid.items()},
                   of={g: t.required for g, t in by_grid.items()}, order=10, better="up"),
            Column("checkins", _("Check-ins"), {g: t.check_ins for g, t in by_grid.items()}, order=11, better="up"),
            Column("flagged", _("Flagged check-ins"), {g: t.flagged for g, t in by_grid.items()}, order=12,
                   better="down"),
            Column("outside_window", _("Outside window"), {g: t.outside_window for g, t in by_grid.items()},
                   order=13, better="down")]


def hours(period):
    """Check-ins and flagged ones by local weekday and hour: 168 rows at most, grouped in SQL."""
    dow, hour = extract("dow", CheckIn.recorded_at), extract("hour", CheckIn.recorded_at)
    rows = db.session.execute(
        select(dow, hour, func.count(CheckIn.id), _flagged())
        .where(CheckIn.station_id == period.user.station_id, CheckIn.local_day >= period.start,
               CheckIn.local_day <= period.end)
        .group_by(dow, hour)).all()
    return add_hours({}, rows, flagged=True)


register(Source("patrol", version=version, counts=counts, layers=layers, feed=feed, grid_today=grid_today,
                measures=measures, hours=hours))
