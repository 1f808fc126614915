"""Patrol views for the command room and leaders: points, QR sheets, the compliance report."""
import io
from datetime import datetime

from flask import abort, current_app, flash, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from blueprints.home.services import LOCAL_TZ
from blueprints.patrol import bp, reports, services
from blueprints.patrol.forms import PatrolPointForm, ReportForm
from extensions import db
from models import Grid
from models.users import CASE, COMMAND, COMMUNITY, LEADER
from web import render, requires, see_other

MANAGE_ROLES = (COMMAND, LEADER)


def _grid_choices():
    """(id, name) of the station's grids by code, read as columns."""
    return [tuple(row) for row in db.session.execute(
        select(Grid.id, Grid.name).where(Grid.station_id == current_user.station_id).order_by(Grid.code))]


def _point_or_404(point_id: int):
    point = services.station_point(current_user.station_id, point_id)
    if point is None:
        abort(404)
    return point


def _point_form_page(form, point, status=200):
    return render("patrol/point_form.html", "patrol/_point_form.html", status=status, form=form, point=point,
                  tile_url=current_app.config.get("MAP_TILE_URL", ""),
                  tile_crs=current_app.config.get("MAP_TILE_CRS", "wgs84"))


@bp.get("/points")
@requires(COMMUNITY, COMMAND, CASE, LEADER)
def points():
    """Patrol points: the whole station, or an officer's own grids (read-only but for managers)."""
    return render("patrol/points.html", points=services.visible_points(current_user),
                  can_manage=current_user.role in MANAGE_ROLES)


@bp.get("/points/new")
@requires(*MANAGE_ROLES)
def new_point():
    """The form for a new patrol point."""
    return _point_form_page(PatrolPointForm(grid_choices=_grid_choices()), None)


@bp.post("/points")
@requires(*MANAGE_ROLES)
def create_point():
    """Create a patrol point."""
    form = PatrolPointForm(grid_choices=_grid_choices())
    if form.validate_on_submit():
        services.save_point(None, current_user.station_id, form.data)
        flash(_("Patrol point saved."), "success")
        return see_other(url_for("patrol.points"))
    return _point_form_page(form, None, 422)


@bp.get("/points/<int:point_id>/edit")
@requires(*MANAGE_ROLES)
def edit_point(point_id: int):
    """The form of an existing patrol point."""
    point = _point_or_404(point_id)
    return _point_form_page(PatrolPointForm(obj=point, grid_choices=_grid_choices()), point)


@bp.post("/points/<int:point_id>")
@requires(*MANAGE_ROLES)
def update_point(point_id: int):
    """Save a patrol point (deactivate it by unticking Active)."""
    point = _point_or_404(point_id)
    form = PatrolPointForm(grid_choices=_grid_choices())
    if form.validate_on_submit():
        services.save_point(point, current_user.station_id, form.data)
        flash(_("Patrol point saved."), "success")
        return see_other(url_for("patrol.points"))
    return _point_form_page(form, point, 422)


@bp.get("/points/qr")
@requires(*MANAGE_ROLES)
def qr_sheet():
    """A printable A4 sheet of QR codes with their short codes (all active points, or one grid or point)."""
    grid_id = request.args.get("grid", type=int)
    point_id = request.args.get("point", type=int)
    chosen = [p for p in services.visible_points(current_user, active_only=point_id is None)
              if (grid_id is None or p.grid_id == grid_id) and (point_id is None or p.id == point_id)]
    url = url_for("patrol.check_in", _external=True)
    return render("patrol/qr_sheet.html", cards=[services.point_codes(p, url) for p in chosen])


def _report_form():
    today = datetime.now(LOCAL_TZ).date()
    return ReportForm(request.args, grid_choices=_grid_choices(), today=today)


@bp.get("/report")
@requires(*MANAGE_ROLES)
def report():
    """The compliance report per officer, grid and day for a date range."""
    form = _report_form()
    if not form.validate():
        return render("patrol/report.html", "patrol/_report.html", form=form, report=None, status=422)
    # The page shows totals; the day-by-day table is its own request (report_daily).
    result = reports.compliance(current_user.station_id, form.start.data, form.end.data, form.grid_id.data,
                                daily=False)
    return render("patrol/report.html", "patrol/_report.html", form=form, report=result)


@bp.get("/report.xlsx")
@requires(*MANAGE_ROLES)
def export_report():
    """The compliance report as an Excel file (the export is audited)."""
    form = _report_form()
    if not form.validate():
        return render("patrol/report.html", form=form, report=None, status=422)
    result = reports.compliance(current_user.station_id, form.start.data, form.end.data, form.grid_id.data)
    data = reports.export_xlsx(current_user, result)
    name = f"patrol-compliance-{form.start.data:%Y%m%d}-{form.end.data:%Y%m%d}.xlsx"
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/report/daily")
@requires(*MANAGE_ROLES)
def report_daily():
    """The report's day-by-day table (fetched when opened; the full page shows it open)."""
    form = _report_form()
    if not form.validate():
        return render("patrol/report.html", form=form, report=None, status=422)
    result = reports.compliance(current_user.station_id, form.start.data, form.end.data, form.grid_id.data)
    return render("patrol/report.html", "patrol/_report_daily.html", form=form, report=result, show_daily=True)
