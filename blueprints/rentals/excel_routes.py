"""Excel export of the rentals ledger (numbers masked, audited)."""
from datetime import date

from flask import abort, send_file
from flask_login import current_user
from flask_wtf import FlaskForm
from openpyxl import Workbook

from blueprints.rentals import bp, ledger
from blueprints.residents.excel import XLSX, workbook_bytes
from blueprints.residents.people import mask_document as mask
from extensions import db
from models import audit
from web import requires

HEADERS = ("地址 Address", "网格 Grid", "房东 Landlord", "房东证件 Landlord ID", "间数 Rooms", "用途 Use",
           "租期起 Lease start", "租期止 Lease end", "在住人数 Tenants", "最近检查 Last inspection", "问题 Flags")


@bp.post("/export")
@requires()
def export():
    """Download the households the user may see as Excel; audited."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("rentals")
    sheet.append(HEADERS)
    page, count = 1, 0
    while True:
        items, total = ledger.list_households(current_user, page=page)
        for h in items:
            sheet.append([h.address_label, h.grid_id, h.landlord_name or "",
                          mask(h.landlord_doc_number) if h.landlord_doc_number else "", h.rooms, h.use,
                          h.lease_start, h.lease_end, h.tenants, h.last_inspected_on, " ".join(h.flags)])
        count += len(items)
        if count >= total or not items:
            break
        page += 1
    audit("export", user=current_user, what="rentals", rows=count)
    db.session.commit()
    return send_file(workbook_bytes(workbook), mimetype=XLSX, as_attachment=True,
                     download_name=f"rentals-{date.today().isoformat()}.xlsx")
