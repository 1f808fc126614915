"""Who to visit: the focus residents of my grids not visited lately, nearest first, with a time to try.

Focus residents: tagged 独居老人 (elderly_alone) or 走失风险 (wander_risk), tenants of a rental whose
inspection is overdue (the rentals ledger's own rule), and residents named by an open task of mine
(Task.source "resident:<id>"). Three statements whatever the data size: the task sources, the
candidates with their names and reasons (their last visit from resident_visit_states, kept on
write; a bounding box and a cheap planar ordering in SQL), and the hours of their earlier visits;
the exact distance (domain.geo.distance_m) is computed only for the candidates read.
"""
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import and_, case, exists, or_, select, union

from blueprints.rentals import ledger
from blueprints.residents import people
from blueprints.visits.timing import suggest_period
from domain.geo import bounding_box, distance_m
from extensions import db
from models import Address, Resident, Task, Tenancy, Visit, utcnow
from models.visits import ResidentVisitState
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


def _task_resident_ids(user) -> list[int]:
    """Residents named by the officer's open tasks (their own, or their grids' unclaimed ones)."""
    mine = Task.assignee_id == user.id
    if user.grid_ids:
        mine = or_(mine, and_(Task.assignee_id.is_(None), Task.grid_id.in_(user.grid_ids)))
    sources = db.session.scalars(select(Task.source).where(
        Task.station_id == user.station_id, Task.status.in_(OPEN_STATUSES), Task.source.like("resident:%"), mine))
    ids = set()
    for source in sources:
        tail = source.split(":", 1)[1].strip()
        if tail.isdigit() and 0 < int(tail) <= 2**31 - 1:
            ids.add(int(tail))
    return sorted(ids)


def _reason_columns(user, task_ids):
    """Each reason as a SQL condition over Resident (evaluated only for the rows shown), and the SQL
    condition of an inspection-overdue household of the station."""
    overdue = ledger._flags(people.today_local(), ledger.Rules.from_config())["inspection_overdue"]
    overdue_households = select(ledger.H.id).where(ledger.H.station_id == user.station_id, overdue)
    reasons = {
        "elderly_alone": Resident.tags.like("% elderly_alone %"),
        "wander_risk": Resident.tags.like("% wander_risk %"),
        "rental_overdue": exists().where(Tenancy.resident_id == Resident.id, Tenancy.move_out.is_(None),
                                         Tenancy.household_id.in_(overdue_households)),
        "task": Resident.id.in_(task_ids) if task_ids else None,
    }
    return {name: condition for name, condition in reasons.items() if condition is not None}, overdue_households


def _candidates(user, task_ids, overdue_households, since, box):
    """The station's focus residents, tenants of overdue rentals and tasked residents in the user's
    grids (and `box`), not visited since `since`: (id, lat, lon, last visit) rows, one UNION whose
    parts each start from an index (the focus residents' (station, is_focus, address) index, the
    overdue households' tenancies, the task ids) and read the last visit from resident_visit_states."""
    def part(query, station=Resident.station_id == user.station_id):
        query = (query.join(Address, Resident.address_id == Address.id)
                 .outerjoin(ResidentVisitState, ResidentVisitState.resident_id == Resident.id)
                 .where(station, or_(ResidentVisitState.last_visited_at.is_(None), ResidentVisitState.last_visited_at < since)))
        if user.role == COMMUNITY:
            query = query.where(Address.grid_id.in_(user.grid_ids or [-1]))
        if box:
            south, west, north, east = box
            query = query.where(Address.lat.between(south, north), Address.lon.between(west, east))
        return query

    columns = (Resident.id, Address.lat, Address.lon, ResidentVisitState.last_visited_at)
    parts = [part(select(*columns).where(Resident.is_focus.is_(True))),
             part(select(*columns).select_from(Tenancy).join(Resident, Tenancy.resident_id == Resident.id)
                  .where(Tenancy.household_id.in_(overdue_households), Tenancy.move_out.is_(None)),
                  # "+ 0": not a condition an index can serve, so SQLite (which has no statistics
                  # here) starts from the few overdue households, not from every resident.
                  station=Resident.station_id + 0 == user.station_id)]
    if task_ids:
        parts.append(part(select(*columns).where(Resident.id.in_(task_ids))))
    # UNION (not ALL): a focus resident who is also a tenant of an overdue rental is one row.
    return union(*parts).subquery()


