"""The rentals ledger's reads: the household list, compliance rules, overdue lists, completeness.

Every report is one aggregated SQL statement (SUM(CASE ...) GROUP BY), portable between SQLite and
PostgreSQL: date limits are computed in Python and compared as plain dates, never with database
date arithmetic. The rule numbers come from the app config (defaults from the Ministry of Public
Security's rental-housing rules).
"""
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from blueprints.residents import people
from extensions import db
from models import Address, Grid, RentalHousehold, Resident, Tenancy, User
from models.rentals import GROUP_RENTAL

PAGE_SIZE = 50

H = RentalHousehold


@dataclass(frozen=True)
class Rules:
    """Compliance limits in days."""

    registration_days: int
    inspection_days: int
    group_inspection_days: int

    @classmethod
    def from_config(cls) -> "Rules":
        config = current_app.config
        return cls(config.get("RENTAL_REGISTRATION_DAYS", 3),  # tenants registered within 3 days
                   config.get("RENTAL_INSPECTION_DAYS", 90),  # inspect every 90 days
                   config.get("RENTAL_GROUP_INSPECTION_DAYS", 30))  # group rentals (群租) every 30


def _flags(today: date, rules: Rules) -> dict:
    """SQL boolean expressions, one per rule, over RentalHousehold (H).

    Open tenancies and hazards are read from the household's summary columns (kept on write by
    models.rentals), so every rule is a comparison of the household's own columns.
    """
    last = func.coalesce(H.last_inspected_on, H.registered_on)
    inspection_overdue = or_(
        and_(H.use == GROUP_RENTAL, last < today - timedelta(days=rules.group_inspection_days)),
        and_(H.use != GROUP_RENTAL, last < today - timedelta(days=rules.inspection_days)))
    lease_ended = and_(H.lease_end.is_not(None), H.lease_end < today, H.open_tenants > 0)
    # NULL (no open tenancy, no open hazard) compares as not true: the rule is not broken.
    late_registration = H.open_registration_delay > rules.registration_days
    hazard_overdue = H.open_hazard_due < today
    complete = and_(H.landlord_id.is_not(None), H.rooms.is_not(None), H.lease_start.is_not(None),
                    H.lease_end.is_not(None), ~inspection_overdue)
    return {"inspection_overdue": inspection_overdue, "lease_ended": lease_ended,
            "late_registration": late_registration, "hazard_overdue": hazard_overdue, "complete": complete}


FLAG_NAMES = ("inspection_overdue", "late_registration", "lease_ended", "hazard_overdue")


def _as_int(expression):
    return case((expression, 1), else_=0)


def household_scope(user, query):
    query = query.where(H.station_id == user.station_id)
    if people.sees_station(user):
        return query
    return query.where(or_(H.grid_id.in_(user.grid_ids), H.officer_id == user.id))


def _flag_columns(flags):
    return [_as_int(flags[name]).label(name) for name in FLAG_NAMES]


@dataclass(frozen=True, slots=True)
class HouseholdLine:
    """One household of the ledger list (and its Excel export): the columns shown, not ORM objects."""

    id: int
    grid_id: int | None
    address_label: str
    landlord_name: str | None
    landlord_doc_number: str | None
    rooms: int | None
    use: str
    lease_start: date | None
    lease_end: date | None
    last_inspected_on: date | None
    tenants: int
    flags: list[str]


_ADDRESS_PARTS = (Address.community, Address.street, Address.building, Address.unit, Address.room)


def list_households(user, *, q: str = "", grid_id: int | None = None, page: int = 1, overdue_only: bool = False,
                    officer_id: int | None = None, today: date | None = None) -> tuple[list[HouseholdLine], int]:
    """One page of the ledger with each household's flags and open tenants, and the number of
    households that match: two statements, plain columns (the flags and tenants are the
    household's own columns, see _flags), the page cut in SQL."""
    today = today or people.today_local()
    flags = _flags(today, Rules.from_config())
    filters = []
    if grid_id:
        filters.append(H.grid_id == grid_id)
    if officer_id:
        filters.append(H.officer_id == officer_id)
    if overdue_only:
        filters.append(or_(*(flags[name] for name in FLAG_NAMES)))
    term = people.like_escape("".join((q or "").split()).lower())
    if term:
        filters.append(or_(Address.search.like(f"%{term}%", escape="\\"),
                           Resident.search.like(f"% {term}%", escape="\\")))
    matching = household_scope(user, select(H.id)).where(*filters)
    if term:
        matching = matching.join(H.address).outerjoin(H.landlord)
    # The count reads the households alone unless the term needs the joins (every household has
    # an address; the landlord's is an outer join): the joins would cost a look-up per household.
    total = db.session.scalar(matching.with_only_columns(func.count(H.id)))
    # The page's ids first (sorted by address), then their columns: the landlord and the flags are
    # read for the 50 households shown, not for every household before the sort.
    page_ids = ((matching if term else matching.join(H.address)).order_by(*_ADDRESS_PARTS, H.id)
                .limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE))
    columns = (H.id, H.grid_id, Resident.name, Resident.doc_number, H.rooms, H.use, H.lease_start, H.lease_end,
               H.last_inspected_on, H.open_tenants, *_flag_columns(flags), *_ADDRESS_PARTS)
    rows = db.session.execute(select(*columns).join(H.address).outerjoin(H.landlord)
                              .where(H.id.in_(page_ids)).order_by(*_ADDRESS_PARTS, H.id))
    flag_end = 10 + len(FLAG_NAMES)
    # The address label as Address.label builds it: the parts that are set, separated by spaces.
    return [HouseholdLine(row[0], row[1], " ".join(part for part in row[flag_end:] if part), *row[2:9], row[9] or 0,
                          [name for name, on in zip(FLAG_NAMES, row[10:flag_end]) if on])
            for row in rows], total


