"""Visits on the command room's screen and in its analysis (blueprints.command.sources): a fixed
number of aggregated queries each, whatever the number of visits."""
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import Integer, bindparam, case, func, select

from blueprints.command.sources import Column, Count, FeedItem, Layer, Source, fetch, memoized, register, run, tally
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


def _visits_today(today, limit):
    """Today's visits, newest first, as columns (no ORM objects): id, position, outcome, times, via,
    the officer's name and the subject's label (blueprints.visits.subjects.subject_label's rules)."""
    address = (Address.community, Address.street, Address.building, Address.unit, Address.room)
    # The statement built once per station, day and limit (the screen's feed and the map's layer ask
    # on every request), run without the ORM's per-row layer: see blueprints.command.sources.
    rows = run(memoized(("visits.today", today.user.station_id, today.day, limit), lambda: (
        select(Visit.id, Visit.lat, Visit.lon, Visit.outcome, Visit.received_at, Visit.recorded_at, Visit.via,
               User.name, Visit.subject_type, Resident.name, Place.name, RentalHousehold.id, Address.id, *address)
        .join(User, User.id == Visit.officer_id).outerjoin(Resident, Resident.id == Visit.resident_id)
        .outerjoin(Place, Place.id == Visit.place_id).outerjoin(RentalHousehold, RentalHousehold.id == Visit.household_id)
        .outerjoin(Address, Address.id == RentalHousehold.address_id)
        .where(*_today(today)).order_by(Visit.recorded_at.desc(), Visit.id.desc()).limit(limit)))).all()
    visits = []
    for (visit_id, lat, lon, outcome, received_at, recorded_at, via, officer, subject_type, resident, place,
         household_id, address_id, *parts) in rows:
        if subject_type == "resident":
            subject = resident
        elif subject_type == "household":
            subject = (" ".join(p for p in parts if p) if address_id is not None else f"#{household_id}") \
                if household_id is not None else None
        else:
            subject = place
        visits.append((visit_id, lat, lon, outcome, received_at, recorded_at, via, officer,
                       subject if subject is not None else "—"))
    return visits


def layers(today):
    prefix = url_for("visits.show", visit_id=1)[:-1]
    markers = []
    for visit_id, lat, lon, outcome, _received, _recorded, _via, officer, subject in _visits_today(today, LAYER_LIMIT):
        if lat is None:
            continue
        lat, lon = today.position(lat, lon)
        markers.append({"lat": lat, "lon": lon, "alert": outcome == NO_ONE_HOME, "url": f"{prefix}{visit_id}",
                        "label": f"{officer} · {subject}"})
    return [Layer("visits", _("Visits"), "#1b6e20", markers, 40)]


def feed(today, limit):
    prefix, kind = url_for("visits.show", visit_id=1)[:-1], _("Visit")
    labels = {outcome: _label(outcome) for outcome in ("met", "no_one_home", "refused")}
    return [FeedItem(received_at, kind, f"{subject} · {labels.get(outcome, outcome)}", officer, f"{prefix}{visit_id}",
                     recorded_at=recorded_at, synced=via == "sync")
            for visit_id, _lat, _lon, outcome, received_at, recorded_at, via, officer, subject
            in _visits_today(today, limit)]


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


register(Source("visits", version=version, tallies=tallies, fold=fold, layers=layers, feed=feed, measures=measures,
                compare=compare))
