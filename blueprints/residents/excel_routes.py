"""Excel views of the residents ledger: masked export (audited), template, validated import."""
from datetime import date

from flask import abort, request, send_file
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from blueprints.residents import bp, excel, people
from blueprints.residents.forms import ImportForm
from blueprints.residents.people import LEDGER_EDITORS
from extensions import db
from models import Resident
from web import render, requires


@bp.post("/export")
@requires()
def export():
    """Download the residents the user may see as Excel, numbers masked; audited."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    query = people.resident_scope(current_user, select(Resident).options(joinedload(Resident.address)))
    residents = db.session.scalars(query.order_by(Resident.id)).yield_per(2000)
    data = excel.export_residents(current_user, residents)
    return send_file(data, mimetype=excel.XLSX, as_attachment=True,
                     download_name=f"residents-{date.today().isoformat()}.xlsx")


@bp.get("/import/template.xlsx")
@requires(*LEDGER_EDITORS)
def import_template():
    """The template to fill in for an import."""
    return send_file(excel.template(), mimetype=excel.XLSX, as_attachment=True,
                     download_name="residents-template.xlsx")


@bp.get("/import")
@requires(*LEDGER_EDITORS)
def import_form():
    """The import page: template link, file, what to do with bad rows."""
    return render("residents/import.html", form=ImportForm(), report=None)


@bp.post("/import")
@requires(*LEDGER_EDITORS)
def import_file():
    """Validate and import a filled-in template; 422 with every bad row when nothing was imported."""
    form = ImportForm()
    upload = request.files.get("file")
    if not form.validate_on_submit() or upload is None or not upload.filename:
        form.file.errors = list(form.file.errors) + [_no_file()]
        return render("residents/import.html", form=form, report=None, status=422)
    report = excel.import_residents(current_user, upload.stream, clean_only=form.mode.data == "clean")
    return render("residents/import.html", form=form, report=report, status=200 if report.imported else 422)


def _no_file() -> str:
    from flask_babel import gettext as _

    return _("Choose the Excel file.")
