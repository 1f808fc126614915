"""Analysis reports (研判): per grid, a period compared with the one before it, and an hour-of-day x
day-of-week table of activity and of flagged events; Excel export (audited).

Every number is aggregated in SQL per grid (or per weekday and hour), so a whole year costs about the
same number of queries and rows as a week.
"""
import io
import math
import re
from functools import cached_property, lru_cache
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote_plus, urlencode

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape
from openpyxl import Workbook
from openpyxl.styles import Font

from blueprints.command import screen
from blueprints.command.sources import SOURCES, Column, Period
from extensions import db
from models import Grid, audit

WEEKDAYS = 7
HOURS = 24


@dataclass
class Cell:
    """One grid's value of a measure in both periods."""

    value: float | None
    previous: float | None
    of: float | None = None
    previous_of: float | None = None

    @property
    def is_rate(self) -> bool:
        return self.of is not None or self.previous_of is not None

    @staticmethod
    def _rate(value, of):
        return None if not of else (value or 0) / of

    @property
    def shown(self):
        """The current figure: a share (0..1) for a rate, else the count."""
        return self._rate(self.value, self.of) if self.is_rate else (self.value or 0)

    @property
    def shown_before(self):
        return self._rate(self.previous, self.previous_of) if self.is_rate else (self.previous or 0)

    @property
    def change(self):
        """Current minus previous (percentage points for a rate); None when either is unknown."""
        if self.shown is None or self.shown_before is None:
            return None
        return self.shown - self.shown_before


@dataclass
class Measure:
    key: str
    label: str
    better: str | None
    is_rate: bool
    cells: dict  # grid id (or None) -> Cell
    total: Cell

    def trend(self, cell: Cell) -> str:
        """"good", "bad" or "" for the change of a cell, by which direction is good news."""
        if not cell.change or not self.better:
            return ""
        return "good" if (cell.change > 0) == (self.better == "up") else "bad"

    def figures(self, cell: Cell, points: str) -> tuple[str, str, str, str]:
        """What a cell shows: now, before, the change's CSS class and text ("+43 pts", "±0")."""
        change = cell.change
        if change is None or change == 0:
            return _shown(cell.shown, self.is_rate), _shown(cell.shown_before, self.is_rate), "change", "±0"
        text = f"{int(round(change * 100, 0)):+d} {points}" if self.is_rate else f"{int(change):+d}"
        trend = self.trend(cell)
        return (_shown(cell.shown, self.is_rate), _shown(cell.shown_before, self.is_rate),
                f"change {trend}" if trend else "change", text)


def _shown(value, is_rate: bool) -> str:
    """A figure as the tables print it: "—" when unknown, a whole percentage for a rate, else a count."""
    if value is None:
        return "—"
    return f"{int(round(value * 100, 0))}%" if is_rate else str(int(value))


@dataclass
class Line:
    """One row of the grid table, ready to print: (measure key, now, before, change class, change text)."""

    key: object  # grid id, None (no grid) or "total"
    name: str
    task_url: str | None
    cells: list[tuple]


@dataclass
class HeatLine:
    """One weekday of an hour table: its 24 cells' HTML (shade 0..4 of the table's peak, the number,
    in the flagged table the link that makes a patrol task at that hour), and the total."""

    weekday: int
    name: str
    cells: Markup
    total: int


def _heat_cell(hour: int, level: int, n: int, url: str | None, title: str) -> str:
    """One hour's <td>, written here rather than by the template: 336 cells of a few escaped values
    each were half the analysis page's rendering."""
    inner = f'<a href="{escape(url)}" title="{title}">{n}</a>' if url else (str(n) if n else "")
    return f'<td class="heat-{level}" data-hour="{hour}">{inner}</td>'


@dataclass
class Heat:
    """Activity and flagged events by local weekday (Mon=0) and hour."""

    activity: list[list[int]]
    flagged: list[list[int]]

    @property
    def peak(self) -> int:
        return max(max(row) for row in self.activity) or 1

    @property
    def peak_flagged(self) -> int:
        return max(max(row) for row in self.flagged) or 1


