"""Who to visit: the focus residents of my grids not visited lately, nearest first, with a time to try.

Focus residents: tagged 独居老人 (elderly_alone) or 走失风险 (wander_risk), tenants of a rental whose
inspection is overdue (the rentals ledger's own rule), and residents named by an open task of mine
(Task.source "resident:<id>"). Three statements whatever the data size: the task sources, the
candidates with their names and reasons (focus residents and tenants from visit_candidates, read by
grid and a bounding box from its index; their last visit from resident_visit_states; both kept on
write; a cheap planar ordering in SQL), and the hours of their earlier visits;
the exact distance (domain.geo.distance_m) is computed only for the candidates read.
"""
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from flask import current_app
from geopy.distance import EARTH_RADIUS
from sqlalchemy import Float, Integer, and_, bindparam, case, exists, func, or_, select, union

from blueprints.rentals import ledger
from blueprints.residents import people
from blueprints.visits.timing import suggest_period
from domain.geo import bounding_box
from extensions import db
from models import Address, Resident, Task, Visit, utcnow
from models.visits import ResidentVisitState, VisitCandidate
from models.tasks import OPEN_STATUSES
from models.users import COMMUNITY
from models.visits import MET, NO_ONE_HOME

PLAN_LIMIT = 50
# Rows read from SQL before the exact distance: the planar ordering differs from the great-circle
# one by well under 0.1 % within a few kilometres, so twice the rows shown is ample slack.
CANDIDATE_LIMIT = 2 * PLAN_LIMIT
REASONS = ("elderly_alone", "wander_risk", "rental_overdue", "task")


class ResidentRef(NamedTuple):
    """What the plan shows of a resident: the link and the name."""

    id: int
    name: str


@dataclass
class PlanRow:
    """One person to visit, why, when last visited, how far, and when to knock."""

    resident: ResidentRef
    reasons: list[str]
    last_visit: datetime | None
    lat: float | None
    lon: float | None
    distance_m: float | None = None
    suggestion: str | None = None
    missed: int = 0
    hours: list[int] = field(default_factory=list)


def focus_days() -> int:
    return int(current_app.config.get("VISIT_FOCUS_DAYS", 30))


def plan_radius_m() -> int:
    return int(current_app.config.get("VISIT_PLAN_RADIUS_M", 3000))  # a walk or a short ride


def _task_sources_statement(with_grids: bool):
    mine = Task.assignee_id == bindparam("user", type_=Integer)
    if with_grids:
        mine = or_(mine, and_(Task.assignee_id.is_(None),
                              Task.grid_id.in_(bindparam("grids", expanding=True, type_=Integer))))
    return select(Task.source).where(Task.station_id == bindparam("station", type_=Integer),
                                     Task.status.in_(OPEN_STATUSES), Task.source.like("resident:%"), mine)


# Built once with bind parameters (with and without the user's grids).
_TASK_SOURCES = {True: _task_sources_statement(True), False: _task_sources_statement(False)}
_VISIT_HOURS = select(Visit.resident_id, Visit.local_hour, Visit.outcome).where(
    Visit.resident_id.in_(bindparam("residents", expanding=True, type_=Integer)), Visit.outcome.in_((NO_ONE_HOME, MET)))


def _task_resident_ids(user) -> list[int]:
    """Residents named by the officer's open tasks (their own, or their grids' unclaimed ones)."""
    params = {"user": user.id, "station": user.station_id}
    if user.grid_ids:
        params["grids"] = list(user.grid_ids)
    # On the session's connection: plain rows, without the ORM's result layer.
    sources = db.session.connection().scalars(_TASK_SOURCES[bool(user.grid_ids)], params)
    ids = set()
    for source in sources:
        tail = source.split(":", 1)[1].strip()
        if tail.isdigit() and 0 < int(tail) <= 2**31 - 1:
            ids.add(int(tail))
    return sorted(ids)


# The plan's statement, built once per (day, rules, shape) with bind parameters for the rest: the
# station, the grids, the box, `since`, the position and the tasked residents.
_STATION = bindparam("station", type_=Integer)
_GRIDS = bindparam("grids", expanding=True, type_=Integer)
_TASKS = bindparam("tasks", expanding=True, type_=Integer)
_SINCE = bindparam("since", type_=ResidentVisitState.last_visited_at.type)
_SOUTH, _NORTH, _WEST, _EAST, _LAT0, _LON0, _SHRINK = (bindparam(name, type_=Float) for name in (
    "south", "north", "west", "east", "lat0", "lon0", "shrink"))


