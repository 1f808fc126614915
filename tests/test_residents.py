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


# --- search keys: kept on write, and the same matches as the LIKE search they replace ----------

def stored_keys(resident_id: int) -> set:
    from models.people import ResidentSearchKey

    return set(db.session.execute(select(ResidentSearchKey.field, ResidentSearchKey.key)
                                  .where(ResidentSearchKey.resident_id == resident_id)).tuples())


def expected_keys(resident) -> set:
    from models.people import resident_key_rows

    return {(row["field"], row["key"])
            for row in resident_key_rows(resident.id, resident.station_id, resident.name, resident.search)}


def stored_address_keys(address_id: int) -> set:
    from models.places import AddressSearchKey

    return set(db.session.scalars(select(AddressSearchKey.key).where(AddressSearchKey.address_id == address_id)))


def found(client, q: str) -> str:
    return client.get("/residents/", query_string={"q": q}, headers={"HX-Request": "true"}).get_data(as_text=True)


def test_search_keys_follow_create_edit_and_delete(auth, client, station):
    """The key rows are the resident's search keys and name suffixes right after each write; a
    changed name or number is found by its new keys only; a deleted person leaves no key."""
    auth.login("demo-officer")
    number = id_number(77)
    assert add(auth, station, doc_number=number).status_code == 303
    resident = db.session.scalars(select(Resident)).one()
    keys = stored_keys(resident.id)
    assert keys == expected_keys(resident)
    assert {("k", "zxm"), ("k", "zengxiaoming"), ("k", number[-4:].lower()), ("k", "5678"),
            ("n", "曾小明"), ("n", "小明"), ("n", "明")} <= keys
    assert stored_address_keys(resident.address_id) == {resident.address.search[i:] for i in
                                                        range(len(resident.address.search))}
    assert f'id="resident-{resident.id}"' in found(client, number[-4:])

    new_number = id_number(78)
    data = resident_data(grid_id=station.grid_a.id, name="单伟", doc_number=new_number, phone="139 0000 1111")
    assert auth.post(f"/residents/{resident.id}", data=data).status_code == 303
    db.session.refresh(resident)
    assert stored_keys(resident.id) == expected_keys(resident)
    assert ("k", "shanwei") in stored_keys(resident.id) and ("k", "zxm") not in stored_keys(resident.id)
    assert f'id="resident-{resident.id}"' in found(client, "sw")
    assert f'id="resident-{resident.id}"' in found(client, "1111")
    assert "resident-" not in found(client, "zxm") and "resident-" not in found(client, number[-4:])

    address = resident.address
    db.session.delete(resident)
    db.session.commit()
    assert stored_keys(resident.id) == set()
    db.session.delete(address)
    db.session.commit()
    assert stored_address_keys(address.id) == set()


def test_imported_residents_have_their_search_keys(auth, client, station):
    auth.login("demo-leader")
    assert _import(auth, CLEAN).status_code == 200
    people = db.session.scalars(select(Resident)).all()
    assert len(people) == 2 and all(stored_keys(p.id) == expected_keys(p) for p in people)
    zhang = next(p for p in people if p.name == "张三")
    assert stored_address_keys(zhang.address_id)
    assert f'id="resident-{zhang.id}"' in found(client, "zs")
    assert f'id="resident-{zhang.id}"' in found(client, "三")


def test_a_phone_added_by_a_rental_registration_is_searchable(auth, client, station):
    """A tenant already on file without a phone gets the phone given at registration, and its keys."""
    tenant = factories.make_resident(station.station, factories.make_address(station.station, station.grid_a),
                                     name="曾小明", doc_number=id_number(21))
    assert ("k", "5678") not in stored_keys(tenant.id)
    auth.login("demo-officer")
    from tests.test_rentals import register

    assert register(auth, station).status_code == 303
    db.session.refresh(tenant)
    assert tenant.phone == "+8613912345678"
    assert stored_keys(tenant.id) == expected_keys(tenant) and ("k", "5678") in stored_keys(tenant.id)
    assert f'id="resident-{tenant.id}"' in found(client, "5678")


