"""Visits on the command room's screen and in its analysis (blueprints.command.sources): a fixed
number of aggregated queries each, whatever the number of visits."""
from operator import itemgetter

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import Integer, String, bindparam, case, cast, func, literal, select

from blueprints.command.sources import (Column, Count, FeedItem, Layer, Source, feed_columns, feed_member, fetch,
                                        fetch_tuples, joined, memoized, micro, register, tally)
from models import Address, FollowUp, Place, RentalHousehold, Resident, User, Visit
from models.types import UTCDateTime
from models.visits import NO_ONE_HOME, VISITED_OUTCOMES

LAYER_LIMIT = 500


def _today(today):
    return (Visit.station_id == today.user.station_id, Visit.recorded_at >= today.start,
            Visit.recorded_at < today.end)


def _overdue(today):
    return (FollowUp.station_id == today.user.station_id, FollowUp.done_visit_id.is_(None),
            FollowUp.due_on < today.day)


def version(today):
    # Today's visits only (what the screen shows): a range of the (station, recorded_at) index, where
    # max(id) over the whole station read every visit's index entry (~1.3 ms at station scale).
    return [select(func.max(Visit.id)).where(*_today(today)).scalar_subquery(),
            select(func.count(FollowUp.id)).where(*_overdue(today)).scalar_subquery()]


def tallies(today):
    """Today's visits per grid and the overdue follow-ups, as rows of the command screen's one UNION ALL
    of every source's tallies (built once per station and day) instead of three statements of their own."""
    return memoized(("visits", today.user.station_id, today.day), lambda: [
        select(*tally("visits.day", Visit.grid_id, None, func.count(Visit.id))).where(*_today(today))
        .group_by(Visit.grid_id),
        select(*tally("visits.overdue", None, None, func.count(FollowUp.id))).where(*_overdue(today))])


def fold(today, rows):
    """The counts (visits today, follow-ups overdue) and the per-grid visits column, from the tally rows."""
    per_grid = {grid_id: int(n) for grid_id, _k, n, *_rest in rows.get("visits.day", ())}
    overdue = sum(int(n or 0) for _g, _k, n, *_rest in rows.get("visits.overdue", ()))
    coverage = url_for("visits.coverage_page")
    return ([Count("visits_today", _("Visits"), sum(per_grid.values()), 40, url_for("visits.index")),
             Count("follow_ups_overdue", _("Follow-ups overdue"), overdue, 42, coverage, alert=True)],
            [Column("visits_today", _("Visits"), per_grid, order=40)])


def _subject():
    """The visit's subject as the database writes it (blueprints.visits.subjects.subject_label's
    rules): the resident's name, the household's address (its non-empty parts joined by spaces, or
    "#<id>" without an address) or the place's name; "—" when the subject is gone."""
    address = joined(Address.community, Address.street, Address.building, Address.unit, Address.room)
    household = case((RentalHousehold.id.is_(None), literal("—")), (Address.id.is_not(None), address),
                     else_=literal("#") + cast(RentalHousehold.id, String))
    return case((Visit.subject_type == "resident", func.coalesce(Resident.name, literal("—"))),
                (Visit.subject_type == "household", household),
                else_=func.coalesce(Place.name, literal("—")))


def _with_subject(statement):
    """The joins _subject() reads."""
    return (statement.outerjoin(Resident, Resident.id == Visit.resident_id)
            .outerjoin(Place, Place.id == Visit.place_id)
            .outerjoin(RentalHousehold, RentalHousehold.id == Visit.household_id)
            .outerjoin(Address, Address.id == RentalHousehold.address_id))


_newest_recorded = (Visit.recorded_at.desc(), Visit.id.desc())  # what the screen calls today's newest visits


def layers(today):
    """Today's newest visits (by the device's time) that have a position: the database writes each
    marker as the map draws it (microdegrees, "officer · subject", no one home 1/0, the visit's id),
    so there is no work per row here (see blueprints.command.sources.fetch_tuples)."""
    station, day = today.user.station_id, today.day
    rows = fetch_tuples(memoized(("visits.layer", station, day), lambda: _layer_statement(today)))
    # (With no marker the layer's prefix stays empty, as the compacted layer of marker dicts had it.)
    prefix = url_for("visits.show", visit_id=1)[:-1] if rows else ""
    return [Layer("visits", _("Visits"), "#1b6e20", today.markers(rows), 40, url=prefix)]


