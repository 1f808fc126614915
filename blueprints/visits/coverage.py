"""Visit coverage for the command room: per grid and per officer, aggregated in SQL, and its Excel export.

Each figure is one GROUP BY statement with SUM(CASE ...) over plain comparisons (time limits are
computed in Python), so the number of statements is fixed and the SQL runs on SQLite and PostgreSQL
alike. "Visited" means someone answered the door (met or refused); no one home does not count.
Focus residents here are the tagged ones (独居老人, 走失风险).
"""
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import Date, Integer, bindparam, case, func, or_, select, union_all

from extensions import db
from models import FollowUp, Grid, RentalHousehold, User, Visit, audit, utcnow
from models.users import COMMUNITY
from models.visits import LOCAL_TZ, NO_ONE_HOME, HouseholdVisitState, ResidentVisitState, VisitCandidate, \
    VisitDayTotal, local_day_of

WINDOWS = (30, 90)  # days


@dataclass
class GridCoverage:
    grid: Grid
    households: int = 0
    households_30: int = 0
    households_90: int = 0
    focus: int = 0
    focus_30: int = 0
    focus_90: int = 0
    visits_30: int = 0
    visits_90: int = 0
    overdue: int = 0

    @staticmethod
    def share(part: int, whole: int) -> float | None:
        return None if not whole else part / whole


@dataclass
class OfficerCoverage:
    officer: User
    visits_30: int = 0
    visits_90: int = 0
    no_one_home_30: int = 0
    overdue: int = 0


@dataclass
class Coverage:
    today: date
    grids: list[GridCoverage]
    officers: list[OfficerCoverage]
    totals: GridCoverage = field(default=None)


# The statements, built once with bind parameters: the station, the windows' starts (d30, d90),
# their local first days (day30, day90) and those days' ends (end30, end90), today.
_AT = Visit.recorded_at.type
_STATION, _TODAY = bindparam("station", type_=Integer), bindparam("today", type_=Date)
_D30, _D90, _END30, _END90 = (bindparam(name, type_=_AT) for name in ("d30", "d90", "end30", "end90"))
_DAY30, _DAY90 = bindparam("day30", type_=Date), bindparam("day90", type_=Date)


def _households_statement():
    """Rental households per grid, and those visited (met or refused) since d30 and d90: the
    station's households from ix_rental_households_station_grid, their last visit from
    household_visit_states (kept on write, models.visits) by primary key."""
    H, last = RentalHousehold, HouseholdVisitState.last_visited_at
    return (select(H.grid_id, func.count(H.id), func.sum(case((last >= _D30, 1), else_=0)),
                   func.sum(case((last >= _D90, 1), else_=0)))
            .outerjoin(HouseholdVisitState, HouseholdVisitState.household_id == H.id)
            .where(H.station_id == _STATION).group_by(H.grid_id))


def _focus_statement():
    """Focus residents (tagged 独居老人 or 走失风险, with an address) per grid of their address: the
    focus rows (household 0) of visit_candidates (kept on write, models.visits), read from its
    index without going to the residents or their addresses; their last visit from
    resident_visit_states."""
    c, last = VisitCandidate.__table__, ResidentVisitState.last_visited_at
    return (select(c.c.grid_id, func.count(c.c.resident_id), func.sum(case((last >= _D30, 1), else_=0)),
                   func.sum(case((last >= _D90, 1), else_=0)))
            .select_from(c).outerjoin(ResidentVisitState, ResidentVisitState.resident_id == c.c.resident_id)
            .where(c.c.station_id == _STATION, c.c.household_id == 0).group_by(c.c.grid_id))


def _visit_counts_statement():
    """(grid, officer, visits since d30, visits since d90, no one home since d30) rows, one statement:
    the day totals (kept on write) of the whole local days after each window's first day, and the
    visits themselves from each window's start to the end of its first day. A (grid, officer) may
    come more than once: the callers add up."""
    T = VisitDayTotal
    in30, in90 = (Visit.recorded_at >= _D30) & (Visit.recorded_at < _END30), \
        (Visit.recorded_at >= _D90) & (Visit.recorded_at < _END90)
    totals = (select(T.grid_id, T.officer_id, func.sum(case((T.local_day > _DAY30, T.visits), else_=0)),
                     func.sum(T.visits), func.sum(case((T.local_day > _DAY30, T.no_one_home), else_=0)))
              .where(T.station_id == _STATION, T.local_day > _DAY90).group_by(T.grid_id, T.officer_id))
    first_days = (select(Visit.grid_id, Visit.officer_id, func.sum(case((in30, 1), else_=0)),
                         func.sum(case((in90, 1), else_=0)),
                         func.sum(case((in30 & (Visit.outcome == NO_ONE_HOME), 1), else_=0)))
                  .where(Visit.station_id == _STATION, or_(in30, in90)).group_by(Visit.grid_id, Visit.officer_id))
    return union_all(totals, first_days)


_HOUSEHOLDS, _FOCUS, _VISITS = _households_statement(), _focus_statement(), _visit_counts_statement()
_LATE = (select(FollowUp.grid_id, FollowUp.officer_id, func.count(FollowUp.id))
         .where(FollowUp.station_id == _STATION, FollowUp.done_visit_id.is_(None), FollowUp.due_on < _TODAY)
         .group_by(FollowUp.grid_id, FollowUp.officer_id))


