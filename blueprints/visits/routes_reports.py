"""Views of visits that read many rows: who to visit (officer, phone) and coverage (command room, desktop)."""
import io

from flask import abort, request, send_file
from flask_login import current_user

from blueprints.visits import bp, coverage, plan, services
from blueprints.visits.forms import CoverageExportForm
from blueprints.visits.routes import visit_labels
from domain.geo import valid_position
from web import render, requires

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _position_from_args() -> tuple[float, float] | None:
    """The position the browser sent (?lat=&lon=, WGS-84), or None when missing or unusable."""
    lat, lon = request.args.get("lat", type=float), request.args.get("lon", type=float)
    if lat is None or lon is None or not valid_position(lat, lon):
        return None
    return lat, lon


@bp.get("/plan")
@requires(*services.RECORD_ROLES)
def plan_page():
    """Who to visit: focus residents of my grids not visited lately, nearest first from ?lat=&lon=."""
    position = _position_from_args()
    rows = plan.who_to_visit(current_user, position)
    # The reason and period labels translated once here, not once per row (they override
    # visit_labels' lazy ones for this page).
    labels = visit_labels()
    return render("visits/plan.html", "visits/_plan.html", rows=rows,
                  position=position, days=plan.focus_days(), radius_km=plan.plan_radius_m() / 1000,
                  reason_labels={k: str(v) for k, v in labels["reason_labels"].items()},
                  period_labels={k: str(v) for k, v in labels["period_labels"].items()})


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