def who_to_visit(user, position: tuple[float, float] | None = None) -> list[PlanRow]:
    """Focus residents of the user's grids not visited for VISIT_FOCUS_DAYS, nearest first when
    `position` (WGS-84) is given and within VISIT_PLAN_RADIUS_M of it, else longest unvisited first."""
    task_ids = _task_resident_ids(user)
    reasons, overdue_households = _reason_columns(user, task_ids)
    since = utcnow() - timedelta(days=focus_days())
    box = bounding_box(*position, plan_radius_m()) if position else None
    candidates = _candidates(user, task_ids, overdue_households, since, box)
    kept = select(candidates)
    if position:
        lat0, lon0 = position
        # Planar distance in degrees, longitude shrunk by cos(latitude): plain arithmetic on every
        # database, good enough to order a few kilometres; the exact distance is computed below.
        shrink = math.cos(math.radians(lat0))
        planar = (candidates.c.lat - lat0) * (candidates.c.lat - lat0) + \
            (candidates.c.lon - lon0) * shrink * (candidates.c.lon - lon0) * shrink
        kept = kept.order_by(planar, candidates.c.id).limit(CANDIDATE_LIMIT).subquery("kept")
        order = ()  # sorted below by the exact distance
    else:
        last = candidates.c.last_visited_at
        kept = kept.order_by(case((last.is_(None), 0), else_=1), last, candidates.c.id).limit(PLAN_LIMIT) \
            .subquery("kept")
        order = (case((kept.c.last_visited_at.is_(None), 0), else_=1), kept.c.last_visited_at, kept.c.id)
    # The name and the reasons only for the rows kept (the CASEs run on at most CANDIDATE_LIMIT rows).
    found = db.session.execute(
        select(kept.c.id, kept.c.lat, kept.c.lon, kept.c.last_visited_at, Resident.name,
               *[case((condition, 1), else_=0).label(name) for name, condition in reasons.items()])
        .join(Resident, Resident.id == kept.c.id).order_by(*order)).all()
    rows = [PlanRow(ResidentRef(row.id, row.name), [name for name in REASONS if getattr(row, name, 0)],
                    row.last_visited_at, row.lat, row.lon) for row in found]
    if position:
        radius = plan_radius_m()
        for row in rows:
            row.distance_m = distance_m(lat0, lon0, row.lat, row.lon)
        rows = sorted((r for r in rows if r.distance_m <= radius), key=lambda r: (r.distance_m, r.resident.id))
        rows = rows[:PLAN_LIMIT]
    _add_suggestions(rows)
    return rows


def _add_suggestions(rows: list[PlanRow]) -> None:
    """For residents with unanswered visits: the part of the day to try next (one statement)."""
    if not rows:
        return
    hours: dict[int, tuple[list[int], list[int]]] = {r.resident.id: ([], []) for r in rows}
    for resident_id, hour, outcome in db.session.execute(
            select(Visit.resident_id, Visit.local_hour, Visit.outcome)
            .where(Visit.resident_id.in_(list(hours)), Visit.outcome.in_((NO_ONE_HOME, MET)))):
        hours[resident_id][0 if outcome == NO_ONE_HOME else 1].append(hour)
    for row in rows:
        missed, met = hours[row.resident.id]
        row.missed, row.hours = len(missed), sorted(set(missed))
        row.suggestion = suggest_period(missed, met)
