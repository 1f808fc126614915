"""Patrol on the command room's screen and in its analysis: check-ins, officers' positions, compliance."""
from collections import defaultdict
from operator import itemgetter

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import Date, Integer, String, and_, bindparam, case, func, select, type_coerce

from blueprints.command.sources import (Column, Count, FeedItem, Layer, Source, add_hours, feed_columns, feed_member,
                                        fetch, fetch_tuples, local_hour_minute, memoized, micro, register, run, tally,
                                        utc_hour)
from blueprints.patrol import reports
from blueprints.patrol import services as patrol
from models import CheckIn, Grid, PatrolPoint, User, user_grids
from models.patrols import PatrolDayTotal
from models.users import COMMUNITY

LAYER_LIMIT = 2000  # a station's busiest day is a few hundred check-ins


def _flagged():
    return func.sum(case((CheckIn.flags != "", 1), else_=0))


def version(today):
    return [select(func.max(CheckIn.id)).where(CheckIn.station_id == today.user.station_id,
                                               CheckIn.local_day == today.day).scalar_subquery()]


def tallies(today):
    """Today's check-ins per (grid, officer), and per grid the required points' capped done count, the
    officers and the points' daily requirement: the numbers of the counts row and of patrol's
    compliance report for one day (tests/test_command.py checks they agree), as tally rows."""
    station, day = today.user.station_id, today.day
    return memoized(("patrol", station, day), lambda: _tallies(station, day))


def _tallies(station, day):
    officer = and_(User.id == user_grids.c.user_id, User.station_id == station, User.role == COMMUNITY,
                   User.active.is_(True))
    required = and_(PatrolPoint.station_id == station, PatrolPoint.active.is_(True), PatrolPoint.required_per_day > 0)
    done, _outside = patrol.done_counts()
    daily = (select(CheckIn.officer_id, CheckIn.point_id, done.label("done"))
             .where(CheckIn.station_id == station, CheckIn.local_day == day, CheckIn.point_id.is_not(None))
             .group_by(CheckIn.officer_id, CheckIn.point_id).subquery())
    capped = case((daily.c.done > PatrolPoint.required_per_day, PatrolPoint.required_per_day), else_=daily.c.done)
    return [
        select(*tally("patrol.day", CheckIn.grid_id, CheckIn.officer_id, func.count(CheckIn.id), _flagged()))
        .where(CheckIn.station_id == station, CheckIn.local_day == day).group_by(CheckIn.grid_id, CheckIn.officer_id),
        # Done at a required point counts (up to its daily requirement) for an officer of the point's grid.
        select(*tally("patrol.done", PatrolPoint.grid_id, None, func.sum(capped)))
        .select_from(daily).join(PatrolPoint, and_(PatrolPoint.id == daily.c.point_id, required))
        .join(user_grids, and_(user_grids.c.user_id == daily.c.officer_id, user_grids.c.grid_id == PatrolPoint.grid_id))
        .join(User, officer).group_by(PatrolPoint.grid_id),
        select(*tally("patrol.officers", user_grids.c.grid_id, None, func.count()))
        .select_from(user_grids).join(User, officer).group_by(user_grids.c.grid_id),
        select(*tally("patrol.required", PatrolPoint.grid_id, None, func.sum(PatrolPoint.required_per_day)))
        .where(required).group_by(PatrolPoint.grid_id),
    ]


def fold(today, rows):
    """Counts (check-ins, flagged, officers on patrol) and per-grid columns from the tally rows."""
    checkins, flagged, officers = {}, {}, set()
    for grid_id, officer_id, n, n_flagged, _zero in rows.get("patrol.day", ()):
        checkins[grid_id] = checkins.get(grid_id, 0) + int(n)
        flagged[grid_id] = flagged.get(grid_id, 0) + int(n_flagged or 0)
        officers.add(officer_id)
    done = {grid_id: int(n or 0) for grid_id, _k, n, *_rest in rows.get("patrol.done", ())}
    per_officer = {grid_id: int(n or 0) for grid_id, _k, n, *_rest in rows.get("patrol.required", ())}
    # Every community officer of a grid owes the grid's points each day (patrol's report, one day).
    required = {grid_id: int(n) * per_officer.get(grid_id, 0)
                for grid_id, _k, n, *_rest in rows.get("patrol.officers", ())}
    feed = url_for("patrol.feed")
    counts = [Count("checkins", _("Check-ins"), sum(checkins.values()), 10, feed),
              Count("flagged", _("Flagged check-ins"), sum(flagged.values()), 70, feed, alert=True),
              Count("officers_active", _("Officers on patrol"), len(officers), 80, feed)]
    columns = [Column("checkins", _("Check-ins"), checkins, order=10),
               Column("flagged", _("Flagged"), flagged, order=70, better="down"),
               Column("points_done", _("Points done"), {g: done.get(g, 0) for g in required}, of=required,
                      order=15, better="up")]
    return counts, columns


