"""Visits (走访): recording on the phone and offline, bad input, follow-ups, history, places and roles."""
import io
import re
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from blueprints.home.services import LOCAL_TZ
from blueprints.sync import records
from blueprints.visits.forms import VisitForm
from extensions import db
from models import Attachment, FollowUp, Place, SyncReceipt, Visit
from tests import factories

HX = {"HX-Request": "true"}
SYNC = {"X-Requested-With": "pingan-sync"}
POSITION = (35.7986, 112.9237)


def text(response) -> str:
    return response.get_data(as_text=True)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def today() -> date:
    return datetime.now(LOCAL_TZ).date()


def visit_data(subject=None, **overrides) -> dict:
    data = {"client_id": str(uuid.uuid4()), "recorded_at": datetime.now(timezone.utc).isoformat(),
            "subject_type": "resident", "subject_id": str(subject.id) if subject else "", "purpose": "routine",
            "outcome": "met", "notes": "了解近况，身体良好。", "lat": str(POSITION[0]), "lon": str(POSITION[1]),
            "accuracy": "12"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def make_visit(officer, resident, when=None, outcome="met", **overrides) -> Visit:
    """A stored visit to a resident, as the service would store it."""
    when = when or datetime.now(timezone.utc)
    fields = {"station_id": officer.station_id, "officer_id": officer.id,
              "grid_id": resident.address.grid_id if resident.address else None, "subject_type": "resident",
              "resident_id": resident.id, "purpose": "routine", "outcome": outcome, "via": "online",
              "recorded_at": when, "received_at": when, "local_hour": when.astimezone(LOCAL_TZ).hour}
    fields.update(overrides)
    visit = Visit(**fields)
    db.session.add(visit)
    db.session.commit()
    return visit


@pytest.fixture
def people(station):
    """A resident in grid A (the officer's), one in grid B, one of another station."""
    other = factories.make_station()
    other_grid = factories.make_grid(other)
    return {
        "mine": factories.make_resident(station.station, factories.make_address(station.station, station.grid_a),
                                        name="王秀英"),
        "grid_b": factories.make_resident(station.station, factories.make_address(station.station, station.grid_b),
                                          name="赵大山"),
        "foreign": factories.make_resident(other, factories.make_address(other, other_grid), name="孙外站"),
    }


@pytest.fixture
def officer(auth, client, station):
    auth.login("demo-officer")
    client.set_cookie("lang", "en")
    return station.officer


# --- recording -----------------------------------------------------------------------------------------

def test_the_visit_page_is_a_field_form_with_active_search(officer, client):
    """The page carries the outbox kind, a fresh record id, the active search and the photo field."""
    page = text(client.get("/visits/new"))
    assert 'data-outbox="visit"' in page and 'hx-encoding="multipart/form-data"' in page
    assert re.search(r'name="client_id" type="hidden" value="[0-9a-f-]{36}"', page)
    assert 'hx-trigger="input changed delay:250ms, search"' in page and 'name="photo"' in page
    assert records.KINDS["visit"].page == "visits.new"


def test_officer_records_a_visit_to_a_resident_of_their_grid(officer, auth, client, people):
    """A plain POST answers 303 to the visit; the row has the officer, grid, position and local hour."""
    response = auth.post("/visits/", visit_data(people["mine"], purpose="anti_fraud"))
    visit = db.session.scalars(select(Visit)).one()
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/visits/{visit.id}")
    assert (visit.officer_id, visit.grid_id, visit.resident_id, visit.purpose) == (
        officer.id, people["mine"].address.grid_id, people["mine"].id, "anti_fraud")
    assert visit.lat == POSITION[0] and visit.accuracy_m == 12 and visit.via == "online"
    assert visit.local_hour == visit.recorded_at.astimezone(LOCAL_TZ).hour
    page = text(client.get(response.headers["Location"]))
    assert "Visit saved." in page and "王秀英" in page and "Anti-fraud publicity" in page


def test_htmx_post_redirects_with_hx_redirect(officer, auth, people):
    response = auth.post("/visits/", visit_data(people["mine"]), headers=HX)
    assert response.status_code == 204 and response.headers["HX-Redirect"].startswith("/visits/")


def test_same_client_id_twice_is_one_visit(officer, auth, people):
    """A lost response and a retry: the second POST answers the first visit, nothing new is stored."""
    data = visit_data(people["mine"], follow_up="y", follow_up_due=(today() + timedelta(days=3)).isoformat())
    first, second = auth.post("/visits/", data), auth.post("/visits/", data)
    assert first.headers["Location"] == second.headers["Location"]
    assert count(Visit) == 1 and count(FollowUp) == 1 and count(SyncReceipt) == 1


def test_synced_visit_is_created_once(officer, client, people):
    """Offline: /api/sync validates with the same form; the same item twice is a duplicate."""
    data = visit_data(people["mine"])
    item = {"client_id": data.pop("client_id"), "kind": "visit", "recorded_at": data.pop("recorded_at"),
            "data": data | {"subject_id": people["mine"].id, "lat": POSITION[0], "lon": POSITION[1], "accuracy": 9}}
    body = {"device_id": "phone", "items": [item]}
    first = client.post("/api/sync", json=body, headers=SYNC).get_json()["results"][0]
    again = client.post("/api/sync", json=body, headers=SYNC).get_json()["results"][0]
    assert (first["status"], again["status"]) == ("created", "duplicate") and first["id"] == again["id"]
    assert db.session.scalars(select(Visit.via)).all() == ["sync"]


def test_synced_visit_of_another_station_is_rejected_with_the_field(officer, client, people):
    data = visit_data(people["foreign"])
    item = {"client_id": data.pop("client_id"), "kind": "visit", "recorded_at": data.pop("recorded_at"), "data": data}
    result = client.post("/api/sync", json={"device_id": "p", "items": [item]}, headers=SYNC).get_json()["results"][0]
    assert result["status"] == "rejected" and "No such resident in your station." in result["errors"]["subject_id"]
    assert count(Visit) == 0


def test_photo_is_cleaned_and_shown(officer, auth, client, people):
    image = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(image, "JPEG")
    image.seek(0)
    data = visit_data(people["mine"]) | {"photo": (image, "visit.jpg")}
    response = auth.post("/visits/", data, content_type="multipart/form-data")
    visit = db.session.scalars(select(Visit)).one()
    assert response.status_code == 303 and visit.photo_id == db.session.scalars(select(Attachment.id)).one()
    assert client.get(f"/visits/{visit.id}/photo").mimetype == "image/jpeg"


def test_not_a_photo_is_refused_beside_the_field(officer, auth, people):
    data = visit_data(people["mine"]) | {"photo": (io.BytesIO(b"not an image"), "x.jpg")}
    response = auth.post("/visits/", data, content_type="multipart/form-data", headers=HX)
    assert response.status_code == 422 and 'id="photo-error"' in text(response) and count(Visit) == 0


# --- bad input: a clear message beside the field, 4xx, nothing saved -----------------------------------

@pytest.mark.parametrize("who, message", [
    ("foreign", "No such resident in your station."),
    ("grid_b", "This is outside your grids: you may only visit in your own grids."),
])
def test_subject_outside_station_or_grids_is_refused(officer, auth, people, who, message):
    response = auth.post("/visits/", visit_data(people[who], notes="我写的记录"), headers=HX)
    body = text(response)
    assert response.status_code == 422 and f'id="subject_id-error">{message}' in body
    assert "我写的记录" in body, "what the officer typed comes back in the form"
    assert count(Visit) == 0 and count(SyncReceipt) == 0


@pytest.mark.parametrize("subject_type, subject_id, message", [
    ("resident", "", "Choose who or what you visited from the list."),
    ("resident", "999999", "No such resident in your station."),
    ("household", "999999", "No such rental household in your station."),
    ("place", "", "Choose the place from the list, or enter the name of a new one."),
    ("resident", "abc", "Not a valid integer value."),
])
def test_missing_or_unknown_subject(officer, auth, subject_type, subject_id, message):
    response = auth.post("/visits/", visit_data(subject_type=subject_type, subject_id=subject_id), headers=HX)
    assert response.status_code == 422 and message in text(response) and count(Visit) == 0


def test_follow_up_due_in_the_past_is_refused(officer, auth, people):
    data = visit_data(people["mine"], follow_up="y", follow_up_due=(today() - timedelta(days=1)).isoformat())
    response = auth.post("/visits/", data, headers=HX)
    assert response.status_code == 422
    assert 'id="follow_up_due-error">The follow-up date is in the past.' in text(response)
    assert count(Visit) == 0 and count(FollowUp) == 0


def test_follow_up_without_a_date_is_refused(officer, auth, people):
    response = auth.post("/visits/", visit_data(people["mine"], follow_up="y"), headers=HX)
    assert response.status_code == 422 and "Give the date of the follow-up visit." in text(response)


def test_visit_recorded_in_the_future_is_refused(officer, auth, people):
    """More than 2 minutes ahead of the server: the phone's clock is wrong; one minute ahead is fine."""
    ahead = (datetime.now(timezone.utc) + timedelta(minutes=10)).isoformat()
    response = auth.post("/visits/", visit_data(people["mine"], recorded_at=ahead), headers=HX)
    assert response.status_code == 422
    assert 'id="recorded_at-error">This visit is dated in the future' in text(response) and count(Visit) == 0
    slightly = (datetime.now(timezone.utc) + timedelta(minutes=1)).isoformat()
    assert auth.post("/visits/", visit_data(people["mine"], recorded_at=slightly)).status_code == 303


def test_bad_position_is_refused(officer, auth, people):
    response = auth.post("/visits/", visit_data(people["mine"], lat="95", lon=""), headers=HX)
    assert response.status_code == 422 and 'id="lat-error"' in text(response)


def test_form_validates_from_a_flat_dict_without_a_request(app, people):
    """The sync path: the same class, no request, no CSRF."""
    with app.test_request_context():
        form = VisitForm(formdata=MultiDict(visit_data(people["mine"])), meta={"csrf": False})
        assert form.validate(), form.errors
        bad = VisitForm(formdata=MultiDict(visit_data(people["mine"], outcome="maybe", purpose="x")),
                        meta={"csrf": False})
        assert not bad.validate() and set(bad.errors) >= {"outcome", "purpose"}


# --- follow-ups ----------------------------------------------------------------------------------------

def test_follow_up_is_listed_oldest_first_and_done_by_the_next_visit(officer, auth, client, people, station):
    """Due dates in order; no one home keeps it open; meeting the person closes it."""
    later = factories.make_resident(station.station, factories.make_address(station.station, station.grid_a),
                                    name="李后来")
    auth.post("/visits/", visit_data(later, follow_up="y", follow_up_due=(today() + timedelta(days=5)).isoformat()))
    auth.post("/visits/", visit_data(people["mine"], follow_up="y", follow_up_due=today().isoformat()))
    overdue = db.session.scalars(select(FollowUp).where(FollowUp.resident_id == people["mine"].id)).one()
    overdue.due_on = today() - timedelta(days=2)  # as if asked for a week ago
    db.session.commit()
    page = text(client.get("/visits/follow-ups"))
    assert page.index("王秀英") < page.index("李后来") and "overdue since" in page
    new_page = text(client.get(f"/visits/new?follow_up={overdue.id}"))
    assert "王秀英" in new_page and f'name="follow_up_id" value="{overdue.id}"' in new_page

    nobody = visit_data(people["mine"], follow_up_id=str(overdue.id), purpose="follow_up", outcome="no_one_home")
    assert auth.post("/visits/", nobody).status_code == 303
    assert db.session.get(FollowUp, overdue.id).done_visit_id is None
    met = visit_data(people["mine"], follow_up_id=str(overdue.id), purpose="follow_up")
    assert auth.post("/visits/", met).status_code == 303
    done = db.session.get(FollowUp, overdue.id)
    assert done.done_visit_id is not None and done.done_at is not None
    page = text(client.get("/visits/follow-ups"))
    assert "王秀英" not in page and "李后来" in page


def test_follow_up_of_someone_else_or_another_subject_is_refused(officer, auth, people, station):
    other_visit = make_visit(station.officer_b, people["grid_b"])
    theirs = FollowUp(station_id=station.station.id, officer_id=station.officer_b.id, visit_id=other_visit.id,
                      subject_type="resident", resident_id=people["mine"].id, due_on=today())
    db.session.add(theirs)
    db.session.commit()
    response = auth.post("/visits/", visit_data(people["mine"], follow_up_id=str(theirs.id)), headers=HX)
    assert response.status_code == 422 and "This follow-up is not one of yours." in text(response)
    auth.post("/visits/", visit_data(people["mine"], follow_up="y", follow_up_due=today().isoformat()))
    mine = db.session.scalars(select(FollowUp).where(FollowUp.officer_id == officer.id)).one()
    stranger = factories.make_resident(station.station, factories.make_address(station.station, station.grid_a))
    response = auth.post("/visits/", visit_data(stranger, follow_up_id=str(mine.id)), headers=HX)
    assert response.status_code == 422 and "The follow-up is about someone else" in text(response)
    assert db.session.get(FollowUp, mine.id).done_visit_id is None


# --- households, places, search, history ---------------------------------------------------------------

def test_visit_to_a_household_and_its_history_on_the_household_page(officer, auth, client, station):
    household = factories.make_household(station.station, station.grid_a, officer=officer)
    assert auth.post("/visits/", visit_data(subject_type="household", subject_id=str(household.id))).status_code == 303
    visit = db.session.scalars(select(Visit)).one()
    assert (visit.household_id, visit.grid_id) == (household.id, station.grid_a.id)
    page = text(client.get(f"/rentals/{household.id}"))
    assert f'hx-get="/visits/for/household/{household.id}"' in page and 'hx-trigger="load"' in page
    fragment = client.get(f"/visits/for/household/{household.id}", headers=HX)
    assert f'id="history-visit-{visit.id}"' in text(fragment) and "<html" not in text(fragment)


def test_place_created_on_the_spot(officer, auth, client, station):
    """No subject id, a place name: the place is created in the officer's grid at the officer's position."""
    data = visit_data(subject_type="place", subject_id="", place_name="金福超市", place_type="shop",
                      place_address="解放路8号", place_contact="13912345678", purpose="anti_fraud")
    assert auth.post("/visits/", data).status_code == 303
    place = db.session.scalars(select(Place)).one()
    visit = db.session.scalars(select(Visit)).one()
    assert (place.name, place.grid_id, place.created_by_id, place.lat) == ("金福超市", station.grid_a.id, officer.id,
                                                                           POSITION[0])
    assert visit.place_id == place.id and visit.subject_type == "place"
    assert "金福超市" in text(client.get(f"/visits/places/{place.id}"))
    assert auth.post("/visits/", data).status_code == 303 and count(Place) == 1, "a retry makes no second place"
    found = text(client.get("/visits/subjects?subject_type=place&q=jinfu", headers=HX))
    assert f'data-id="{place.id}"' in found


def test_active_search_finds_residents_of_my_grids_only(officer, client, people):
    """Name, pinyin or initials; another grid's and another station's people never show."""
    for q in ("王秀", "wangxiuying", "wxy"):
        found = text(client.get(f"/visits/subjects?subject_type=resident&q={q}", headers=HX))
        assert f'data-id="{people["mine"].id}"' in found, q
        assert "<html" not in found
    found = text(client.get("/visits/subjects?subject_type=resident&q=赵大山", headers=HX))
    assert f'data-id="{people["grid_b"].id}"' not in found and "Nothing found" in found
    assert f'data-id="{people["foreign"].id}"' not in text(
        client.get("/visits/subjects?subject_type=resident&q=sunwai", headers=HX))


def test_resident_page_loads_the_history_newest_first(officer, client, people):
    old = make_visit(officer, people["mine"], datetime.now(timezone.utc) - timedelta(days=3), notes="旧的一次")
    new = make_visit(officer, people["mine"], outcome="no_one_home", notes="新的一次")
    page = text(client.get(f"/residents/{people['mine'].id}"))
    assert f'hx-get="/visits/for/resident/{people["mine"].id}"' in page
    fragment = text(client.get(f"/visits/for/resident/{people['mine'].id}", headers=HX))
    assert fragment.index(f"history-visit-{new.id}") < fragment.index(f"history-visit-{old.id}")
    assert "No one home" in fragment


def test_history_and_visits_of_other_grids_or_stations_are_not_found(officer, client, people, station):
    theirs = make_visit(station.officer_b, people["grid_b"])
    assert client.get(f"/visits/for/resident/{people['grid_b'].id}").status_code == 404
    assert client.get(f"/visits/for/resident/{people['foreign'].id}").status_code == 404
    assert client.get("/visits/for/person/1").status_code == 404
    assert client.get(f"/visits/{theirs.id}").status_code == 404


# --- roles ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["demo-case", "demo-command"])
def test_case_team_and_command_room_may_not_record(auth, client, station, people, username):
    auth.login(username)
    assert client.get("/visits/new").status_code == 403
    assert auth.post("/visits/", visit_data(people["mine"])).status_code == 403
    assert client.get("/visits/follow-ups").status_code == 403 and client.get("/visits/plan").status_code == 403
    assert count(Visit) == 0


@pytest.mark.parametrize("username", ["demo-case", "demo-command", "demo-leader"])
def test_station_roles_read_every_grids_visits(auth, client, station, people, username):
    visit = make_visit(station.officer_b, people["grid_b"], notes="城西走访")
    auth.login(username)
    assert client.get(f"/visits/{visit.id}").status_code == 200
    assert "城西走访" in text(client.get(f"/visits/for/resident/{people['grid_b'].id}", headers=HX))
    assert f"visit-row-{visit.id}" in text(client.get("/visits/"))


def test_synced_visit_by_the_case_team_is_rejected(auth, client, station, people):
    auth.login("demo-case")
    data = visit_data(people["mine"])
    item = {"client_id": data.pop("client_id"), "kind": "visit", "recorded_at": data.pop("recorded_at"), "data": data}
    result = client.post("/api/sync", json={"device_id": "p", "items": [item]}, headers=SYNC).get_json()["results"][0]
    assert result["status"] == "rejected" and count(Visit) == 0


def test_home_offers_the_visit_button_and_counts_follow_ups(officer, auth, client, people):
    auth.post("/visits/", visit_data(people["mine"], follow_up="y", follow_up_due=today().isoformat()))
    home = text(client.get("/"))
    assert 'href="/visits/new"' in home
    assert 'id="follow-ups-due">1<' in text(client.get("/visits/"))


def test_a_time_at_the_end_of_the_calendar_is_refused_not_a_crash(officer, auth, people):
    """9999-12-31 23:59 UTC cannot be turned into Beijing time: a clear 422, never a 500."""
    data = visit_data(people["mine"], recorded_at="9999-12-31T23:59:00+00:00", follow_up="y",
                      follow_up_due="9999-12-31")
    response = auth.post("/visits/", data, headers=HX)
    assert response.status_code == 422 and 'id="recorded_at-error"' in text(response)


def test_place_search_text_fits_its_column_for_long_names():
    """A long place name with many pinyin readings still fits the column (PostgreSQL would refuse it)."""
    from blueprints.visits.subjects import PLACE_SEARCH_MAX, place_search_text

    text = place_search_text("长乐重庆行长朝阳和平银行单间解放路乐器行" * 2, "城东社区中心大街" * 5, "0356-5221234")
    assert len(text) <= PLACE_SEARCH_MAX
    assert "03565221234" in text and "城东社区中心大街" in text