def coverage(station_id: int, today: date) -> Coverage:
    """Per grid: households and focus residents visited in 30/90 days, visits, overdue follow-ups;
    per officer: visits in 30/90 days and overdue follow-ups. Six statements (the four counts read
    on the session's connection, without the ORM's result layer)."""
    now = utcnow()
    d30, d90 = now - timedelta(days=30), now - timedelta(days=90)
    day30, day90 = local_day_of(d30), local_day_of(d90)
    end30, end90 = (datetime.combine(day + timedelta(days=1), time(), LOCAL_TZ) for day in (day30, day90))
    params = {"station": station_id, "today": today, "d30": d30, "d90": d90, "day30": day30, "day90": day90,
              "end30": end30, "end90": end90}
    connection = db.session.connection()
    grids = {g.id: GridCoverage(g) for g in db.session.scalars(
        select(Grid).where(Grid.station_id == station_id).order_by(Grid.code))}
    for grid_id, total, v30, v90 in connection.execute(_HOUSEHOLDS, params):
        if grid_id in grids:
            grids[grid_id].households, grids[grid_id].households_30, grids[grid_id].households_90 = \
                total, int(v30 or 0), int(v90 or 0)
    for grid_id, total, v30, v90 in connection.execute(_FOCUS, params):
        if grid_id in grids:
            grids[grid_id].focus, grids[grid_id].focus_30, grids[grid_id].focus_90 = total, int(v30 or 0), int(v90 or 0)
    # Visits and overdue follow-ups: one statement each grouped by (grid, officer), added up per
    # grid here and per officer in _officers.
    visits = [(grid_id or None, officer_id, int(v30 or 0), int(v90 or 0), int(n30 or 0))
              for grid_id, officer_id, v30, v90, n30 in connection.execute(_VISITS, params)]
    late = connection.execute(_LATE, params).all()
    for grid_id, _officer_id, v30, v90, _n30 in visits:
        if grid_id in grids:
            grids[grid_id].visits_30 += int(v30 or 0)
            grids[grid_id].visits_90 += v90
    for grid_id, _officer_id, n in late:
        if grid_id in grids:
            grids[grid_id].overdue += n
    return Coverage(today, list(grids.values()), _officers(station_id, visits, late),
                    totals=_totals(list(grids.values())))


def _officers(station_id: int, visits, late_rows) -> list[OfficerCoverage]:
    counts: dict[int, list[int]] = {}
    for _grid_id, officer_id, v30, v90, n30 in visits:
        row = counts.setdefault(officer_id, [0, 0, 0])
        row[0] += int(v30 or 0)
        row[1] += v90
        row[2] += int(n30 or 0)
    late: dict[int, int] = {}
    for _grid_id, officer_id, n in late_rows:
        late[officer_id] = late.get(officer_id, 0) + n
    officers = db.session.scalars(select(User).where(
        User.station_id == station_id,
        or_(User.role == COMMUNITY, User.id.in_(list(counts) or [-1]))).order_by(User.name, User.id))
    rows = []
    for officer in officers:
        v30, v90, n30 = counts.get(officer.id, (0, 0, 0))
        if officer.role != COMMUNITY and not v90:
            continue
        rows.append(OfficerCoverage(officer, v30, v90, n30, late.get(officer.id, 0)))
    return rows


def _totals(grids: list[GridCoverage]) -> GridCoverage:
    total = GridCoverage(None)
    for row in grids:
        for name in ("households", "households_30", "households_90", "focus", "focus_30", "focus_90", "visits_30",
                     "visits_90", "overdue"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return total


def percent(part: int, whole: int) -> str:
    return "—" if not whole else f"{part / whole:.0%}"


def export_xlsx(user, report: Coverage) -> bytes:
    """The coverage as an Excel workbook; the export is audited (and committed) before it is handed out."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("Grids")
    sheet.append([_("Visit coverage"), report.today.isoformat()])
    sheet.append([_("Grid"), _("Rental households"), _("Visited in 30 days"), _("Share (30 days)"),
                  _("Visited in 90 days"), _("Share (90 days)"), _("Focus residents"), _("Visited in 30 days"),
                  _("Share (30 days)"), _("Visited in 90 days"), _("Share (90 days)"), _("Visits (30 days)"),
                  _("Visits (90 days)"), _("Follow-ups overdue")])
    for row in [*report.grids, report.totals]:
        sheet.append([row.grid.name if row.grid else _("Total"), row.households, row.households_30,
                      percent(row.households_30, row.households), row.households_90,
                      percent(row.households_90, row.households), row.focus, row.focus_30,
                      percent(row.focus_30, row.focus), row.focus_90, percent(row.focus_90, row.focus),
                      row.visits_30, row.visits_90, row.overdue])
    officers = book.create_sheet(_("Officers"))
    officers.append([_("Officer"), _("Badge number"), _("Visits (30 days)"), _("Visits (90 days)"),
                     _("No one home (30 days)"), _("Follow-ups overdue")])
    for row in report.officers:
        officers.append([row.officer.name, row.officer.badge_no or "", row.visits_30, row.visits_90,
                         row.no_one_home_30, row.overdue])
    for ws, header_row in ((sheet, 2), (officers, 1)):
        for cell in ws[header_row]:
            cell.font = Font(bold=True)
        ws.freeze_panes = ws.cell(row=header_row + 1, column=2)
    out = io.BytesIO()
    book.save(out)
    audit("export", user=user, reason="visit coverage report", report="visit_coverage",
          day=report.today.isoformat(), grids=len(report.grids), officers=len(report.officers))
    db.session.commit()
    return out.getvalue()