_by_time = itemgetter(4, 5)  # (recorded_at, id): a plain key, not the rows' own (slow) comparison


def layers(today):
    """Today's check-ins and, from the same rows, each officer's latest one: one query. The database
    gives each marker as the map draws it (position in microdegrees, label "officer · point · HH:MM"
    in station time, flag 0/1), so no datetime object, rounding or string formatting per row here;
    and the device time as stored, to sort by."""
    station, day = today.user.station_id, today.day
    rows = fetch_tuples(memoized(("patrol.layer", station, day), lambda: (
        select(micro(CheckIn.lat), micro(CheckIn.lon),
               User.name + " · " + func.coalesce(func.nullif(PatrolPoint.name, ""), "—") + " · "
               + local_hour_minute(CheckIn.recorded_at),
               case((CheckIn.flags != "", 1), else_=0),
               type_coerce(CheckIn.recorded_at, String), CheckIn.id, CheckIn.officer_id)
        .join(User, User.id == CheckIn.officer_id).outerjoin(PatrolPoint, PatrolPoint.id == CheckIn.point_id)
        .where(CheckIn.station_id == station, CheckIn.local_day == day, CheckIn.lat.is_not(None))
        .limit(LAYER_LIMIT))))
    # Sorted here, not in SQL: an ORDER BY recorded_at tempts SQLite onto the (station, recorded_at)
    # index, a walk through the whole year, instead of the (station, local_day) one. (The stored
    # timestamps sort as they are: ISO text on SQLite, timestamps on PostgreSQL.)
    rows.sort(key=_by_time, reverse=True)
    latest = {}
    for row in rows:
        if row[6] not in latest:
            latest[row[6]] = (*row[:3], 0)
    return [Layer("checkins", _("Check-ins today"), "#0b3d91", today.markers([row[:4] for row in rows]), 10, url=""),
            Layer("officers", _("Officers' last position"), "#1b6e20", today.markers(list(latest.values())), 20,
                  url="")]


def feed_union(today, limit):
    """The station's check-ins of the day, newest received first, as a member of the screen's feed."""
    station, day = today.user.station_id, today.day
    return [memoized(("patrol.feed", station, day, limit), lambda: feed_member(
        select(*feed_columns("patrol", CheckIn.received_at, CheckIn.id, via=CheckIn.via,
                             flag=case((CheckIn.flags != "", 1), else_=0), who=User.name, t1=PatrolPoint.name))
        .join(User, User.id == CheckIn.officer_id)
        .outerjoin(PatrolPoint, PatrolPoint.id == CheckIn.point_id)
        .where(CheckIn.station_id == station, CheckIn.local_day == day)
        .order_by(CheckIn.received_at.desc(), CheckIn.id.desc()).limit(limit)))]


def feed_fold(today, rows):
    """The check-ins' feed lines (the point, or none), newest received first."""
    url = url_for("patrol.feed")
    kind, at_point, no_point = _("Patrol"), _("Check-in at %(point)s"), _("Check-in without a point")
    lines = sorted(rows.get("patrol", ()), key=_received, reverse=True)
    return [FeedItem(received_at, kind, at_point % {"point": point} if point is not None else no_point, officer, url,
                     synced=via == "sync", alert=bool(flagged))
            for received_at, _id, _ref, via, flagged, officer, point, _t2 in lines]


_received = itemgetter(0, 1)  # (received_at, id) of a feed row


def compliance_by_grid(station_id: int, start, end) -> dict:
    """Patrol compliance per grid over a period: the numbers of patrol's report (reports.compliance
    by_grid), whatever the number of days (see _compliance)."""
    return _compliance(station_id, start, end, start)[1]


def _compliance_statements():
    """_compliance's three statements, built once (bind parameters station, first, end, split)."""
    station = bindparam("station", type_=Integer)
    first, end = bindparam("first", type_=Date), bindparam("end", type_=Date)
    points = (select(PatrolPoint.id, PatrolPoint.grid_id, PatrolPoint.active, PatrolPoint.required_per_day)
              .where(PatrolPoint.station_id == station))
    officers = (select(User.id, Grid.id).join(user_grids, user_grids.c.user_id == User.id)
                .join(Grid, Grid.id == user_grids.c.grid_id)
                .where(User.station_id == station, User.role == COMMUNITY, User.active.is_(True))
                .order_by(User.id, Grid.code))
    # The check-ins' counts per station, officer, point (0: none) and day kept on write
    # (patrol_day_totals, as patrol's report reads them): the rows of the report's officers and the
    # station's points only, each pair's days one run of the table's key.
    t = PatrolDayTotal
    cap = case((and_(PatrolPoint.active.is_(True), PatrolPoint.required_per_day > 0), PatrolPoint.required_per_day),
               else_=0)
    later = case((t.local_day >= bindparam("split", type_=Date), 1), else_=0)
    totals = (select(later, t.officer_id, t.point_id, func.sum(case((t.done > cap, cap), else_=t.done)),
                     func.sum(t.outside_window), func.sum(t.flagged), func.sum(t.check_ins))
              .outerjoin(PatrolPoint, PatrolPoint.id == t.point_id)
              .where(t.station_id == station, t.officer_id.in_(bindparam("officer_ids", expanding=True)),
                     t.point_id.in_(bindparam("point_ids", expanding=True)), t.local_day >= first,
                     t.local_day <= end)
              .group_by(later, t.officer_id, t.point_id))
    return points, officers, totals


