"""Who to visit: the focus residents of my grids not visited lately, nearest first, with a time to try.

Focus residents: tagged 独居老人 (elderly_alone) or 走失风险 (wander_risk), tenants of a rental whose
inspection is overdue (the rentals ledger's own rule), and residents named by an open task of mine
(Task.source "resident:<id>"). Three statements whatever the data size: the task sources, the
candidates (a bounding box and a cheap planar ordering in SQL), and the hours of their earlier
visits; the exact distance (domain.geo.distance_m) is computed only for the rows kept.
"""
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, exists, func, or_, select, union_all

from blueprints.rentals import ledger
from blueprints.residents import people
from blueprints.visits.timing import suggest_period
from domain.geo import bounding_box, distance_m
from extensions import db
from models import Address, Resident, Task, Tenancy, Visit, utcnow
from models.tasks import OPEN_STATUSES
from models.users import COMMUNITY
from models.visits import MET, NO_ONE_HOME, VISITED_OUTCOMES

PLAN_LIMIT = 50
# Rows read from SQL before the exact distance: enough slack for the planar ordering's error.
CANDIDATE_LIMIT = 200
REASONS = ("elderly_alone", "wander_risk", "rental_overdue", "task")


@dataclass
class PlanRow:
    """One person to visit, why, when last visited, how far, and when to knock."""

    resident: Resident
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
    """Each reason as a SQL condition, and the ids of the station's candidates (any reason) as a
    subquery each of whose parts an index serves (is_focus, the tenancies, the task ids)."""
    overdue = ledger._flags(people.today_local(), ledger.Rules.from_config())["inspection_overdue"]
    overdue_households = select(ledger.H.id).where(ledger.H.station_id == user.station_id, overdue)
    reasons = {
        "elderly_alone": Resident.tags.like("% elderly_alone %"),
        "wander_risk": Resident.tags.like("% wander_risk %"),
        "rental_overdue": exists().where(Tenancy.resident_id == Resident.id, Tenancy.move_out.is_(None),
                                         Tenancy.household_id.in_(overdue_households)),
        "task": Resident.id.in_(task_ids) if task_ids else None,
    }
    parts = [select(Resident.id).where(Resident.station_id == user.station_id, Resident.is_focus.is_(True)),
             select(Tenancy.resident_id).where(Tenancy.move_out.is_(None),
                                               Tenancy.household_id.in_(overdue_households))]
    if task_ids:
        parts.append(select(Resident.id).where(Resident.id.in_(task_ids)))
    return {name: condition for name, condition in reasons.items() if condition is not None}, union_all(*parts)


def who_to_visit(user, position: tuple[float, float] | None = None) -> list[PlanRow]:
    """Focus residents of the user's grids not visited for VISIT_FOCUS_DAYS, nearest first when
    `position` (WGS-84) is given and within VISIT_PLAN_RADIUS_M of it, else longest unvisited first."""
    reasons, candidates = _reason_columns(user, _task_resident_ids(user))
    since = utcnow() - timedelta(days=focus_days())
    # No one home is not a visit: the person stays on the plan (with a time to try).
    recent = exists().where(Visit.resident_id == Resident.id, Visit.recorded_at >= since,
                            Visit.outcome.in_(VISITED_OUTCOMES))
    last = (select(func.max(Visit.recorded_at)).where(Visit.resident_id == Resident.id,
                                                      Visit.outcome.in_(VISITED_OUTCOMES))
            .correlate(Resident).scalar_subquery())
    query = (select(Resident, Address.lat, Address.lon, last.label("last_visit"),
                    *[case((condition, 1), else_=0).label(name) for name, condition in reasons.items()])
             .join(Address, Resident.address_id == Address.id)
             .where(Resident.station_id == user.station_id, Resident.id.in_(candidates), ~recent))
    if user.role == COMMUNITY:
        query = query.where(Address.grid_id.in_(user.grid_ids or [-1]))
    if position:
        lat0, lon0 = position
        south, west, north, east = bounding_box(lat0, lon0, plan_radius_m())
        # Planar distance in degrees, longitude shrunk by cos(latitude): plain arithmetic on every
        # database, good enough to order a few kilometres; the exact distance is computed below.
        shrink = math.cos(math.radians(lat0))
        planar = (Address.lat - lat0) * (Address.lat - lat0) + \
            (Address.lon - lon0) * shrink * (Address.lon - lon0) * shrink
        query = (query.where(Address.lat.between(south, north), Address.lon.between(west, east))
                 .order_by(planar, Resident.id).limit(CANDIDATE_LIMIT))
    else:
        query = query.order_by(case((last.is_(None), 0), else_=1), last, Resident.id).limit(PLAN_LIMIT)
    rows = [PlanRow(row[0], [name for name in REASONS if getattr(row, name, 0)], row.last_visit, row.lat, row.lon)
            for row in db.session.execute(query)]
    if position:
        for row in rows:
            row.distance_m = distance_m(position[0], position[1], row.lat, row.lon)
        rows = [r for r in rows if r.distance_m <= plan_radius_m()]
        rows.sort(key=lambda r: (r.distance_m, r.resident.id))
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
