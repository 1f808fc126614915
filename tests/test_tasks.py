"""Tasks (指令): the command room creates and reviews, officers accept and give feedback; bad input and roles."""
import io
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from blueprints.home.services import LOCAL_TZ
from blueprints.sync import records
from blueprints.tasks.forms import TaskFeedbackForm
from extensions import db
from models import Attachment, SyncReceipt
from models.tasks import Task, TaskEvent
from models.users import COMMUNITY
from tests import factories
from tests.conftest import count_queries

HX = {"HX-Request": "true"}


def text(response) -> str:
    return response.get_data(as_text=True)


def local_input(delta: timedelta) -> str:
    """A datetime-local value (Beijing time) `delta` from now."""
    return (datetime.now(LOCAL_TZ) + delta).strftime("%Y-%m-%dT%H:%M")


def task_data(**overrides) -> dict:
    data = {"kind": "visit", "text": "走访独居老人王大爷，了解近况", "place": "解放路12号", "lat": "35.7990",
            "lon": "112.9240", "due_at": local_input(timedelta(hours=6)), "assignee_id": "", "grid_id": ""}
    data.update(overrides)
    return data


def feedback_data(task, **overrides) -> dict:
    data = {"client_id": str(uuid.uuid4()), "recorded_at": datetime.now(timezone.utc).isoformat(),
            "task_id": str(task.id), "outcome": "done", "text": "已走访，老人身体健康，门锁已修好",
            "lat": "35.79901", "lon": "112.92402", "accuracy": "12"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def events_of(task) -> list[str]:
    return list(db.session.scalars(select(TaskEvent.action).where(TaskEvent.task_id == task.id)
                                   .order_by(TaskEvent.id)))


def reload(task) -> Task:
    db.session.expire_all()
    return db.session.get(Task, task.id)


@pytest.fixture(autouse=True)
def english(client):
    """Messages are asserted in English (the default UI is Chinese)."""
    client.set_cookie("lang", "en")


@pytest.fixture
def task(station):
    """A task from the command room to demo-officer, assigned."""
    return factories.make_task(station.station, station.command, assignee=station.officer)


# --- creating -----------------------------------------------------------------------------------------

def test_command_creates_a_task_for_an_officer_who_sees_it_on_the_phone_home(auth, client, station):
    """The new task is stored in UTC from Beijing time, on its timeline, and counted on the officer's home."""
    auth.login("demo-command")
    due = local_input(timedelta(hours=3))
    response = auth.post("/tasks/", task_data(assignee_id=str(station.officer.id), due_at=due))
    assert response.status_code == 303
    task = db.session.scalars(select(Task)).one()
    assert response.headers["Location"].endswith(f"/tasks/{task.id}")
    assert (task.status, task.assignee_id, task.created_by_id) == ("assigned", station.officer.id, station.command.id)
    assert task.due_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M") == due
    assert task.due_at.tzinfo == timezone.utc and (task.lat, task.lon) == (35.799, 112.924)
    assert events_of(task) == ["created"]
    auth.logout()
    auth.login("demo-officer")
    home = text(client.get("/"))
    assert re.search(r'id="count-open-tasks">1<', home)
    assert f'href="/tasks/{task.id}"' in home and "走访独居老人王大爷" in home


def test_a_grid_task_is_seen_by_every_officer_of_the_grid_only(auth, client, station):
    """A task for grid A shows on grid A officers' lists, not on grid B's."""
    auth.login("demo-command")
    assert auth.post("/tasks/", task_data(grid_id=str(station.grid_a.id))).status_code == 303
    task = db.session.scalars(select(Task)).one()
    assert task.assignee_id is None and task.grid_id == station.grid_a.id
    auth.logout()
    auth.login("demo-officer")
    assert f'id="task-{task.id}"' in text(client.get("/tasks/mine"))
    assert client.get(f"/tasks/{task.id}").status_code == 200
    auth.logout()
    auth.login("officer-b")
    assert f'id="task-{task.id}"' not in text(client.get("/tasks/mine"))
    assert client.get(f"/tasks/{task.id}").status_code == 404


def test_task_for_an_officer_of_another_station_is_refused_beside_the_field(auth, client, station):
    """422, the message under the officer field, the typed text kept, nothing saved."""
    other = factories.make_station()
    stranger = factories.make_user(other, COMMUNITY, name="外所民警")
    auth.login("demo-command")
    response = auth.post("/tasks/", task_data(assignee_id=str(stranger.id)), headers=HX)
    assert response.status_code == 422
    body = text(response)
    assert "<html" not in body and 'id="task-form"' in body
    assert re.search(r'id="assignee_id-error">This officer is not in your station', body)
    assert "走访独居老人王大爷" in body
    assert db.session.scalar(select(func.count(Task.id))) == 0


def test_task_for_a_grid_of_another_station_is_refused(auth, client, station):
    other_grid = factories.make_grid(factories.make_station())
    auth.login("demo-command")
    response = auth.post("/tasks/", task_data(grid_id=str(other_grid.id)))
    assert response.status_code == 422
    assert 'id="grid_id-error">This grid is not in your station' in text(response)
    assert db.session.scalar(select(func.count(Task.id))) == 0


def test_due_time_in_the_past_is_refused(auth, client, station):
    auth.login("demo-command")
    response = auth.post("/tasks/", task_data(assignee_id=str(station.officer.id),
                                              due_at=local_input(-timedelta(hours=1))))
    assert response.status_code == 422
    assert 'id="due_at-error">The due time is in the past.' in text(response)
    assert db.session.scalar(select(func.count(Task.id))) == 0


@pytest.mark.parametrize("who", ["neither", "both"])
def test_task_needs_exactly_one_of_officer_or_grid(auth, client, station, who):
    auth.login("demo-command")
    data = task_data() if who == "neither" else task_data(assignee_id=str(station.officer.id),
                                                          grid_id=str(station.grid_a.id))
    response = auth.post("/tasks/", data)
    assert response.status_code == 422
    assert "Choose an officer or a grid (one of them)." in text(response)


@pytest.mark.parametrize("field, value, message", [
    ("text", "  ", "Write what the officer should do."),
    ("place", "", "Say where"),
    ("due_at", "", "Give the due time."),
    ("due_at", "tomorrow", "Not a valid datetime value."),
    ("lat", "abc", "Enter a number."),
    ("lat", "95", "Latitude must be between -90 and 90."),
    ("lon", "", "The position is incomplete"),
    ("assignee_id", "abc", "This officer is not in your station."),
])
def test_bad_task_fields_get_their_message(auth, client, station, field, value, message):
    auth.login("demo-command")
    data = task_data(assignee_id=str(station.officer.id))
    data[field] = value
    response = auth.post("/tasks/", data)
    assert response.status_code == 422
    assert message in text(response)
    assert db.session.scalar(select(func.count(Task.id))) == 0


def test_new_task_form_is_prefilled_from_the_link(auth, client, station):
    """Other features link to /tasks/new?kind=..&text=..&lat=..&lon=..&source=.. to start a task."""
    auth.login("demo-command")
    body = text(client.get("/tasks/new?kind=search&text=寻找走失老人李奶奶&place=文化广场&lat=35.8&lon=112.92"
                           "&source=missing:7"))
    assert '<option selected value="search">' in body
    assert "寻找走失老人李奶奶" in body and 'value="文化广场"' in body
    assert 'value="35.8"' in body and 'value="112.92"' in body and 'value="missing:7"' in body
    assert 'id="pick-map"' in body and "leaflet.js" in body
    tomorrow = (datetime.now(LOCAL_TZ) + timedelta(days=1)).strftime("%Y-%m-%dT%H:00")
    assert f'name="due_at" id="due_at" value="{tomorrow}"' in body
    body = text(client.get("/tasks/new?kind=bogus&lat=nan"))
    assert '<option selected value="other">' in body and 'value="nan"' not in body
    auth.post("/tasks/", task_data(assignee_id=str(station.officer.id), source="missing:7"))
    assert db.session.scalars(select(Task)).one().source == "missing:7"


@pytest.mark.parametrize("login", ["demo-officer", "demo-case"])
def test_officers_may_not_manage_tasks(auth, client, station, task, login):
    """Community officers and the case team: no list, no new task, no confirm, no send back."""
    auth.login(login)
    assert client.get("/tasks/").status_code == 403
    assert client.get("/tasks/new").status_code == 403
    assert auth.post("/tasks/", task_data(assignee_id=str(station.officer.id))).status_code == 403
    assert auth.post(f"/tasks/{task.id}/confirm").status_code == 403
    assert auth.post(f"/tasks/{task.id}/send-back", {"reason": "重做"}).status_code == 403


def test_command_and_leader_may_not_give_feedback(auth, client, station, task):
    auth.login("demo-leader")
    assert client.get("/tasks/").status_code == 200
    assert auth.post(f"/tasks/{task.id}/feedback", feedback_data(task)).status_code == 403
    assert auth.post(f"/tasks/{task.id}/accept").status_code == 403


def test_logged_out_user_is_sent_to_login(client, station, task):
    assert client.get("/tasks/").status_code == 302
    assert client.get("/tasks/", headers=HX).status_code == 401


# --- the officer's steps ------------------------------------------------------------------------------

def test_officer_accepts_and_completes_with_photo_and_position(auth, client, station, task):
    """Accept, then feedback with text, photo and position: done, every step on the timeline."""
    auth.login("demo-officer")
    page = text(client.get(f"/tasks/{task.id}"))
    assert 'id="accept-task"' in page and 'data-outbox="task_feedback"' in page
    assert 'hx-encoding="multipart/form-data"' in page and 'name="client_id"' in page
    assert auth.post(f"/tasks/{task.id}/accept").status_code == 303
    assert reload(task).status == "accepted"
    data = feedback_data(task)
    data["photo"] = (io.BytesIO(jpeg_bytes()), "door.jpg")
    response = auth.post(f"/tasks/{task.id}/feedback", data, content_type="multipart/form-data", headers=HX)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/tasks/{task.id}"
    task = reload(task)
    assert task.status == "done" and task.done_at is not None
    assert events_of(task) == ["created", "accepted", "done"]
    done = task.events[-1]
    assert done.feedback == "已走访，老人身体健康，门锁已修好" and done.photo_id is not None
    assert (done.lat, done.lon, done.accuracy_m, done.via) == (35.79901, 112.92402, 12.0, "online")
    photo = client.get(f"/tasks/{task.id}/events/{done.id}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    auth.logout()
    auth.login("officer-b")
    assert client.get(f"/tasks/{task.id}/events/{done.id}/photo").status_code == 404


def test_feedback_without_accepting_first_takes_the_task(auth, client, station, task):
    auth.login("demo-officer")
    assert auth.post(f"/tasks/{task.id}/feedback", feedback_data(task)).status_code == 303
    assert reload(task).status == "done"


def test_returning_a_task_needs_a_reason(auth, client, station, task):
    """422 with the message beside the text; nothing stored; then with a reason it is returned."""
    auth.login("demo-officer")
    response = auth.post(f"/tasks/{task.id}/feedback", feedback_data(task, outcome="returned", text=" "),
                         headers=HX)
    assert response.status_code == 422
    assert 'id="text-error">Give the reason for returning the task.' in text(response)
    assert 'id="feedback-box"' in text(response) and "<html" not in text(response)
    assert reload(task).status == "assigned" and events_of(task) == ["created"]
    assert db.session.scalar(select(func.count(SyncReceipt.id))) == 0
    response = auth.post(f"/tasks/{task.id}/feedback", feedback_data(task, outcome="returned", text="地址不存在"))
    assert response.status_code == 303
    task = reload(task)
    assert task.status == "returned" and task.events[-1].note == "地址不存在"


def test_done_without_feedback_text_is_refused(auth, client, station, task):
    auth.login("demo-officer")
    response = auth.post(f"/tasks/{task.id}/feedback", feedback_data(task, text=""))
    assert response.status_code == 422 and "Write what you found or did." in text(response)


def test_completing_someone_elses_task_is_forbidden(auth, client, station, task):
    """Another officer (same station), or the case team: 403 and the task is untouched."""
    for login in ("officer-b", "demo-case"):
        auth.login(login)
        assert auth.post(f"/tasks/{task.id}/feedback", feedback_data(task)).status_code == 403
        assert auth.post(f"/tasks/{task.id}/accept").status_code == 403
        auth.logout()
    assert reload(task).status == "assigned" and events_of(task) == ["created"]


def test_grid_task_goes_to_the_first_officer_who_accepts(auth, client, station):
    """Two officers of grid A: the first accept wins, the second gets 409 and may not complete it."""
    colleague = factories.make_user(station.station, COMMUNITY, [station.grid_a], username="officer-a2")
    task = factories.make_task(station.station, station.command, grid=station.grid_a)
    auth.login("demo-officer")
    assert auth.post(f"/tasks/{task.id}/accept").status_code == 303
    assert reload(task).assignee_id == station.officer.id
    auth.logout()
    auth.login(colleague.username)
    assert f'id="task-{task.id}"' not in text(client.get("/tasks/mine"))
    assert auth.post(f"/tasks/{task.id}/accept").status_code == 403
    assert auth.post(f"/tasks/{task.id}/feedback", feedback_data(task)).status_code == 403


def test_accepting_twice_answers_a_conflict(auth, client, station, task):
    auth.login("demo-officer")
    assert auth.post(f"/tasks/{task.id}/accept").status_code == 303
    response = auth.post(f"/tasks/{task.id}/accept")
    assert response.status_code == 409 and "This task cannot be accepted now." in text(response)
    assert events_of(task) == ["created", "accepted"]


def test_feedback_on_a_confirmed_task_is_refused(auth, client, station, task):
    """409 with the message beside the form; the timeline is unchanged."""
    task.status = "confirmed"
    db.session.commit()
    auth.login("demo-officer")
    response = auth.post(f"/tasks/{task.id}/feedback", feedback_data(task), headers=HX)
    assert response.status_code == 409
    assert "This task is already confirmed: feedback can no longer be added." in text(response)
    assert 'id="feedback-form"' in text(response)
    assert events_of(task) == ["created"]
    assert db.session.scalar(select(func.count(SyncReceipt.id))) == 0


def test_the_same_feedback_sent_twice_is_one_event(auth, client, station, task):
    """A lost response and a retry (same client_id): one event, one receipt, both answers a success."""
    auth.login("demo-officer")
    data = feedback_data(task)
    assert auth.post(f"/tasks/{task.id}/feedback", dict(data)).status_code == 303
    assert auth.post(f"/tasks/{task.id}/feedback", dict(data)).status_code == 303
    assert events_of(task) == ["created", "done"]
    assert db.session.scalar(select(func.count(SyncReceipt.id))) == 1


def test_feedback_arrives_through_the_sync_registry(app, station, task):
    """The synced item (a flat dict) is validated by the same form and saved once; a retry is a duplicate."""
    kind = records.KINDS["task_feedback"]
    assert kind.form_class is TaskFeedbackForm and kind.page is None
    data = feedback_data(task)
    with app.test_request_context():
        form = kind.form_class(formdata=MultiDict(data), meta={"csrf": False})
        assert form.validate(), form.errors
        first = kind.service(station.officer, form, via="sync", commit=True)
        second = kind.service(station.officer, form, via="sync", commit=True)
    assert (first.status, second.status) == ("created", "duplicate") and first.id == second.id
    assert events_of(task) == ["created", "done"] and reload(task).events[-1].via == "sync"


def test_synced_feedback_is_rejected_for_a_foreign_or_finished_task(app, station, task):
    kind = records.KINDS["task_feedback"]
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        form = kind.form_class(formdata=MultiDict(feedback_data(task)), meta={"csrf": False})
        assert form.validate()
        outcome = kind.service(station.officer_b, form, via="sync", commit=True)
        assert outcome.status == "rejected" and "another officer" in outcome.errors["task_id"][0]
        missing = kind.form_class(formdata=MultiDict(feedback_data(task, task_id="999999")), meta={"csrf": False})
        assert missing.validate()
        assert kind.service(station.officer, missing, via="sync", commit=True).status == "rejected"
        bad = kind.form_class(formdata=MultiDict(feedback_data(task, outcome="maybe", lat="95")), meta={"csrf": False})
        assert not bad.validate() and set(bad.errors) >= {"outcome", "lat"}
    assert events_of(task) == ["created"]


def test_synced_photo_is_attached_to_the_feedback(auth, client, app, station, task):
    """Offline: the photo reaches /api/sync/attachments first, then the item names the same client_id."""
    from blueprints.sync import attachments
    from werkzeug.datastructures import FileStorage

    data = feedback_data(task)
    with app.test_request_context():
        attachments.store_photo(station.officer, FileStorage(io.BytesIO(jpeg_bytes())), client_id=data["client_id"])
        form = TaskFeedbackForm(formdata=MultiDict(data), meta={"csrf": False})
        assert form.validate()
        records.KINDS["task_feedback"].service(station.officer, form, via="sync", commit=True)
    assert reload(task).events[-1].photo_id == db.session.scalars(select(Attachment.id)).one()


# --- the command room's review ------------------------------------------------------------------------

def test_command_sees_feedback_confirms_or_sends_back(auth, client, station, task):
    """Send back with a reason, the officer redoes it, the command room confirms: all on the timeline."""
    auth.login("demo-officer")
    auth.post(f"/tasks/{task.id}/feedback", feedback_data(task, text="第一次反馈"))
    auth.logout()
    auth.login("demo-command")
    page = text(client.get(f"/tasks/{task.id}"))
    assert "第一次反馈" in page and 'id="confirm-task"' in page
    assert "第一次反馈" in text(client.get("/tasks/"))
    response = auth.post(f"/tasks/{task.id}/send-back", {"reason": ""}, headers=HX)
    assert response.status_code == 422 and 'id="reason-error">Say why the task is sent back.' in text(response)
    assert 'id="review"' in text(response) and "<html" not in text(response)
    assert auth.post(f"/tasks/{task.id}/send-back", {"reason": "缺少照片"}).status_code == 303
    assert reload(task).status == "sent_back"
    auth.logout()
    auth.login("demo-officer")
    assert "缺少照片" in text(client.get(f"/tasks/{task.id}"))
    assert auth.post(f"/tasks/{task.id}/accept").status_code == 303
    assert auth.post(f"/tasks/{task.id}/feedback", feedback_data(task, text="补充照片")).status_code == 303
    auth.logout()
    auth.login("demo-command")
    response = auth.post(f"/tasks/{task.id}/confirm", headers=HX)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/tasks/{task.id}"
    task = reload(task)
    assert task.status == "confirmed" and task.confirmed_at is not None
    assert events_of(task) == ["created", "done", "sent_back", "accepted", "done", "confirmed"]
    assert [e.note for e in task.events if e.action == "sent_back"] == ["缺少照片"]


@pytest.mark.parametrize("status", ["assigned", "accepted", "returned", "confirmed"])
def test_confirming_a_task_that_is_not_done_is_a_conflict(auth, client, station, task, status):
    task.status = status
    db.session.commit()
    auth.login("demo-command")
    response = auth.post(f"/tasks/{task.id}/confirm", headers=HX)
    assert response.status_code == 409
    assert 'id="review-error"' in text(response) and "Only a task marked done can be confirmed." in text(response)
    assert reload(task).status == status and events_of(task) == ["created"]
    response = auth.post(f"/tasks/{task.id}/confirm")
    assert response.status_code == 409 and "<html" in text(response)


def test_sending_back_an_open_task_is_a_conflict(auth, client, station, task):
    auth.login("demo-command")
    response = auth.post(f"/tasks/{task.id}/send-back", {"reason": "重做"})
    assert response.status_code == 409 and "Only a task that is done or returned can be sent back." in text(response)


def test_another_stations_task_is_not_found(auth, client, station):
    other = factories.make_station()
    boss = factories.make_user(other, "command")
    foreign = factories.make_task(other, boss, assignee=factories.make_user(other, COMMUNITY))
    auth.login("demo-command")
    assert client.get(f"/tasks/{foreign.id}").status_code == 404
    assert auth.post(f"/tasks/{foreign.id}/confirm").status_code == 404
    assert f"task-row-{foreign.id}" not in text(client.get("/tasks/"))
    auth.logout()
    auth.login("demo-officer")
    assert auth.post(f"/tasks/{foreign.id}/feedback", feedback_data(foreign)).status_code == 404


def test_case_team_sees_only_own_tasks_and_may_give_feedback(auth, client, station):
    mine = factories.make_task(station.station, station.command, assignee=station.case, text="调取监控")
    other = factories.make_task(station.station, station.command, assignee=station.officer)
    auth.login("demo-case")
    listing = text(client.get("/tasks/mine"))
    assert f'id="task-{mine.id}"' in listing and f'id="task-{other.id}"' not in listing
    assert client.get(f"/tasks/{other.id}").status_code == 404
    assert auth.post(f"/tasks/{mine.id}/feedback", feedback_data(mine)).status_code == 303
    assert reload(mine).status == "done"


# --- the command list -----------------------------------------------------------------------------------

def test_list_filters_and_counts(auth, client, station):
    """Counts per status and overdue; the status and overdue filters narrow the rows."""
    make = factories.make_task
    late = make(station.station, station.command, assignee=station.officer, due_in_hours=-2, text="逾期任务")
    done = make(station.station, station.command, assignee=station.officer, status="done", text="已完成任务")
    make(station.station, station.command, grid=station.grid_b, text="网格任务")
    auth.login("demo-command")
    page = text(client.get("/tasks/"))
    assert re.search(r'id="count-all">3<', page) and re.search(r'id="count-overdue">1<', page)
    assert re.search(r'id="count-assigned">2<', page) and re.search(r'id="count-done">1<', page)
    assert "Overdue" in page and "城西社区" in page
    only_done = text(client.get("/tasks/?status=done"))
    assert f"task-row-{done.id}" in only_done and f"task-row-{late.id}" not in only_done
    overdue = text(client.get("/tasks/?overdue=y"))
    assert f"task-row-{late.id}" in overdue and f"task-row-{done.id}" not in overdue
    assert client.get("/tasks/?status=nonsense").status_code == 200


def test_list_poll_is_cheap_when_nothing_changed(auth, client, station, task):
    """The poll answers 204 (or 304 to If-None-Match) until a task changes, then the fresh fragment."""
    auth.login("demo-command")
    page = client.get("/tasks/")
    etag = page.headers["ETag"]
    poll = re.search(r'id="task-list" hx-get="([^"]+)"', text(page)).group(1).replace("&amp;", "&")
    assert client.get(poll, headers=HX).status_code == 204
    assert client.get("/tasks/", headers={**HX, "If-None-Match": etag}).status_code == 304
    factories.make_task(station.station, station.command, grid=station.grid_a, text="新任务")
    fresh = client.get(poll, headers=HX)
    assert fresh.status_code == 200 and "新任务" in text(fresh) and "<html" not in text(fresh)
    assert fresh.headers["ETag"] != etag and "HX-Request" in fresh.headers["Vary"]


def test_list_shows_a_page_and_loads_more(auth, client, station):
    """The command list shows the 50 latest changed tasks and a "More tasks" link; htmx loads the
    next rows (and no more link at the end); without htmx the link is the page from there on."""
    tasks = [factories.make_task(station.station, station.command, grid=station.grid_a, text=f"任务{i}")
             for i in range(55)]
    auth.login("demo-command")
    page = text(client.get("/tasks/"))
    assert page.count('id="task-row-') == 50 and "More tasks" in page
    assert f'task-row-{tasks[-1].id}"' in page and f'task-row-{tasks[0].id}"' not in page
    more = client.get("/tasks/more?offset=50", headers=HX)
    assert more.status_code == 200 and "<html" not in text(more)
    assert text(more).count('id="task-row-') == 5 and f'task-row-{tasks[0].id}"' in text(more)
    assert "More tasks" not in text(more)
    full = text(client.get("/tasks/more?offset=50"))
    assert "<html" in full and full.count('id="task-row-') == 5 and 'id="count-all">55<' in full


def test_list_query_count_is_flat(auth, client, station):
    """The list page runs the same number of statements for 3 or 30 tasks (no per-row queries)."""
    auth.login("demo-command")

    def count_statements():
        return count_queries(client, "/tasks/")

    def add(n):
        for i in range(n):
            t = factories.make_task(station.station, station.command, assignee=station.officer if i % 2 else None,
                                    grid=None if i % 2 else station.grid_a, status="done")
            db.session.add(TaskEvent(task_id=t.id, station_id=t.station_id, user_id=station.officer.id,
                                     action="done", feedback=f"反馈{i}"))
        db.session.commit()

    add(3)
    small = count_statements()
    add(27)
    assert count_statements() == small


def test_officer_home_and_station_counts(app, station):
    """The providers: an officer's open tasks (own and unclaimed grid ones); the station's open/overdue/review."""
    from blueprints.home import services as home_services

    make = factories.make_task
    make(station.station, station.command, assignee=station.officer)
    make(station.station, station.command, grid=station.grid_a, due_in_hours=-1)
    make(station.station, station.command, grid=station.grid_b)
    make(station.station, station.command, assignee=station.officer, status="done")
    with app.test_request_context():
        summary = home_services.officer_summary(station.officer)
        assert summary["open_tasks"] == 2 and len(summary["open_task_list"]) == 2
        counts = home_services.station_summary(station.command)
    assert (counts["open_tasks"], counts["overdue_tasks"], counts["tasks_to_review"]) == (3, 1, 1)


def test_pages_render_in_chinese_by_default(auth, client, station, task):
    auth.login("demo-command")
    client.set_cookie("lang", "zh_Hans_CN")
    assert "新建指令" in text(client.get("/tasks/"))


def test_demo_seeder_makes_tasks_in_every_state(app):
    """The small demo has a few dozen tasks in every status, each with a timeline that ends in its status."""
    import random

    from blueprints.tasks import demo as task_demo
    from demo import DemoContext

    staff = factories.make_station_with_staff()
    ctx = DemoContext(station=staff.station, grids=[staff.grid_a, staff.grid_b],
                      officers=[staff.officer, staff.officer_b], rng=random.Random(3), scale="small", days=7)
    task_demo.seed(ctx)
    db.session.commit()
    tasks = list(db.session.scalars(select(Task)))
    assert len(tasks) == task_demo.TASKS_PER_SCALE["small"]
    assert {t.status for t in tasks} == {"assigned", "accepted", "done", "confirmed", "returned", "sent_back"}
    for t in tasks:
        assert t.events[0].action == "created" and t.events[-1].action == {"assigned": "created"}.get(t.status, t.status)
    assert any(t.assignee_id is None and t.grid_id for t in tasks)


def test_my_tasks_lines_print_due_time_overdue_mark_and_an_unclaimed_tasks_grid(auth, client, station):
    """Each line of the officer's list: status, the text shortened to 80, the due time in station time
    with the overdue mark, the grid of an unclaimed grid task; finished tasks below, without the mark."""
    late = factories.make_task(station.station, station.command, assignee=station.officer, due_in_hours=-2,
                               text="长" * 100)
    grid_task = factories.make_task(station.station, station.command, grid=station.grid_a, kind="patrol")
    done = factories.make_task(station.station, station.command, assignee=station.officer, status="confirmed",
                               due_in_hours=-30)
    auth.login("demo-officer")
    page = text(client.get("/tasks/mine"))
    open_part, _, finished = page.partition('id="my-other-tasks"')

    def line(part, task):
        return re.search(rf'<li class="task-item" id="task-{task.id}">.*?</li>', part, re.S).group(0)

    late_line, due_at = line(open_part, late), reload(late).due_at
    assert f'<time datetime="{due_at.isoformat()}">{due_at.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M")}</time>' \
        in late_line
    assert "Overdue" in late_line and ">Assigned<" in late_line and f'href="/tasks/{late.id}"' in late_line
    assert "长" * 77 + "..." in late_line and "长" * 78 not in late_line and "Grid " not in late_line
    grid_line = line(open_part, grid_task)
    assert "Grid 城东社区" in grid_line and "Overdue" not in grid_line
    done_line = line(finished, done)
    assert ">Confirmed<" in done_line and "Overdue" not in done_line and f'id="task-{done.id}"' not in open_part