@dataclass
class Analysis:
    period: Period
    previous: Period
    grids: list[Grid]
    has_no_grid: bool
    measures: list[Measure]
    snapshot: list[Measure]
    heat: Heat

    def lines(self) -> list[Line]:
        """The grid table's rows and its total, every figure formatted once here rather than by
        template macros per cell (a few hundred macro calls were most of the page's time)."""
        points = _("pts")
        lines = [Line(key, name, self.task_for_grid(key, name) if key is not None else None,
                      [(m.key, *m.figures(m.cells[key], points)) for m in self.measures])
                 for key, name in self.rows()]
        lines.append(Line("total", _("Total"), None, [(m.key, *m.figures(m.total, points)) for m in self.measures]))
        return lines

    def heat_lines(self, flagged: bool) -> list[HeatLine]:
        """An hour table's rows: each cell's shade (0..4 of the table's peak) and, in the flagged table,
        the link that makes a patrol task at that hour."""
        table, peak = (self.heat.flagged, self.heat.peak_flagged) if flagged else (self.heat.activity, self.heat.peak)
        title = escape(_("Make a task"))
        lines = []
        for weekday, row in enumerate(table):
            cells = "\n    ".join(_heat_cell(hour, math.ceil(n * 4 / peak) if n else 0, n,
                                             self.task_for_hour(weekday, hour, n) if flagged and n else None, title)
                                  for hour, n in enumerate(row))
            lines.append(HeatLine(weekday, self.weekdays[weekday], Markup(cells), sum(row)))
        return lines

    def rows(self) -> list[tuple[int | None, str]]:
        """(grid id, name) of each row: the station's grids, and "no grid" when some records have none."""
        return [(g.id, g.name) for g in self.grids] + ([(None, _("No grid"))] if self.has_no_grid else [])

    @cached_property
    def weekdays(self) -> list[str]:
        """Translated once per analysis (the heat tables ask for them per row and per flagged cell)."""
        return weekday_names()

    @cached_property
    def _hour_task(self) -> tuple[str, str, str, list | None]:
        """What every hour's task link shares, computed once per render: the form's URL, the
        translated text pattern, the period, and the pattern cut at its %(name)s/%(name)02d fields
        (None when it has others: every link then made the slow way). url_for, gettext and a whole
        urlencode per flagged cell were a third of the analysis page."""
        pattern = _("Patrol on %(weekday)s %(start)02d:00–%(end)02d:00: %(n)s flagged events at this hour in %(span)s.")
        pieces, at = [], 0
        for field in _FIELD.finditer(pattern):
            pieces += [pattern[at:field.start()], (field.group(1), "%" + field.group(2))]
            at = field.end()
        pieces.append(pattern[at:])
        if any("%" in piece for piece in pieces[::2]):  # a %% or another kind of field: not cut
            pieces = None
        return url_for("tasks.new"), pattern, self._span(), pieces

    def _span(self) -> str:
        return f"{self.period.start:%m-%d}–{self.period.end:%m-%d}"

    def task_for_grid(self, grid_id: int, name: str) -> str:
        """A new task prefilled with this grid's figures (the task form's ?kind=&text=&place=&source=)."""
        figures = "; ".join(f"{m.label} {_format(m.cells[grid_id].shown, m.is_rate)}" for m in self.measures[:6])
        text = _("Analysis %(span)s, %(grid)s: %(figures)s. Please follow up.", span=self._span(), grid=name,
                 figures=figures)
        return url_for("tasks.new", kind="patrol", text=text, place=name, source=f"analysis:grid:{grid_id}")

    def task_for_hour(self, weekday: int, hour: int, flagged: int) -> str:
        """A patrol task at a busy hour. (The patrol point form takes no query arguments, so a point
        with a shift window is made from the task page by hand.)"""
        path, pattern, span, pieces = self._hour_task
        values = {"weekday": self.weekdays[weekday], "start": hour, "end": (hour + 1) % 24, "n": flagged,
                  "span": span}
        source = f"analysis:hour:{weekday}-{hour:02d}"
        if pieces is not None:
            # What urlencode() below writes, piece by piece: quoting is per character, so the quoted
            # text is its pieces quoted one by one, and the few distinct pieces are quoted once.
            text = "".join(_quote(piece) if isinstance(piece, str) else _quote(piece[1] % values[piece[0]])
                           for piece in pieces)
            return f"{path}?kind=patrol&text={text}&source={_quote(source)}"
        # What url_for("tasks.new", kind=, text=, source=) builds: the path, then werkzeug's query encoding.
        query = urlencode({"kind": "patrol", "text": pattern % values, "source": source}, safe=_SAFE)
        return f"{path}?{query}"


_FIELD = re.compile(r"%\((\w+)\)(0?\d*[sd])")  # a named field of a translated pattern: %(n)s, %(start)02d
_SAFE = "!$'()*,/:;?@"  # what werkzeug leaves unquoted in a query value


@lru_cache(maxsize=2048)
def _quote(text: str) -> str:
    """One piece of a query value quoted as urlencode(..., safe=_SAFE) quotes it."""
    return quote_plus(text, safe=_SAFE)


