"""Views of visits that read many rows: who to visit (officer, phone) and coverage (command room, desktop)."""
import io
from typing import NamedTuple

from flask import abort, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.visits import bp, coverage, plan, services
from blueprints.visits.forms import CoverageExportForm
from blueprints.visits.routes import visit_labels, visit_time
from domain.geo import valid_position
from web import render, requires

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


class PlanLine(NamedTuple):
    """What the plan's template shows of a row, formatted once here."""

    row: plan.PlanRow
    show_url: str
    new_url: str
    distance: str | None
    last_visit: str
    suggestion: str | None


def _plan_lines(rows, period_labels) -> list[PlanLine]:
    """Each row's links, distance, last visit and suggestion as text: the route prefixes and the
    translated formats looked up once per page (the same text the template's url_for, _() and
    the when macro wrote per row)."""
    show = _url_pattern("residents.show", resident_id=_ID)
    new = _url_pattern("visits.new", subject_type="resident", subject_id=_ID)
    # Plain text, escaped once when the template writes it.
    metres, last, never = _("%(d)s m"), _("last visited %(when)s"), _("never visited")
    missed = _("No one home %(n)d times (at %(hours)s h): try %(when)s.")
    lines = []
    for row in rows:
        rid = str(row.resident.id)
        lines.append(PlanLine(
            row, show[0] + rid + show[1], new[0] + rid + new[1],
            metres % {"d": int(round(row.distance_m, 0))} if row.distance_m is not None else None,
            last % {"when": visit_time(row.last_visit)} if row.last_visit else never,
            missed % {"n": row.missed, "hours": ", ".join(map(str, row.hours)),
                      "when": period_labels[row.suggestion]} if row.suggestion else None))
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
    period_labels = {k: str(v) for k, v in labels["period_labels"].items()}
    return render("visits/plan.html", "visits/_plan.html", lines=_plan_lines(rows, period_labels),
                  position=position, days=plan.focus_days(), radius_km=plan.plan_radius_m() / 1000,
                  reason_labels={k: str(v) for k, v in labels["reason_labels"].items()},
                  period_labels=period_labels)


def _coverage():
    return coverage.coverage(current_user.station_id, services.today_local())


@bp.get("/coverage")
@requires(*services.COVERAGE_ROLES)
def coverage_page():
    """Coverage per grid and per officer over 30 and 90 days, with overdue follow-ups."""
    return render("visits/coverage.html", report=_coverage(), export_form=CoverageExportForm(),
                  percent=coverage.percent)


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