def _compliance(station_id: int, first, end, split) -> tuple[dict, dict]:
    """Per grid compliance of the days first..split-1 and of split..end, in four queries and ~2 x
    officers x points rows, whatever the number of days.

    reports.compliance reads one row per officer, point and day (~40,000 for a year: over a second
    in Python). Here the cap "done counts at most required_per_day per point and day" is applied in
    SQL to the same kept day rows (patrol_day_totals), summed per officer, point and period; the
    assembly mirrors the report (officer's grids, check-ins without a point in the officer's first
    grid). tests/test_command_analysis.py checks both agree. (Grouping the check-ins themselves per
    day first read every check-in of both periods: 3.0 ms for a fortnight at station scale, 1.5 ms
    from the kept rows.)
    """
    points_query, officers_query, totals_query = memoized(("patrol.compliance",), _compliance_statements)
    params = {"station": station_id, "first": first, "end": end, "split": split}
    points = run(points_query, params).all()
    point_grid = {point_id: grid_id for point_id, grid_id, _active, _required in points}
    required_by_grid = defaultdict(int)
    for _id, grid_id, active, required in points:
        if active and required > 0:
            required_by_grid[grid_id] += required
    # Each active community officer's grids in the report's order (the first one takes the
    # check-ins without a point).
    officer_grids = defaultdict(list)
    for officer_id, grid_id in fetch(officers_query, params):
        officer_grids[officer_id].append(grid_id)
    params["officer_ids"] = list(officer_grids) or [0]
    params["point_ids"] = [0, *point_grid]
    rows = fetch(totals_query, params)
    seen = defaultdict(reports.Tally)  # (later, officer, grid or None) -> counts over the period
    for is_later, officer_id, point_id, n_done, n_outside, n_flagged, n_all in rows:
        tally = seen[(int(is_later), officer_id, point_grid.get(point_id))]
        tally.done += int(n_done or 0)
        tally.outside_window += int(n_outside or 0)
        tally.flagged += int(n_flagged or 0)
        tally.check_ins += int(n_all or 0)

    result = []
    for is_later, days in ((0, (split - first).days), (1, (end - split).days + 1)):
        by_grid = defaultdict(reports.Tally)
        for officer_id, grids in officer_grids.items():
            for index, grid_id in enumerate(grids):
                tally = by_grid[grid_id]
                tally.add(reports.Tally(required=required_by_grid[grid_id] * days))
                tally.add(seen.get((is_later, officer_id, grid_id), reports.Tally()))
                if index == 0:
                    tally.add(seen.get((is_later, officer_id, None), reports.Tally()))
        result.append(dict(by_grid))
    return result[0], result[1]


def _measures(by_grid: dict) -> list[Column]:
    return [Column("patrol", _("Patrol compliance"), {g: t.done for g, t in by_grid.items()},
                   of={g: t.required for g, t in by_grid.items()}, order=10, better="up"),
            Column("checkins", _("Check-ins"), {g: t.check_ins for g, t in by_grid.items()}, order=11, better="up"),
            Column("flagged", _("Flagged check-ins"), {g: t.flagged for g, t in by_grid.items()}, order=12,
                   better="down"),
            Column("outside_window", _("Outside window"), {g: t.outside_window for g, t in by_grid.items()},
                   order=13, better="down")]


def measures(period):
    return _measures(compliance_by_grid(period.user.station_id, period.start, period.end))


def compare(period, previous):
    """Both periods' measures from one pass over the two periods' check-ins."""
    before, now = _compliance(period.user.station_id, previous.start, period.end, period.start)
    return _measures(now), _measures(before)


def hours(period):
    """Check-ins and flagged ones by local weekday and hour: 168 rows at most, grouped in SQL."""
    def build():
        bucket = utc_hour(CheckIn.recorded_at)
        return (select(bucket, func.count(CheckIn.id), _flagged())
                .where(CheckIn.station_id == bindparam("station", type_=Integer),
                       CheckIn.local_day >= bindparam("start", type_=Date),
                       CheckIn.local_day <= bindparam("end", type_=Date))
                .group_by(bucket))
    rows = fetch(memoized(("patrol.hours",), build),
               {"station": period.user.station_id, "start": period.start, "end": period.end})
    return add_hours({}, rows, flagged=True)


register(Source("patrol", version=version, tallies=tallies, fold=fold, layers=layers, feed_union=feed_union,
                feed_fold=feed_fold, measures=measures, compare=compare, hours=hours))