def _format(value, is_rate) -> str:
    if value is None:
        return "—"
    return f"{value:.0%}" if is_rate else str(int(value))


def _compare(current: Column, before: Column | None, grid_keys) -> Measure:
    is_rate = current.of is not None
    cells = {}
    for key in grid_keys:
        cells[key] = Cell(current.values.get(key), before.values.get(key) if before else None,
                          (current.of or {}).get(key, 0) if is_rate else None,
                          (before.of or {}).get(key, 0) if before and is_rate else None)
    total = Cell(current.total(), before.total() if before else None,
                 current.total_of() if is_rate else None, before.total_of() if before and is_rate else None)
    return Measure(current.key, current.label, current.better, is_rate, cells, total)


def _columns(period: Period, previous: Period) -> tuple[list[Column], list[Column]]:
    """Every source's measures of both periods (one set of queries for both where a source can)."""
    current, before = [], []
    for source in SOURCES:
        if source.compare:
            now, then = source.compare(period, previous)
            current += now
            before += then
        elif source.measures:
            current += source.measures(period)
            before += source.measures(previous)
    return current, before


def _heat(period: Period) -> Heat:
    activity = [[0] * HOURS for _ in range(WEEKDAYS)]
    flagged = [[0] * HOURS for _ in range(WEEKDAYS)]
    for source in SOURCES:
        if source.hours:
            for (weekday, hour), (n, n_flagged) in source.hours(period).items():
                activity[weekday][hour] += n
                flagged[weekday][hour] += n_flagged
    return Heat(activity, flagged)


def build(user, start: date, end: date) -> Analysis:
    """The analysis of start..end against the same number of days before it."""
    period = Period(user, start, end)
    previous = period.before()
    grids = screen.station_grids(user.station_id)
    current_columns, previous_columns = _columns(period, previous)
    previous_columns = {c.key: c for c in previous_columns}
    current_columns.sort(key=lambda c: c.order)
    keys = [g.id for g in grids]
    has_no_grid = any(c.values.get(None) or (c.of or {}).get(None) for c in current_columns)
    if has_no_grid:
        keys.append(None)
    measures = [_compare(c, previous_columns.get(c.key), keys) for c in current_columns]
    today = screen.today_for(user)
    snapshot_columns = sorted((c for s in SOURCES if s.snapshot for c in s.snapshot(today)), key=lambda c: c.order)
    snapshot = [_compare(c, None, keys) for c in snapshot_columns]
    return Analysis(period, previous, grids, has_no_grid, measures, snapshot, _heat(period))


# --- export ---------------------------------------------------------------------------------------

def _figure(cell_value, is_rate):
    if cell_value is None:
        return "—"
    return f"{cell_value:.0%}" if is_rate else cell_value


def _change(cell, is_rate):
    if cell.change is None:
        return "—"
    return f"{cell.change * 100:+.0f}" if is_rate else cell.change


def weekday_names() -> list[str]:
    return [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]


def export_xlsx(user, analysis: Analysis) -> bytes:
    """The analysis as a workbook (by grid, hours, flagged hours); audited and committed before handing out."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("By grid")
    period = f"{analysis.period.start.isoformat()} – {analysis.period.end.isoformat()}"
    before = f"{analysis.previous.start.isoformat()} – {analysis.previous.end.isoformat()}"
    sheet.append([_("Analysis"), period, _("compared with"), before])
    header = [_("Grid")]
    for m in analysis.measures:
        header += [str(m.label), _("before"), _("change")]
    header += [f"{m.label} ({_('now')})" for m in analysis.snapshot]
    sheet.append(header)
    names = analysis.rows()
    for key, name in names + [("total", _("Total"))]:
        row = [name]
        for m in analysis.measures:
            cell = m.total if key == "total" else m.cells[key]
            row += [_figure(cell.shown, m.is_rate), _figure(cell.shown_before, m.is_rate), _change(cell, m.is_rate)]
        row += [(m.total if key == "total" else m.cells[key]).shown for m in analysis.snapshot]
        sheet.append(row)
    for title, table in ((_("Activity by hour"), analysis.heat.activity), (_("Flagged by hour"), analysis.heat.flagged)):
        hours = book.create_sheet(title)
        hours.append([""] + [f"{h:02d}" for h in range(HOURS)])
        for name, row in zip(weekday_names(), table):
            hours.append([name] + row)
        for cell in hours[1]:
            cell.font = Font(bold=True)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "B3"
    out = io.BytesIO()
    book.save(out)
    audit("export", user=user, reason="command room analysis", report="command_analysis",
          start=analysis.period.start.isoformat(), end=analysis.period.end.isoformat(), grids=len(names))
    db.session.commit()
    return out.getvalue()
