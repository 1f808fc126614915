"""Residents ledger: add, duplicates, precise ID errors, masking, audited reveal, search, scope, Excel."""
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from extensions import db
from models import AuditEvent, Resident
from tests import factories
from tests.conftest import count_queries
from tests.factories import id_number


def resident_data(**overrides):
    data = {"name": "曾小明", "doc_type": "resident", "doc_number": id_number(77), "phone": "138 1234 5678",
            "category": "floating", "community": "城东社区", "street": "解放路12号", "building": "3号楼",
            "unit": "2单元", "room": "301"}
    data.update(overrides)
    return data


def add(auth, station, **overrides):
    data = resident_data(grid_id=station.grid_a.id, **overrides)
    return auth.post("/residents/", data=data)


def test_officer_adds_a_resident_with_derived_fields(auth, client, station):
    """Birth date and sex come from the number; the phone is stored as E.164; the page masks both."""
    auth.login("demo-officer")
    number = id_number(77, birth="19850615")
    response = add(auth, station, doc_number=number.lower())
    assert response.status_code == 303
    resident = db.session.scalars(select(Resident)).one()
    assert resident.doc_number == number and resident.phone == "+8613812345678"
    assert str(resident.birth_date) == "1985-06-15" and resident.sex == "male"
    assert resident.address.grid_id == station.grid_a.id
    page = client.get(f"/residents/{resident.id}").get_data(as_text=True)
    assert "140581" + "*" * 8 + number[-4:] in page
    assert number not in page and "13812345678" not in page and "138****5678" in page


def test_masks_follow_the_house_format(app):
    from blueprints.residents.people import mask_document
    from blueprints.residents.routes import mask_phone_filter

    assert mask_document("140581199001011235") == "140581********1235"
    assert mask_document("E1234567") == "E12*4567"
    assert mask_phone_filter("+8613812345678") == "138****5678"


@pytest.mark.parametrize("doc_type,number,message", [
    ("resident", "14058119900101123", "must have 18 characters"),
    ("resident", id_number(5)[:-1] + ("0" if id_number(5)[-1] != "0" else "1"), "check character"),
    ("hmt_permit", id_number(5), "starts with 81, 82 or 83"),
    ("foreign_permanent", id_number(5), "starts with 9"),
    ("passport", "E12", "5 to 20"),
])
def test_each_bad_number_gets_its_precise_reason(auth, client, station, doc_type, number, message):
    """Wrong length, check character, impossible date, wrong prefix: 422 with the reason beside the field."""
    client.set_cookie("lang", "en")
    auth.login("demo-officer")
    response = add(auth, station, doc_type=doc_type, doc_number=number)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body and 'id="doc_number-error"' in body
    assert db.session.scalar(select(func.count(Resident.id))) == 0


def test_impossible_date_check_digit_is_reported_as_date(auth, client, station):
    """A number whose check character is right but whose date is impossible says so."""
    from domain.idcard import check_char

    client.set_cookie("lang", "en")
    auth.login("demo-officer")
    first17 = "14058119900230123"
    response = add(auth, station, doc_number=first17 + check_char(first17))
    assert response.status_code == 422 and "Impossible birth date" in response.get_data(as_text=True)


def test_a_number_on_file_offers_the_existing_person(auth, client, station):
    existing = factories.make_resident(station.station, factories.make_address(station.station, station.grid_a),
                                       name="李四")
    auth.login("demo-officer")
    response = add(auth, station, doc_number=existing.doc_number)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'/residents/{existing.id}"' in body and "李四" in body
    assert db.session.scalar(select(func.count(Resident.id))) == 1


def test_bad_phone_is_refused_and_form_kept(auth, client, station):
    client.set_cookie("lang", "en")
    auth.login("demo-officer")
    response = add(auth, station, phone="12345")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Not a valid phone number." in body and "曾小明" in body


