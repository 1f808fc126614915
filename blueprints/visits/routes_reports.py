"""Views of visits that read many rows: who to visit (officer, phone) and coverage (command room, desktop)."""
import io

from flask import abort, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from blueprints.visits import bp, coverage, plan, services
from blueprints.visits.forms import CoverageExportForm
from blueprints.visits.routes import visit_labels
from domain.geo import valid_position
from web import render, requires, station_time

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _position_from_args() -> tuple[float, float] | None:
    """The position the browser sent (?lat=&lon=, WGS-84), or None when missing or unusable."""
    lat, lon = request.args.get("lat", type=float), request.args.get("lon", type=float)
    if lat is None or lon is None or not valid_position(lat, lon):
        return None
    return lat, lon


# A resident id no route produces, replaced by each row's id in the URLs built once per page.
_ID = 2_147_483_000


def _url_pattern(endpoint: str, **values) -> tuple[str, str]:
    """The URL of `endpoint` split around the id (built once per page, not once per row)."""
    url = url_for(endpoint, **values)
    prefix, _sep, suffix = url.partition(str(_ID))
    return prefix, suffix


def _plan_lines(rows, reason_labels, period_labels) -> list[Markup]:
    """Each row's list item as HTML, written here (values escaped here) instead of a dozen template
    expressions per row: the links from route prefixes built once, the translated formats and
    reason tags looked up once per page; the same HTML the template wrote."""
    show = _url_pattern("residents.show", resident_id=_ID)
    new = _url_pattern("visits.new", subject_type="resident", subject_id=_ID)
    show, new = [escape(part) for part in show], [escape(part) for part in new]
    metres, last, never = _("%(d)s m"), _("last visited %(when)s"), escape(_("never visited"))
    missed = _("No one home %(n)d times (at %(hours)s h): try %(when)s.")
    record = escape(_("Record a visit"))
    tags = {name: f'<span class="tag flag">{escape(label)}</span> ' for name, label in reason_labels.items()}
    lines = []
    for row in rows:
        rid = row.resident.id
        distance = "" if row.distance_m is None else \
            f'<span class="distance">{escape(metres % {"d": int(round(row.distance_m, 0))})}</span>'
        seen = escape(last % {"when": station_time(row.last_visit)}) if row.last_visit else never
        suggestion = "" if not row.suggestion else (
            f'\n      <p class="suggestion" id="suggestion-{rid}">%s</p>\n      ' % escape(missed % {
                "n": row.missed, "hours": ", ".join(map(str, row.hours)), "when": period_labels[row.suggestion]}))
        lines.append(Markup(
            f'\n    <li id="plan-resident-{rid}" class="plan-row">\n      <div class="page-head">\n'
            f'        <a href="{show[0]}{rid}{show[1]}"><strong>{escape(row.resident.name)}</strong></a>\n'
            f'        {distance}\n      </div>\n'
            f'      <div>{"".join(tags[r] for r in row.reasons)}</div>\n'
            f'      <small class="muted">{seen}</small>\n      {suggestion}\n'
            f'      <a class="button small primary" href="{new[0]}{rid}{new[1]}">{record}</a>\n    </li>\n    '))
    return lines


@bp.get("/plan")
@requires(*services.RECORD_ROLES)
def plan_page():
    """Who to visit: focus residents of my grids not visited lately, nearest first from ?lat=&lon=."""
    position = _position_from_args()
    rows = plan.who_to_visit(current_user, position)
    # The reason and period labels translated once here, not once per row (they override
    # visit_labels' lazy ones for this page).
    labels = visit_labels()
    return render("visits/plan.html", "visits/_plan.html", position=position, days=plan.focus_days(),
                  radius_km=plan.plan_radius_m() / 1000,
                  lines=_plan_lines(rows, {k: str(v) for k, v in labels["reason_labels"].items()},
                                    {k: str(v) for k, v in labels["period_labels"].items()}))


def _coverage():
    return coverage.coverage(current_user.station_id, services.today_local())


def _overdue_cell(n: int) -> str:
    return f'<span class="tag overdue">{n}</span>' if n else "0"


def _coverage_rows(report) -> tuple[list[Markup], list[Markup]]:
    """The grid and officer tables' rows as HTML, written here (names escaped here) instead of
    nine template expressions and three macro-like calls per row; the same HTML the template wrote."""
    percent, total = coverage.percent, escape(_("Total"))
    grids = []
    for row in [*report.grids, report.totals]:
        key, name = (row.grid.id, escape(row.grid.name)) if row.grid else ("total", f"<strong>{total}</strong>")
        grids.append(Markup(
            f'\n  <tr id="coverage-grid-{key}">\n    <td>{name}</td>\n'
            f'    <td>{row.households}</td><td>{percent(row.households_30, row.households)}</td>'
            f'<td>{percent(row.households_90, row.households)}</td>\n'
            f'    <td>{row.focus}</td><td>{percent(row.focus_30, row.focus)}</td>'
            f'<td>{percent(row.focus_90, row.focus)}</td>\n'
            f'    <td>{row.visits_30}</td><td>{_overdue_cell(row.overdue)}</td>\n  </tr>\n  '))
    officers = [Markup(
        f'\n  <tr id="coverage-officer-{row.officer.id}"><td>{escape(row.officer.name)}</td><td>{row.visits_30}</td>'
        f'<td>{row.visits_90}</td><td>{row.no_one_home_30}</td>\n    <td>{_overdue_cell(row.overdue)}</td></tr>\n  ')
        for row in report.officers]
    return grids, officers


@bp.get("/coverage")
@requires(*services.COVERAGE_ROLES)
def coverage_page():
    """Coverage per grid and per officer over 30 and 90 days, with overdue follow-ups."""
    report = _coverage()
    grid_rows, officer_rows = _coverage_rows(report)
    return render("visits/coverage.html", report=report, export_form=CoverageExportForm(),
                  grid_rows=grid_rows, officer_rows=officer_rows)


@bp.post("/coverage/export")
@requires(*services.COVERAGE_ROLES)
def coverage_export():
    """The coverage as an Excel file (the export is audited)."""
    if not CoverageExportForm().validate_on_submit():
        abort(400)
    report = _coverage()
    data = coverage.export_xlsx(current_user, report)
    return send_file(io.BytesIO(data), as_attachment=True, mimetype=XLSX,
                     download_name=f"visit-coverage-{report.today:%Y%m%d}.xlsx")
