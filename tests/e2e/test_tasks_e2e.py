"""Tasks end to end: the command room (desktop) sends a task, the officer (phone) accepts and completes it
with feedback, the command room sees the feedback and confirms it."""
import io
import re
from datetime import datetime, timedelta

from PIL import Image

from blueprints.home.services import LOCAL_TZ
from tests.e2e.conftest import DESKTOP, PHONE, login, new_page
from tests.factories import PASSWORD

AT_THE_MARKET = {"latitude": 35.7991, "longitude": 112.9241, "accuracy": 15}


def _photo(tmp_path) -> str:
    path = tmp_path / "door.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (120, 90), (30, 90, 160)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_command_sends_a_task_officer_completes_it_command_confirms(browser, live_server, station, tmp_path):
    desk, desk_context = new_page(browser, live_server, DESKTOP)
    login(desk, "demo-command", PASSWORD)
    desk.click("nav.tabs a[href='/tasks/']")
    desk.click("#new-task")
    desk.select_option("#kind", "visit")
    desk.fill("#text", "走访独居老人王大爷，检查燃气")
    desk.select_option("#assignee_id", str(station.officer.id))
    due = (datetime.now(LOCAL_TZ) + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M")
    desk.fill("#due_at", due)
    desk.fill("#place", "解放路12号")
    desk.locator("#pick-map").click(position={"x": 200, "y": 200})  # pick the place on the map
    assert desk.input_value("#lat") and desk.input_value("#lon")
    desk.click("#task-submit")
    desk.wait_for_url(re.compile(r".*/tasks/\d+$"))
    task_url = desk.url
    assert "已派发" in desk.inner_text(".task-card")

    phone, phone_context = new_page(browser, live_server, PHONE, geolocation=AT_THE_MARKET,
                                    permissions=["geolocation"])
    login(phone, "demo-officer", PASSWORD)
    assert phone.inner_text("#count-open-tasks") == "1"
    phone.click("#home-tasks a.task-link")
    assert "走访独居老人王大爷" in phone.inner_text(".task-card")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360, "no horizontal scrolling at 360 px"
    phone.click("#accept-task")
    phone.wait_for_selector(".task-card[data-status=accepted]")
    phone.wait_for_selector("#fb-position[data-state=found]")
    phone.fill("#text", "已走访，燃气阀门已关好，老人身体健康")
    phone.set_input_files("#photo", _photo(tmp_path))
    phone.click("#feedback-submit")
    phone.wait_for_selector(".task-card[data-status=done]")
    assert "已走访，燃气阀门已关好" in phone.inner_text("#timeline")
    phone_context.close()

    desk.goto("/tasks/")
    assert "已走访，燃气阀门已关好" in desk.inner_text("#task-list")
    desk.goto(task_url)
    timeline = desk.inner_text("#timeline")
    assert "已走访，燃气阀门已关好" in timeline and "张伟" in timeline
    assert desk.locator("#timeline img.task-photo").count() == 1
    desk.click("#confirm-task")
    desk.wait_for_selector(".task-card[data-status=confirmed]")
    assert "已确认" in desk.inner_text("#timeline")
    desk_context.close()


def test_command_list_loads_more_tasks_in_place(browser, live_server, station):
    """The list shows 50 tasks; "More tasks" appends the rest to the same table (htmx), no page change."""
    from tests.factories import make_task

    for i in range(53):
        make_task(station.station, station.command, grid=station.grid_a, text=f"巡查任务{i}")
    desk, context = new_page(browser, live_server, DESKTOP)
    login(desk, "demo-command", PASSWORD)
    desk.goto(f"{live_server.url}/tasks/")
    assert desk.locator("#task-list tbody tr[id^='task-row-']").count() == 50
    desk.click("#task-more a")
    desk.locator("#task-more").wait_for(state="detached")  # the "more" row is swapped for the next rows
    assert desk.locator("#task-list tbody tr[id^='task-row-']").count() == 53 and desk.url.endswith("/tasks/")
    assert "巡查任务0" in desk.inner_text("#task-list tbody")
    context.close()  # else the page goes on polling the shared live server through the later tests