def _layer_statement(today):
    # The newest LAYER_LIMIT visits of the day, then those with a position (as the map always did).
    newest = _with_subject(
        select(Visit.id, Visit.lat, Visit.lon, Visit.recorded_at,
               (User.name + " · " + _subject()).label("label"),
               case((Visit.outcome == NO_ONE_HOME, 1), else_=0).label("alert"))
        .join(User, User.id == Visit.officer_id)).where(*_today(today)).order_by(*_newest_recorded) \
        .limit(LAYER_LIMIT).subquery()
    # (The id as text: the markers' link suffix has always travelled as a string.)
    return (select(micro(newest.c.lat), micro(newest.c.lon), newest.c.label, newest.c.alert,
                   cast(newest.c.id, String))
            .where(newest.c.lat.is_not(None)).order_by(newest.c.recorded_at.desc(), newest.c.id.desc()))


def feed_union(today, limit):
    """Today's newest visits by the device's time, as a member of the screen's feed (one UNION ALL of
    every source's newest lines): received time, their order (seq: 1 the newest), the visit's id,
    via, officer, subject and outcome."""
    station, day = today.user.station_id, today.day
    return [memoized(("visits.feed", station, day, limit), lambda: feed_member(_with_subject(
        select(*feed_columns("visits", Visit.received_at, func.row_number().over(order_by=_newest_recorded),
                             Visit.id, Visit.via, who=User.name, t1=_subject(), t2=Visit.outcome))
        .join(User, User.id == Visit.officer_id)).where(*_today(today)).order_by(*_newest_recorded).limit(limit)))]


def feed_fold(today, rows):
    """The visits' feed lines ("subject · outcome"), newest recorded first."""
    prefix, kind = url_for("visits.show", visit_id=1)[:-1], _("Visit")
    labels = {outcome: _label(outcome) for outcome in ("met", "no_one_home", "refused")}
    return [FeedItem(received_at, kind, f"{subject} · {labels.get(outcome, outcome)}", officer, f"{prefix}{visit_id}",
                     synced=via == "sync")
            for received_at, _seq, visit_id, via, _flag, officer, subject, outcome
            in sorted(rows.get("visits", ()), key=_seq)]


_seq = itemgetter(1)


def _label(outcome: str) -> str:
    return {"met": _("Met"), "no_one_home": _("No one home"), "refused": _("Refused")}.get(outcome, outcome)


def measures(period):
    """Visits per grid in the period, and the share where someone answered the door."""
    return compare(period, period)[0]


def compare(period, previous):
    """Both periods' visits per grid and the share where someone answered the door: one statement
    over previous..period (grouped by which period), built once with bind parameters."""
    per_period = [({}, {}), ({}, {})]
    for later, grid_id, n, n_answered in fetch(memoized(("visits.compare",), _compare_statement), {
            "station": period.user.station_id, "first": previous.start_utc, "split": period.start_utc,
            "end": period.end_utc}):
        per_period[later][0][grid_id] = n
        per_period[later][1][grid_id] = int(n_answered or 0)
    return tuple([Column("visits", _("Visits"), total, order=40, better="up"),
                  Column("visits_answered", _("Someone at home"), answered, of=total, order=41, better="up")]
                 for total, answered in (per_period[1], per_period[0]))


def _compare_statement():
    later = case((Visit.recorded_at >= bindparam("split", type_=UTCDateTime), 1), else_=0)
    answered = func.sum(case((Visit.outcome.in_(VISITED_OUTCOMES), 1), else_=0))
    return (select(later, Visit.grid_id, func.count(Visit.id), answered)
            .where(Visit.station_id == bindparam("station", type_=Integer),
                   Visit.recorded_at >= bindparam("first", type_=UTCDateTime),
                   Visit.recorded_at < bindparam("end", type_=UTCDateTime))
            .group_by(later, Visit.grid_id))


register(Source("visits", version=version, tallies=tallies, fold=fold, layers=layers, feed_union=feed_union,
                feed_fold=feed_fold, measures=measures, compare=compare))
