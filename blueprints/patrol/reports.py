"""The compliance report: required vs done per officer, grid and local day, and its Excel export.

Read from patrol_day_totals (one row per station, local day, officer and point, kept on write with
each check-in), assembled in Python: the number of queries and of rows read depends on officers x
points x days, never on the number of check-ins.
"""
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import bindparam, case, func, select

from extensions import db
from models import Grid, PatrolPoint, User, audit, user_grids
from models.patrols import PatrolDayTotal
from models.users import COMMUNITY

MAX_DAYS = 366


@dataclass
class Tally:
    """Counts for one officer in one grid over a day or a range."""

    required: int = 0
    done: int = 0
    outside_window: int = 0
    flagged: int = 0
    check_ins: int = 0

    def add(self, other: "Tally") -> None:
        for name in ("required", "done", "outside_window", "flagged", "check_ins"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def rate(self) -> float | None:
        return None if not self.required else self.done / self.required

    @property
    def percent(self) -> str:
        """The page's compliance cell: what `'%d%%'|format((rate * 100)|round|int)` printed."""
        rate = self.rate
        return "—" if rate is None else "%d%%" % int(round(rate * 100, 0))


@dataclass
class ReportRow:
    day: date | None
    officer: "Officer"
    grid: "GridRow"
    tally: Tally = field(default_factory=Tally)


@dataclass
class Report:
    start: date
    end: date
    daily: list[ReportRow]
    by_officer: list[ReportRow]
    by_grid: list[tuple["GridRow", Tally]]  # by grid code
    daily_count: int = 0  # rows of the day-by-day table (also when `daily` was not built)


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


@dataclass(slots=True)
class Officer:
    """What the report shows of a community officer (read as columns, not User objects)."""

    id: int
    name: str
    badge_no: str | None
    grids: list = field(default_factory=list)  # GridRow, by code


class GridRow(NamedTuple):
    id: int
    code: str
    name: str


# The report's statements, built once with bind parameters (building a Select and its cache key on
# every request costs more than SQLite takes to run the small ones).
_POINTS = select(PatrolPoint.id, PatrolPoint.grid_id, PatrolPoint.required_per_day, PatrolPoint.active).where(
    PatrolPoint.station_id == bindparam("station_id"))
_OFFICERS = (select(User.id, User.name, User.badge_no, Grid.id, Grid.code, Grid.name)
             .join(user_grids, user_grids.c.user_id == User.id)
             .join(Grid, (Grid.id == user_grids.c.grid_id) & (Grid.station_id == bindparam("station_id")))
             .where(User.station_id == bindparam("station_id"), User.role == COMMUNITY, User.active.is_(True))
             .order_by(User.name, User.id, Grid.code))
_t = PatrolDayTotal
# The kept rows the report needs: its officers x the station's points and 0 (no point) over the
# range. The key's order (station, officer, point, day) makes each pair's days one run, in GROUP BY
# order; rows of other officers (leaders, inactive ones) are not read.
_RANGE = (_t.station_id == bindparam("station_id"), _t.officer_id.in_(bindparam("officer_ids", expanding=True)),
          _t.point_id.in_(bindparam("point_ids", expanding=True)), _t.local_day >= bindparam("start"),
          _t.local_day <= bindparam("end"))
# Done capped per day at the point's required count (0 for an inactive point or no point).
_cap = PatrolPoint.required_per_day
_capped = case((PatrolPoint.active.is_(True) & (_cap > 0), case((_t.done > _cap, _cap), else_=_t.done)), else_=0)
_SUMS = (func.sum(_capped), func.sum(_t.outside_window), func.sum(_t.flagged), func.sum(_t.check_ins))
# Per officer, grid of the point (None: no point) and day: the day-by-day table and the export.
_PER_GRID_DAY = (select(_t.officer_id, PatrolPoint.grid_id, _t.local_day, *_SUMS)
                 .outerjoin(PatrolPoint, PatrolPoint.id == _t.point_id).where(*_RANGE)
                 .group_by(_t.officer_id, PatrolPoint.grid_id, _t.local_day))
# Per officer and point over the range: the page's totals.
_PER_PAIR = (select(_t.officer_id, _t.point_id, *_SUMS)
             .outerjoin(PatrolPoint, PatrolPoint.id == _t.point_id).where(*_RANGE)
             .group_by(_t.officer_id, _t.point_id))


def _officers_and_points(station_id: int):
    """The station's points and its active community officers with their grids: two statements of
    plain columns, no ORM objects."""
    points = db.session.execute(_POINTS, {"station_id": station_id}).all()
    point_grid = {p.id: p.grid_id for p in points}
    required = {p.id: p.required_per_day for p in points if p.active and p.required_per_day > 0}
    officers: dict[int, Officer] = {}
    grids: dict[int, GridRow] = {}
    for officer_id, name, badge_no, grid_id, code, grid_name in db.session.execute(
            _OFFICERS, {"station_id": station_id}):
        officer = officers.get(officer_id)
        if officer is None:
            officer = officers[officer_id] = Officer(officer_id, name, badge_no)
        grid = grids.get(grid_id)
        if grid is None:
            grid = grids[grid_id] = GridRow(grid_id, code, grid_name)
        officer.grids.append(grid)
    required_by_grid = defaultdict(int)
    for point_id, n in required.items():
        required_by_grid[point_grid[point_id]] += n
    return point_grid, required, list(officers.values()), required_by_grid


def _range(station_id: int, start: date, end: date, officers, point_grid) -> dict:
    """_RANGE's parameters."""
    return {"station_id": station_id, "officer_ids": [o.id for o in officers], "point_ids": [0, *point_grid],
            "start": start, "end": end}


def compliance(station_id: int, start: date, end: date, grid_id: int | None = None, daily: bool = True) -> Report:
    """Required vs done, outside-window and flagged check-ins of each community officer, per day.

    With daily=False the day-by-day rows are not built (report.daily is empty, report.daily_count
    still says how many there are): the totals per officer and per grid come from one query that
    caps each day's done count per point in SQL and sums per officer and point.
    """
    point_grid, _required, officers, required_by_grid = _officers_and_points(station_id)
    days = days_between(start, end)
    params = _range(station_id, start, end, officers, point_grid)
    if not daily:
        return _totals(start, end, grid_id, params, point_grid, officers, required_by_grid, days)
    seen = {}  # (officer, grid or None, day) -> (done, outside window, flagged, check-ins)
    for officer_id, grid, day, n_done, n_outside, n_flagged, n_all in db.session.execute(_PER_GRID_DAY, params):
        seen[(officer_id, grid, day)] = (int(n_done or 0), int(n_outside or 0), int(n_flagged or 0), int(n_all or 0))

    none = (0, 0, 0, 0)
    daily_rows, by_officer, by_grid = [], [], {}
    for officer in officers:
        officer_grids = [g for g in officer.grids if grid_id in (None, g.id)]
        for index, grid in enumerate(officer_grids):
            required_day = required_by_grid[grid.id]
            total = Tally()
            for day in days:
                done, outside, flagged, n_all = seen.get((officer.id, grid.id, day), none)
                if index == 0:  # check-ins without a point count once, in the officer's first grid
                    free = seen.get((officer.id, None, day), none)
                    done, outside, flagged, n_all = (done + free[0], outside + free[1], flagged + free[2],
                                                     n_all + free[3])
                daily_rows.append(ReportRow(day, officer, grid, Tally(required_day, done, outside, flagged, n_all)))
                total.required += required_day
                total.done += done
                total.outside_window += outside
                total.flagged += flagged
                total.check_ins += n_all
            by_officer.append(ReportRow(None, officer, grid, total))
            by_grid.setdefault(grid.id, (grid, Tally()))[1].add(total)
    daily_rows.sort(key=lambda row: (row.day, row.grid.code, row.officer.name))
    return Report(start, end, daily_rows, by_officer,
                  sorted(by_grid.values(), key=lambda item: item[0].code), len(daily_rows))


def _totals(start, end, grid_id, params, point_grid, officers, required_by_grid, days) -> Report:
    """The same totals as the day-by-day path, summed in SQL per officer and point (one row each)."""
    seen = {}  # (officer, grid or None) -> [done, outside window, flagged, check-ins] over the range
    for officer_id, point_id, n_done, n_outside, n_flagged, n_all in db.session.execute(_PER_PAIR, params):
        key = (officer_id, point_grid.get(point_id))
        counts = seen.get(key)
        if counts is None:
            seen[key] = [n_done or 0, n_outside or 0, n_flagged or 0, n_all or 0]
        else:
            counts[0] += n_done or 0
            counts[1] += n_outside or 0
            counts[2] += n_flagged or 0
            counts[3] += n_all or 0
    none = (0, 0, 0, 0)
    n_days, by_officer, by_grid = len(days), [], {}
    for officer in officers:
        officer_grids = [g for g in officer.grids if grid_id in (None, g.id)]
        for index, grid in enumerate(officer_grids):
            done, outside, flagged, n_all = seen.get((officer.id, grid.id), none)
            if index == 0:  # check-ins without a point count once, in the officer's first grid
                free = seen.get((officer.id, None), none)
                done, outside, flagged, n_all = done + free[0], outside + free[1], flagged + free[2], n_all + free[3]
            tally = Tally(required_by_grid[grid.id] * n_days, int(done), int(outside), int(flagged), int(n_all))
            by_officer.append(ReportRow(None, officer, grid, tally))
            total = by_grid.get(grid.id)
            if total is None:
                by_grid[grid.id] = (grid, Tally(tally.required, tally.done, tally.outside_window, tally.flagged,
                                                tally.check_ins))
            else:
                total[1].add(tally)
    return Report(start, end, [], by_officer, sorted(by_grid.values(), key=lambda item: item[0].code),
                  len(by_officer) * n_days)


def _percent(tally: Tally) -> str:
    return "—" if tally.rate is None else f"{tally.rate:.0%}"


def export_xlsx(user, report: Report) -> bytes:
    """The report as an Excel workbook; the export is audited (and committed) before it is handed out."""
    book = Workbook()
    headers = [_("Officer"), _("Badge number"), _("Grid"), _("Required"), _("Done"), _("Compliance"),
               _("Outside window"), _("Flagged"), _("Check-ins")]
    summary = book.active
    summary.title = _("Officers")
    summary.append([_("Patrol compliance"), f"{report.start.isoformat()} – {report.end.isoformat()}"])
    summary.append(headers)
    for row in report.by_officer:
        t = row.tally
        summary.append([row.officer.name, row.officer.badge_no or "", row.grid.name, t.required, t.done,
                        _percent(t), t.outside_window, t.flagged, t.check_ins])
    detail = book.create_sheet(_("Daily"))
    detail.append([_("Date")] + headers)
    for row in report.daily:
        t = row.tally
        detail.append([row.day, row.officer.name, row.officer.badge_no or "", row.grid.name, t.required, t.done,
                       _percent(t), t.outside_window, t.flagged, t.check_ins])
    for sheet, header_row in ((summary, 2), (detail, 1)):
        for cell in sheet[header_row]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    for cell in detail["A"][1:]:
        cell.number_format = "yyyy-mm-dd"
    out = io.BytesIO()
    book.save(out)
    audit("export", user=user, reason="patrol compliance report", report="patrol_compliance",
          start=report.start.isoformat(), end=report.end.isoformat(), rows=len(report.daily))
    db.session.commit()
    return out.getvalue()