def compliance_reports(user, today: date | None = None) -> tuple[list[dict], list[dict]]:
    """Per grid and per responsible officer (who registered the household): households, each overdue
    rule's count, and completeness (share complete).

    The rules are evaluated once per household in one statement grouped by (grid, officer), then
    added up per grid and per officer here; two small statements name the grids (ordered by code,
    those without households too) and the officers (ordered by name).
    """
    today = today or people.today_local()
    flags = _flags(today, Rules.from_config())
    names = (*FLAG_NAMES, "complete")
    query = (select(H.grid_id, H.officer_id, func.count(H.id).label("households"),
                    *[func.sum(_as_int(flags[n])).label(n) for n in names])
             .group_by(H.grid_id, H.officer_id))
    cells = [dict(row._mapping) for row in db.session.execute(household_scope(user, query))]
    grids_query = select(Grid.id, Grid.name).where(Grid.station_id == user.station_id).order_by(Grid.code)
    if not people.sees_station(user):
        grids_query = grids_query.where(Grid.id.in_(user.grid_ids))
    officer_ids = {cell["officer_id"] for cell in cells if cell["officer_id"] is not None}
    officers = db.session.execute(select(User.id, User.name).where(User.id.in_(officer_ids)).order_by(User.name)) \
        if officer_ids else []

    def add_up(rows, key):
        totals = {row.id: {"id": row.id, "name": row.name, "households": 0, **{n: 0 for n in names}} for row in rows}
        for cell in cells:
            total = totals.get(cell[key])
            if total is not None:
                for name in ("households", *names):
                    total[name] += int(cell[name] or 0)
        return [_report_row(total) for total in totals.values()]

    return add_up(db.session.execute(grids_query), "grid_id"), add_up(officers, "officer_id")


def grid_report(user, today: date | None = None) -> list[dict]:
    """Per grid: households, each overdue rule's count, and completeness (share complete)."""
    return compliance_reports(user, today)[0]


def officer_report(user, today: date | None = None) -> list[dict]:
    """Per responsible officer (who registered the household): the same counts."""
    return compliance_reports(user, today)[1]


def _report_row(data: dict) -> dict:
    for name in (*FLAG_NAMES, "complete"):
        data[name] = int(data[name] or 0)
    data["completeness"] = round(100 * data["complete"] / data["households"]) if data["households"] else None
    data["overdue"] = sum(data[n] for n in FLAG_NAMES)
    return data


def tenancies_of(resident: Resident) -> list[Tenancy]:
    """A resident's tenancies, newest first, with their household's address (one statement)."""
    return list(db.session.scalars(
        select(Tenancy).where(Tenancy.resident_id == resident.id)
        .options(joinedload(Tenancy.household).joinedload(H.address)).order_by(Tenancy.move_in.desc())))


def household_flags(household: RentalHousehold, today: date | None = None) -> list[str]:
    """The rules one household breaks today (the same SQL as the lists)."""
    today = today or people.today_local()
    flags = _flags(today, Rules.from_config())
    row = db.session.execute(select(*_flag_columns(flags)).where(H.id == household.id)).one()
    return [n for n in FLAG_NAMES if getattr(row, n)]


def flag_labels() -> dict:
    from flask_babel import lazy_gettext as _l

    return {"inspection_overdue": _l("Inspection overdue"), "late_registration": _l("Tenant registered late"),
            "lease_ended": _l("Lease ended, no move-out"), "hazard_overdue": _l("Hazard past due")}