def test_seeded_residents_and_addresses_have_their_keys(app):
    """The demo seeder's Core inserts write the same keys as the mapper events would."""
    import demo
    from models import Address
    from models.places import address_key_rows

    demo.seed("small", 5)
    residents = db.session.scalars(select(Resident)).all()
    assert residents and all(stored_keys(r.id) == expected_keys(r) for r in residents)
    addresses = db.session.scalars(select(Address)).all()
    assert all(stored_address_keys(a.id) == {row["key"] for row in address_key_rows(a.id, a.station_id, a.search)}
               for a in addresses)


def _like_search(user, q: str) -> list[int]:
    """The search as it was before the key tables (LIKE over the search columns): the oracle."""
    from sqlalchemy import union_all

    from blueprints.residents import people
    from blueprints.residents.services import SEARCH_LIMIT, normalise_query
    from models import Address

    term = normalise_query(q)
    query = people.resident_scope(user, select(Resident.id).outerjoin(Resident.address))
    escaped = people.like_escape(term)
    parts = [select(Resident.id).where(Resident.station_id == user.station_id,
                                       Resident.search.like(f"% {escaped}%", escape="\\")),
             select(Resident.id).where(Resident.address_id.in_(
                 select(Address.id).where(Address.search.like(f"%{escaped}%", escape="\\"))))]
    if not term.isascii():
        parts.append(select(Resident.id).where(Resident.station_id == user.station_id,
                                               Resident.name.like(f"%{escaped}%", escape="\\")))
    query = query.where(Resident.id.in_(union_all(*parts))).order_by(Resident.name, Resident.id)
    return list(db.session.scalars(query.limit(SEARCH_LIMIT)))


SEARCH_TERMS = ["zw", "ZW", "ｚｗ", "z", "zh", "zhang", "zhangwei", "ZhangWei", "zeng", "ceng", "zxm", "cxm", "xm",
                "sw", "shanwei", "danwei", "oy", "ouyang", "oynn", "lmary", "limary", "mary", "johnsmith", "js",
                "张", "张伟", "伟", "小明", "明", "欧阳", "阳娜", "李Mary", "李mary",
                "解放路", "放路", "城东社区解", "1号楼", "101", "单元3", "-7", "5678", "0005", "x", "X", "%", "_", "\\",
                "qqqq"]


def test_search_matches_as_the_like_search_did(app, station):
    """Pinyin initials, full pinyin, name (anywhere when Chinese), ID tail, phone, address fragment,
    mixed case and full-width: the same people in the same order as the LIKE search, for an officer
    (own grids) and for the command room (the station)."""
    from blueprints.residents.services import search_residents

    in_a = [factories.make_address(station.station, station.grid_a, street=f"解放路{n}号", room=f"10{n}")
            for n in range(1, 4)]
    in_b = factories.make_address(station.station, station.grid_b, community="城西社区", street="建设街7号",
                                  unit="3单元")
    names = ["张伟", "张伟", "周文", "曾小明", "单伟", "王小明", "欧阳娜娜", "李Mary", "John Smith", "赵薇", "张无忌",
             "章文", "庄伟"]
    for n, name in enumerate(names):
        address = (in_a[n % 3] if n % 4 else in_b) if n != 5 else None
        factories.make_resident(station.station, address, name=name, doc_number=id_number(500 + n),
                                phone=f"+861391234{n:04d}" if n % 2 else None)
    x_tail = next(id_number(n) for n in range(600, 700) if id_number(n).endswith("X"))
    factories.make_resident(station.station, in_b, name="张小五", doc_number=x_tail)
    hits = 0
    for user in (station.officer, station.command):
        for q in SEARCH_TERMS:
            expected = _like_search(user, q)
            assert [r.id for r in search_residents(user, q)] == expected, (user.username, q)
            hits += bool(expected)
    assert hits >= 60  # the terms do find people: the comparison is not between empty lists


def test_mask_phone_without_parsing_agrees_with_phonenumbers(app):
    """The filter's shortcut for +86 numbers gives mask_phone's text, and defers where it might not."""
    from blueprints.residents.routes import mask_phone_filter
    from domain.phone import mask_phone

    numbers = ["+8613812345678", "+8619912345678", "+8617012345678", "+8617912345678", "+8611234567890",
               "+8612345678901", "+861012345678", "+862112345678", "+8675512345678", "+8657112345", "+86123456",
               "+85291234567", "+14155550123", None, ""]
    for number in numbers:
        masked = mask_phone(number)
        assert mask_phone_filter(number) == (masked[4:] if masked.startswith("+86 ") else masked), number