def _overdue_households(today, rules):
    """The SQL set of the station's households whose inspection is overdue (the ledger's rule)."""
    overdue = ledger._flags(today, rules)["inspection_overdue"]
    return select(ledger.H.id).where(ledger.H.station_id == _STATION, overdue)


def _candidates(overdue_households, community: bool, positioned: bool, tasked: bool):
    """The station's focus residents, tenants of overdue rentals and tasked residents in the user's
    grids (and the box), not visited since `since`: (id, lat, lon, last visit, overdue) rows, one per
    resident; `overdue` 1 for a tenant of an overdue rental. The first two come from visit_candidates
    (kept on write: every focus resident and every open tenancy, at the resident's address) by its
    (station, grid, lat, ...) index: a focus row, or a tenancy row of an overdue household; the
    tasked residents from their ids. The last visit from resident_visit_states."""
    c, other = VisitCandidate.__table__, VisitCandidate.__table__.alias("tenancy_rows")
    in_overdue = c.c.household_id.in_(overdue_households)
    candidates = (select(c.c.resident_id.label("id"), c.c.lat, c.c.lon, ResidentVisitState.last_visited_at,
                         func.max(case((in_overdue, 1), else_=0)).label("overdue"))
                  .outerjoin(ResidentVisitState, ResidentVisitState.resident_id == c.c.resident_id)
                  .where(c.c.station_id == _STATION, or_(c.c.is_focus.is_(True), in_overdue))
                  # A resident's rows share the address (lat, lon) and the last visit: one row each.
                  .group_by(c.c.resident_id, c.c.lat, c.c.lon, ResidentVisitState.last_visited_at))
    tasked_part = (select(Resident.id, Address.lat, Address.lon, ResidentVisitState.last_visited_at,
                          case((exists().where(other.c.resident_id == Resident.id,
                                               other.c.household_id.in_(overdue_households)), 1), else_=0))
                   .join(Address, Resident.address_id == Address.id)
                   .outerjoin(ResidentVisitState, ResidentVisitState.resident_id == Resident.id)
                   .where(Resident.station_id == _STATION, Resident.id.in_(_TASKS)))
    parts = []
    for query, grid, lat, lon in ((candidates, c.c.grid_id, c.c.lat, c.c.lon),
                                  (tasked_part, Address.grid_id, Address.lat, Address.lon)):
        query = query.where(or_(ResidentVisitState.last_visited_at.is_(None),
                                ResidentVisitState.last_visited_at < _SINCE))
        if community:
            query = query.where(grid.in_(_GRIDS))
        if positioned:
            query = query.where(lat.between(_SOUTH, _NORTH), lon.between(_WEST, _EAST))
        parts.append(query)
    # UNION (not ALL): a tasked resident who is also a focus resident or a tenant is one row (the
    # same values from both parts).
    return (union(*parts) if tasked else parts[0]).subquery()


@lru_cache(maxsize=32)
def _plan_statement(today, rules, community: bool, positioned: bool, tasked: bool):
    """The candidates kept (the CANDIDATE_LIMIT nearest by a planar distance, or the PLAN_LIMIT
    longest unvisited) with their names and reasons in REASONS' order (the CASEs run on those rows
    only)."""
    candidates = _candidates(_overdue_households(today, rules), community, positioned, tasked)
    kept = select(candidates)
    if positioned:
        # Planar distance in degrees, longitude shrunk by cos(latitude): plain arithmetic on every
        # database, good enough to order a few kilometres; the exact distance is computed after.
        planar = (candidates.c.lat - _LAT0) * (candidates.c.lat - _LAT0) + \
            (candidates.c.lon - _LON0) * _SHRINK * (candidates.c.lon - _LON0) * _SHRINK
        kept = kept.order_by(planar, candidates.c.id).limit(CANDIDATE_LIMIT).subquery("kept")
        order = ()  # sorted by the exact distance
    else:
        last = candidates.c.last_visited_at
        kept = kept.order_by(case((last.is_(None), 0), else_=1), last, candidates.c.id).limit(PLAN_LIMIT) \
            .subquery("kept")
        order = (case((kept.c.last_visited_at.is_(None), 0), else_=1), kept.c.last_visited_at, kept.c.id)
    reasons = [case((Resident.tags.like("% elderly_alone %"), 1), else_=0),
               case((Resident.tags.like("% wander_risk %"), 1), else_=0), kept.c.overdue]
    if tasked:
        reasons.append(case((Resident.id.in_(_TASKS), 1), else_=0))
    return (select(kept.c.id, kept.c.lat, kept.c.lon, kept.c.last_visited_at, Resident.name, *reasons)
            .join(Resident, Resident.id == kept.c.id).order_by(*order))