def test_reveal_needs_a_reason_and_is_audited(auth, client, station):
    """The full number comes back as a no-store fragment only after a reason; the reveal is logged."""
    resident = factories.make_resident(station.station, factories.make_address(station.station, station.grid_a))
    auth.login("demo-officer")
    token = auth.csrf(f"/residents/{resident.id}")
    refused = client.post(f"/residents/{resident.id}/reveal", data={"csrf_token": token, "reason": ""},
                          headers={"HX-Request": "true"})
    assert refused.status_code == 422 and resident.doc_number not in refused.get_data(as_text=True)
    response = client.post(f"/residents/{resident.id}/reveal", data={"csrf_token": token, "reason": "核查租户身份"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert resident.doc_number in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store" and response.headers["X-Pingan-No-Cache"] == "1"
    assert "<html" not in response.get_data(as_text=True)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reveal_id")).one()
    assert event.reason == "核查租户身份" and event.object_id == resident.id
    assert resident.doc_number not in str(event.detail)


def _seed_people(station):
    address = factories.make_address(station.station, station.grid_a, community="城东社区", street="解放路8号")
    other = factories.make_address(station.station, station.grid_b, community="城西社区", street="新华街3号")
    zeng = factories.make_resident(station.station, address, name="曾小明", doc_number=id_number(101),
                                   phone="+8613912340001")
    shan = factories.make_resident(station.station, other, name="单伟", doc_number=id_number(102))
    return zeng, shan


@pytest.mark.parametrize("query", ["曾小", "zengxiaoming", "zxm", "ZENG", id_number(101)[-4:], id_number(101)[-6:],
                                   "13912340001", "0001", "解放路8"])
def test_search_finds_by_every_key(auth, client, station, query):
    zeng, _shan = _seed_people(station)
    auth.login("demo-command")
    response = client.get("/residents/", query_string={"q": query}, headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and f'id="resident-{zeng.id}"' in body and "<html" not in body
    assert "Vary" in response.headers and "HX-Request" in response.headers["Vary"]


def test_surname_readings_are_searchable(auth, client, station):
    """单 as a surname is shan; the ordinary reading (dan) still works."""
    _zeng, shan = _seed_people(station)
    auth.login("demo-leader")
    for q in ("shanwei", "sw", "danwei"):
        body = client.get("/residents/", query_string={"q": q}).get_data(as_text=True)
        assert f'id="resident-{shan.id}"' in body, q


def test_officers_search_only_their_grids(auth, client, station):
    zeng, shan = _seed_people(station)
    auth.login("demo-officer")
    body = client.get("/residents/", query_string={"q": "shanwei"}).get_data(as_text=True)
    assert f'id="resident-{shan.id}"' not in body
    assert client.get(f"/residents/{shan.id}").status_code == 404
    assert client.get(f"/residents/{zeng.id}").status_code == 200


def test_case_team_reads_the_station_but_may_not_add(auth, client, station):
    _zeng, shan = _seed_people(station)
    auth.login("demo-case")
    assert f'id="resident-{shan.id}"' in client.get("/residents/?q=sw").get_data(as_text=True)
    assert client.get("/residents/new").status_code == 403
    assert add(auth, station).status_code == 403


def test_search_query_count_is_flat(auth, client, station):
    """Search and the list run the same number of statements for 2 or 40 matching people."""
    address = factories.make_address(station.station, station.grid_a)
    auth.login("demo-command")

    def count_statements(url):
        return count_queries(client, url)

    for i in range(2):
        factories.make_resident(station.station, address, name="王伟", doc_number=id_number(200 + i))
    small = count_statements("/residents/?q=ww"), count_statements("/residents/")
    for i in range(40):
        factories.make_resident(station.station, address, name="王伟", doc_number=id_number(300 + i))
    large = count_statements("/residents/?q=ww"), count_statements("/residents/")
    assert small == large


def test_export_is_masked_and_audited(auth, client, station):
    resident = factories.make_resident(station.station, factories.make_address(station.station, station.grid_a))
    auth.login("demo-command")
    response = auth.post("/residents/export")
    assert response.status_code == 200 and "spreadsheetml" in response.headers["Content-Type"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert resident.name in values and resident.doc_number not in values
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert event.detail["rows"] == 1


def _workbook(rows) -> io.BytesIO:
    from blueprints.residents.excel import COLUMNS

    workbook = Workbook()
    sheet = workbook.active
    sheet.append([h for _k, h in COLUMNS])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def _import(auth, rows, mode="all"):
    return auth.post("/residents/import", data={"file": (_workbook(rows), "ledger.xlsx"), "mode": mode},
                     content_type="multipart/form-data")


CLEAN = [["张三", "居民身份证", id_number(401), "13812345678", "常住", "城东社区", "解放路1号", "1号楼", "1单元", "101",
          "", "独居老人", ""],
         ["李四", "身份证", id_number(402), "", "流动", "", "", "", "", "", "", "", ""]]


def test_template_downloads(auth, client, station):
    auth.login("demo-officer")
    response = client.get("/residents/import/template.xlsx")
    assert response.status_code == 200
    header = next(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert header[0] == "姓名 Name"


def test_clean_import_twice_creates_nothing_new(auth, client, station):
    auth.login("demo-leader")
    first = _import(auth, CLEAN)
    assert first.status_code == 200 and db.session.scalar(select(func.count(Resident.id))) == 2
    zhang = db.session.scalars(select(Resident).where(Resident.name == "张三")).one()
    assert zhang.tag_list == ["elderly_alone"] and zhang.phone == "+8613812345678"
    second = _import(auth, CLEAN)
    assert second.status_code == 200 and db.session.scalar(select(func.count(Resident.id))) == 2
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "import")) == 2


def test_dirty_import_reports_rows_and_imports_nothing(auth, client, station):
    client.set_cookie("lang", "en")
    auth.login("demo-leader")
    bad_check = id_number(403)[:-1] + ("1" if id_number(403)[-1] != "1" else "2")
    rows = CLEAN + [["王五", "居民身份证", bad_check, "", "常住", "", "", "", "", "", "", "", ""],
                    ["赵六", "居民身份证", id_number(401), "", "常住", "", "", "", "", "", "", "", ""]]
    response = _import(auth, rows)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "check character" in body and "same number is on row 2" in body
    assert db.session.scalar(select(func.count(Resident.id))) == 0
    response = _import(auth, rows, mode="clean")
    assert response.status_code == 200 and db.session.scalar(select(func.count(Resident.id))) == 2


def test_import_refuses_a_file_that_is_not_excel(auth, client, station):
    auth.login("demo-leader")
    response = auth.post("/residents/import", data={"file": (io.BytesIO(b"not excel"), "x.xlsx"), "mode": "all"},
                         content_type="multipart/form-data")
    assert response.status_code == 422


def test_editing_shows_masked_numbers_and_keeps_them_when_untouched(auth, client, station):
    """The edit form never shows the full number or phone; sending the masks back keeps what is on file,
    typing a new number changes it."""
    auth.login("demo-officer")
    number = id_number(77)
    add(auth, station, doc_number=number)
    resident = db.session.scalars(select(Resident)).one()
    page = client.get(f"/residents/{resident.id}/edit").get_data(as_text=True)
    assert number not in page and "13812345678" not in page
    masked = "140581" + "*" * 8 + number[-4:]
    assert masked in page and "138****5678" in page
    data = resident_data(grid_id=station.grid_a.id, doc_number=masked, phone="138****5678", name="曾晓明")
    assert auth.post(f"/residents/{resident.id}", data=data).status_code == 303
    db.session.refresh(resident)
    assert (resident.name, resident.doc_number, resident.phone) == ("曾晓明", number, "+8613812345678")
    new_number = id_number(78)
    data.update(doc_number=new_number, phone="139 0000 1111")
    assert auth.post(f"/residents/{resident.id}", data=data).status_code == 303
    db.session.refresh(resident)
    assert (resident.doc_number, resident.phone) == (new_number, "+8613900001111")


def test_a_refused_edit_shows_the_masks_again(auth, client, station):
    auth.login("demo-officer")
    number = id_number(77)
    add(auth, station, doc_number=number)
    resident = db.session.scalars(select(Resident)).one()
    masked = "140581" + "*" * 8 + number[-4:]
    data = resident_data(grid_id=station.grid_a.id, doc_number=masked, phone="138****5678", name="")
    response = auth.post(f"/residents/{resident.id}", data=data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert number not in body and masked in body
