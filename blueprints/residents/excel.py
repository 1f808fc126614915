"""Excel for the ledgers (openpyxl): masked exports, the import template, and a validated import.

An import validates every row with the same rules as the form (document, phone, category, address)
and imports nothing while a row is bad, unless the user asked for the clean rows only. A document
number already on file is left alone, so importing the same file twice creates nothing new.
"""
import io
from dataclasses import dataclass, field

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from blueprints.residents import people
from blueprints.residents.people import LedgerError
from blueprints.residents.people import mask_document as mask
from extensions import db
from models import Grid, Resident, audit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_IMPORT_ROWS = 20_000

# (key, header) in template order; headers are bilingual so one template serves both languages.
COLUMNS = (("name", "姓名 Name"), ("doc_type", "证件类型 Document type"), ("doc_number", "证件号码 Document number"),
           ("phone", "电话 Phone"), ("category", "类别 Category"), ("community", "社区 Community"),
           ("street", "街路巷门牌 Street"), ("building", "楼栋 Building"), ("unit", "单元 Unit"),
           ("room", "房间 Room"), ("grid", "网格 Grid"), ("tags", "标签 Tags"), ("notes", "备注 Notes"))
DOC_TYPE_WORDS = {"居民身份证": "resident", "身份证": "resident", "港澳台居民居住证": "hmt_permit",
                  "外国人永久居留身份证": "foreign_permanent", "护照": "passport"}
CATEGORY_WORDS = {"常住": "permanent", "流动": "floating", "寄住": "lodging"}
TAG_WORDS = {"独居老人": "elderly_alone", "走失风险": "wander_risk", "残障": "disability",
             "留守儿童": "left_behind_child", "重点人员": "key_person"}


def workbook_bytes(workbook: Workbook) -> io.BytesIO:
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def template() -> io.BytesIO:
    """The import template: the header row and one example row."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "residents"
    sheet.append([header for _key, header in COLUMNS])
    sheet.append(["张三", "居民身份证", "11010519491231002X", "13812345678", "常住", "城东社区", "解放路12号",
                  "3号楼", "2单元", "301", "G01", "独居老人", ""])
    for column in "ABCDEFGHIJKLM":
        sheet.column_dimensions[column].width = 18
    return workbook_bytes(workbook)


def export_residents(user, residents) -> io.BytesIO:
    """The residents the user may see, numbers and phones masked; the export is audited."""
    from domain.phone import mask_phone

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("residents")
    sheet.append([header for _key, header in COLUMNS[:11]])
    count = 0
    for r in residents:
        a = r.address
        sheet.append([r.name, r.doc_type, mask(r.doc_number), mask_phone(r.phone), r.category,
                      a.community if a else "", a.street if a else "", a.building if a else "",
                      a.unit if a else "", a.room if a else "", ""])
        count += 1
    audit("export", user=user, what="residents", rows=count)
    db.session.commit()
    return workbook_bytes(workbook)


@dataclass
class ImportReport:
    """What an import found: bad rows (row number, column, reason), and what it did."""

    errors: list[tuple[int, str, str]] = field(default_factory=list)
    created: int = 0
    existing: int = 0
    clean: int = 0
    imported: bool = False


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _header_for(key: str) -> str:
    return dict(COLUMNS)[key]


def _parse_row(user, values: dict, grids: dict) -> dict:
    """One row checked with the form's rules; raises LedgerError(column key, reason)."""
    if not values["name"]:
        raise LedgerError("name", _("Enter the name."))
    doc_type = DOC_TYPE_WORDS.get(values["doc_type"], values["doc_type"] or "resident")
    if doc_type not in dict(people.doc_type_choices()):
        raise LedgerError("doc_type", _("Unknown document type."))
    if not values["doc_number"]:
        raise LedgerError("doc_number", _("Enter the number."))
    info = people.validate_document(doc_type, values["doc_number"])
    phone = people.validate_phone(values["phone"])
    category = CATEGORY_WORDS.get(values["category"], values["category"] or "permanent")
    if category not in dict(people.category_choices()):
        raise LedgerError("category", _("Unknown category."))
    if bool(values["community"]) != bool(values["street"]):
        raise LedgerError("street" if values["community"] else "community",
                          _("Give both the community and the street, or neither."))
    grid_id = None
    if values["grid"]:
        grid_id = grids.get(values["grid"])
        if grid_id is None:
            raise LedgerError("grid", _("Unknown grid (or not one of yours)."))
    tags = [TAG_WORDS.get(t, t) for t in values["tags"].replace("，", ",").replace("、", ",").split(",") if t.strip()]
    tags = [t.strip() for t in tags]
    if any(t not in dict(people.tag_choices()) for t in tags):
        raise LedgerError("tags", _("Unknown tag."))
    return {"name": values["name"], "doc_type": doc_type, "info": info, "phone": phone, "category": category,
            "grid_id": grid_id, "tags": tags, "notes": values["notes"][:500] or None,
            "address": {k: values[k] for k in ("community", "street", "building", "unit", "room")}}


def import_residents(user, stream, *, clean_only: bool) -> ImportReport:
    """Validate every row; import them all when clean (or the clean ones on request)."""
    report = ImportReport()
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a file that is not a workbook
        report.errors.append((0, "", _("This is not an Excel file made from the template (.xlsx).")))
        return report
    from blueprints.residents.forms import grid_choices

    allowed = {gid for gid, _name in grid_choices(user)}
    grids = {}
    for grid in db.session.scalars(select(Grid).where(Grid.station_id == user.station_id, Grid.id.in_(allowed))):
        grids[grid.code], grids[grid.name] = grid.id, grid.id
    rows, seen = [], {}
    sheet = workbook.worksheets[0]
    for number, raw in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        cells = [_cell(v) for v in raw[:len(COLUMNS)]] + [""] * (len(COLUMNS) - len(raw[:len(COLUMNS)]))
        if not any(cells):
            continue
        if len(rows) + len(report.errors) >= MAX_IMPORT_ROWS:
            report.errors.append((number, "", _("Too many rows: at most %(n)d per file.", n=MAX_IMPORT_ROWS)))
            break
        values = dict(zip((key for key, _h in COLUMNS), cells))
        try:
            row = _parse_row(user, values, grids)
        except LedgerError as error:
            report.errors.append((number, _header_for(error.field), error.message))
            continue
        key = (row["doc_type"], row["info"].number)
        if key in seen:
            report.errors.append((number, _header_for("doc_number"),
                                  _("The same number is on row %(row)d.", row=seen[key])))
            continue
        seen[key] = number
        rows.append(row)
    workbook.close()
    report.clean = len(rows)
    if report.errors and not clean_only:
        return report
    for row in rows:
        if people.find_resident(user.station_id, row["doc_type"], row["info"].number) is not None:
            report.existing += 1
            continue
        address = None
        if row["address"]["community"]:
            address = people.find_or_create_address(user.station_id, grid_id=row["grid_id"], **row["address"])
        resident = Resident(station_id=user.station_id, created_by_id=user.id, category=row["category"],
                            tags=" " + " ".join(row["tags"]) + " ", notes=row["notes"], address=address)
        people.apply_resident(resident, name=row["name"], doc_type=row["doc_type"], info=row["info"],
                              phone=row["phone"])
        db.session.add(resident)
        report.created += 1
    audit("import", user=user, what="residents", created=report.created, existing=report.existing,
          bad_rows=len(report.errors))
    db.session.commit()
    report.imported = True
    return report
