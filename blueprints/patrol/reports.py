"""The compliance report: required vs done per officer, grid and local day, and its Excel export.

Aggregated in SQL (GROUP BY officer, point, local_day over the stored local day), assembled in
Python: the number of queries and of rows read depends on officers x points x days, never on the
number of check-ins.
"""
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from blueprints.patrol.services import done_counts
from extensions import db
from models import CheckIn, Grid, PatrolPoint, User, audit
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


@dataclass
class ReportRow:
    day: date | None
    officer: User
    grid: Grid
    tally: Tally = field(default_factory=Tally)


@dataclass
class Report:
    start: date
    end: date
    daily: list[ReportRow]
    by_officer: list[ReportRow]
    by_grid: list[tuple[Grid, Tally]]
    daily_count: int = 0  # rows of the day-by-day table (also when `daily` was not built)


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _officers_and_points(station_id: int):
    grids = {g.id: g for g in db.session.scalars(select(Grid).where(Grid.station_id == station_id))}
    points = list(db.session.scalars(select(PatrolPoint).where(PatrolPoint.station_id == station_id)))
    point_grid = {p.id: p.grid_id for p in points}
    required = {p.id: p.required_per_day for p in points if p.active and p.required_per_day > 0}
    officers = [o for o in db.session.scalars(
        select(User).options(selectinload(User.grids))
        .where(User.station_id == station_id, User.role == COMMUNITY, User.active.is_(True)).order_by(User.name))]
    required_by_grid = defaultdict(int)
    for point_id, n in required.items():
        required_by_grid[point_grid[point_id]] += n
    return grids, point_grid, required, officers, required_by_grid


def _per_point_day(station_id: int, start: date, end: date):
    """Check-in counts per officer, point and local day (the day's done count is capped per point)."""
    done, outside = done_counts()
    flagged = func.sum(case((CheckIn.flags != "", 1), else_=0))
    return (select(CheckIn.officer_id, CheckIn.point_id, CheckIn.local_day, done.label("done"),
                   outside.label("outside"), flagged.label("flagged"), func.count().label("n"))
            .where(CheckIn.station_id == station_id, CheckIn.local_day >= start, CheckIn.local_day <= end)
            .group_by(CheckIn.officer_id, CheckIn.point_id, CheckIn.local_day))


def compliance(station_id: int, start: date, end: date, grid_id: int | None = None, daily: bool = True) -> Report:
    """Required vs done, outside-window and flagged check-ins of each community officer, per day.

    With daily=False the day-by-day rows are not built (report.daily is empty, report.daily_count
    still says how many there are): the totals per officer and per grid come from one query that
    caps each day's done count per point in SQL and sums per officer and point.
    """
    grids, point_grid, required, officers, required_by_grid = _officers_and_points(station_id)
    days = days_between(start, end)
    if not daily:
        return _totals(station_id, start, end, grid_id, grids, point_grid, officers, required_by_grid, days)
    counts = db.session.execute(_per_point_day(station_id, start, end)).all()
    seen = defaultdict(Tally)  # (officer, grid or None, day) -> counts from check-ins
    for officer_id, point_id, day, n_done, n_outside, n_flagged, n_all in counts:
        tally = seen[(officer_id, point_grid.get(point_id), day)]
        cap = required.get(point_id, 0)
        tally.done += min(int(n_done or 0), cap)
        tally.outside_window += int(n_outside or 0)
        tally.flagged += int(n_flagged or 0)
        tally.check_ins += int(n_all)

    daily_rows, by_officer, by_grid = [], {}, {}
    for officer in officers:
        officer_grids = [g for g in officer.grids if grid_id in (None, g.id)]
        for index, grid in enumerate(officer_grids):
            total = by_officer.setdefault((officer.id, grid.id), ReportRow(None, officer, grid))
            for day in days:
                tally = Tally(required=required_by_grid[grid.id])
                tally.add(seen.get((officer.id, grid.id, day), Tally()))
                if index == 0:  # check-ins without a point count once, in the officer's first grid
                    tally.add(seen.get((officer.id, None, day), Tally()))
                daily_rows.append(ReportRow(day, officer, grid, tally))
                total.tally.add(tally)
                by_grid.setdefault(grid.id, (grids[grid.id], Tally()))[1].add(tally)
    daily_rows.sort(key=lambda row: (row.day, row.grid.code, row.officer.name))
    return Report(start, end, daily_rows, list(by_officer.values()),
                  sorted(by_grid.values(), key=lambda item: item[0].code), len(daily_rows))


def _totals(station_id, start, end, grid_id, grids, point_grid, officers, required_by_grid, days) -> Report:
    """The same totals as the day-by-day path, summed in SQL per officer and point (one row each)."""
    per_day = _per_point_day(station_id, start, end).subquery()
    cap = PatrolPoint.required_per_day
    capped = case((PatrolPoint.active.is_(True) & (cap > 0),
                   case((per_day.c.done > cap, cap), else_=per_day.c.done)), else_=0)
    rows = db.session.execute(
        select(per_day.c.officer_id, per_day.c.point_id, func.sum(capped), func.sum(per_day.c.outside),
               func.sum(per_day.c.flagged), func.sum(per_day.c.n))
        .select_from(per_day.outerjoin(PatrolPoint, PatrolPoint.id == per_day.c.point_id))
        .group_by(per_day.c.officer_id, per_day.c.point_id)).all()
    seen = defaultdict(Tally)  # (officer, grid or None) -> counts over the range
    for officer_id, point_id, n_done, n_outside, n_flagged, n_all in rows:
        tally = seen[(officer_id, point_grid.get(point_id))]
        tally.done += int(n_done or 0)
        tally.outside_window += int(n_outside or 0)
        tally.flagged += int(n_flagged or 0)
        tally.check_ins += int(n_all or 0)
    n_rows, by_officer, by_grid = 0, [], {}
    for officer in officers:
        officer_grids = [g for g in officer.grids if grid_id in (None, g.id)]
        for index, grid in enumerate(officer_grids):
            tally = Tally(required=required_by_grid[grid.id] * len(days))
            tally.add(seen.get((officer.id, grid.id), Tally()))
            if index == 0:  # check-ins without a point count once, in the officer's first grid
                tally.add(seen.get((officer.id, None), Tally()))
            by_officer.append(ReportRow(None, officer, grid, tally))
            by_grid.setdefault(grid.id, (grids[grid.id], Tally()))[1].add(tally)
            n_rows += len(days)
    return Report(start, end, [], by_officer, sorted(by_grid.values(), key=lambda item: item[0].code), n_rows)


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