def who_to_visit(user, position: tuple[float, float] | None = None) -> list[PlanRow]:
    """Focus residents of the user's grids not visited for VISIT_FOCUS_DAYS, nearest first when
    `position` (WGS-84) is given and within VISIT_PLAN_RADIUS_M of it, else longest unvisited first."""
    task_ids = _task_resident_ids(user)
    community = user.role == COMMUNITY
    statement = _plan_statement(people.today_local(), ledger.Rules.from_config(), community, bool(position),
                                bool(task_ids))
    params = {"station": user.station_id, "since": utcnow() - timedelta(days=focus_days())}
    if community:
        params["grids"] = list(user.grid_ids or [-1])
    if task_ids:
        params["tasks"] = task_ids
    if position:
        lat0, lon0 = position
        south, west, north, east = bounding_box(lat0, lon0, plan_radius_m())
        params.update(south=south, north=north, west=west, east=east, lat0=lat0, lon0=lon0,
                      shrink=math.cos(math.radians(lat0)))
    found = db.session.connection().execute(statement, params).all()
    # The reason columns come in REASONS' order (the task one last, when there is one).
    rows = [PlanRow(ResidentRef(rid, name), [reason for reason, flag in zip(REASONS, flags) if flag], last, lat, lon)
            for rid, lat, lon, last, name, *flags in found]
    if position:
        radius = plan_radius_m()
        _add_distances(lat0, lon0, rows)
        rows = sorted((r for r in rows if r.distance_m <= radius), key=lambda r: (r.distance_m, r.resident.id))
        rows = rows[:PLAN_LIMIT]
    _add_suggestions(rows)
    return rows


def _add_distances(lat0: float, lon0: float, rows: list[PlanRow]) -> None:
    """Each row's great-circle distance from (lat0, lon0) in metres: domain.geo.distance_m's
    (geopy's great_circle) very formula and operations, so the very same floats, with the origin's
    sines and cosines computed once instead of once per row."""
    lat1, lng1 = math.radians(lat0), math.radians(lon0)
    sin_lat1, cos_lat1 = math.sin(lat1), math.cos(lat1)
    sin, cos, sqrt, atan2, radians = math.sin, math.cos, math.sqrt, math.atan2, math.radians
    for row in rows:
        lat2, lng2 = radians(row.lat), radians(row.lon)
        sin_lat2, cos_lat2 = sin(lat2), cos(lat2)
        delta_lng = lng2 - lng1
        cos_delta_lng, sin_delta_lng = cos(delta_lng), sin(delta_lng)
        d = atan2(sqrt((cos_lat2 * sin_delta_lng) ** 2 +
                       (cos_lat1 * sin_lat2 - sin_lat1 * cos_lat2 * cos_delta_lng) ** 2),
                  sin_lat1 * sin_lat2 + cos_lat1 * cos_lat2 * cos_delta_lng)
        row.distance_m = EARTH_RADIUS * d * 1000


def _add_suggestions(rows: list[PlanRow]) -> None:
    """For residents with unanswered visits: the part of the day to try next (one statement)."""
    if not rows:
        return
    hours: dict[int, tuple[list[int], list[int]]] = {r.resident.id: ([], []) for r in rows}
    for resident_id, hour, outcome in db.session.connection().execute(_VISIT_HOURS, {"residents": list(hours)}):
        hours[resident_id][0 if outcome == NO_ONE_HOME else 1].append(hour)
    for row in rows:
        missed, met = hours[row.resident.id]
        row.missed, row.hours = len(missed), sorted(set(missed))
        row.suggestion = suggest_period(missed, met)
