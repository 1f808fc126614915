"""The command room end to end: the desktop sends a task from the one screen, the officer's phone accepts
and completes it with feedback, the command room confirms it, sees the feedback on the timeline, and the
one screen (left open, refreshing itself) follows every step without a reload."""
import re
from datetime import datetime, timedelta

from playwright.sync_api import expect

from blueprints.home.services import LOCAL_TZ
from tests.e2e.conftest import DESKTOP, PHONE, login, new_page
from tests.e2e.test_tasks_e2e import AT_THE_MARKET, _photo
from tests.factories import PASSWORD


def _count(page, key: str) -> str:
    return page.inner_text(f"#count-{key} dd").strip()


def test_command_room_sends_a_task_and_follows_it_on_the_one_screen(app, browser, live_server, station, tmp_path):
    app.config["COMMAND_REFRESH_SECONDS"] = 1  # the screen polls every second in this test
    try:
        _run(browser, live_server, station, tmp_path)
    finally:
        app.config.pop("COMMAND_REFRESH_SECONDS", None)


def _run(browser, live_server, station, tmp_path):
    screen, screen_context = new_page(browser, live_server, DESKTOP)
    login(screen, "demo-command", PASSWORD)
    screen.click("#open-command-room")
    screen.wait_for_url(re.compile(r".*/command/$"))
    assert _count(screen, "open-tasks") == "0"
    assert screen.evaluate("document.documentElement.scrollWidth") <= 1366, "no horizontal scrolling at 1366 px"
    version = screen.get_attribute("#command-live", "data-version")

    # A second window of the same desk creates the task; the screen stays open beside it.
    desk = screen_context.new_page()
    desk.goto("/command/")
    desk.click("#new-task")
    desk.select_option("#kind", "visit")
    desk.fill("#text", "走访独居老人王大爷，检查燃气")
    desk.select_option("#assignee_id", str(station.officer.id))
    desk.fill("#due_at", (datetime.now(LOCAL_TZ) + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"))
    desk.fill("#place", "解放路12号")
    desk.locator("#pick-map").click(position={"x": 200, "y": 200})
    desk.click("#task-submit")
    desk.wait_for_url(re.compile(r".*/tasks/\d+$"))
    task_url = desk.url

    # The screen picks the new task up by itself: a count, a feed line, a marker on the map.
    expect(screen.locator("#count-open-tasks dd")).to_have_text("1")  # (the CSP forbids wait_for_function)
    assert screen.get_attribute("#command-live", "data-version") != version
    assert "走访独居老人王大爷" in screen.inner_text("#activity")
    expect(screen.locator("#command-map")).to_have_attribute("data-drawn", re.compile(r"^[1-9]"))

    phone, phone_context = new_page(browser, live_server, PHONE, geolocation=AT_THE_MARKET,
                                    permissions=["geolocation"])
    login(phone, "demo-officer", PASSWORD)
    phone.click("#home-tasks a.task-link")
    phone.click("#accept-task")
    phone.wait_for_selector(".task-card[data-status=accepted]")
    phone.wait_for_selector("#fb-position[data-state=found]")
    phone.fill("#text", "已走访，燃气阀门已关好，老人身体健康")
    phone.set_input_files("#photo", _photo(tmp_path))
    phone.click("#feedback-submit")
    phone.wait_for_selector(".task-card[data-status=done]")
    phone_context.close()

    # The screen: the task left the open count and waits for review; the feedback is in the feed.
    expect(screen.locator("#count-tasks-to-review dd")).to_have_text("1")
    assert _count(screen, "open-tasks") == "0"
    assert "已走访，燃气阀门已关好" in screen.inner_text("#activity")

    desk.goto(task_url)
    timeline = desk.inner_text("#timeline")
    assert "已走访，燃气阀门已关好" in timeline and "张伟" in timeline
    desk.click("#confirm-task")
    desk.wait_for_selector(".task-card[data-status=confirmed]")
    assert "已确认" in desk.inner_text("#timeline")

    expect(screen.locator("#count-tasks-to-review dd")).to_have_text("0")
    assert "已确认" in screen.inner_text("#activity")
    screen_context.close()


def test_a_screen_left_open_with_an_older_script_reloads_itself(app, browser, live_server, station):
    """A screen left open across an update that changed the markers' format still runs the old
    command.js (here: its refresh loses the format header the script sends): its next refresh reloads
    the page, and the new script draws the markers, each with its tooltip."""
    from tests.factories import make_task

    make_task(station.station, station.command, assignee=station.officer, place="解放路12号", lat=35.8, lon=112.92,
              text="巡查夜市")
    app.config["COMMAND_REFRESH_SECONDS"] = 1
    try:
        screen, context = new_page(browser, live_server, DESKTOP)
        login(screen, "demo-command", PASSWORD)
        screen.goto("/command/")
        expect(screen.locator("#command-map")).to_have_attribute("data-drawn", "1")
        screen.evaluate("window.openedBeforeTheUpdate = true")

        def as_an_old_script(route, request):
            headers = {k: v for k, v in request.headers.items() if k.lower() != "x-pingan-layers"}
            route.continue_(headers=headers)

        screen.route(re.compile(r".*/command/live\?.*"), as_an_old_script, times=1)
        with screen.expect_navigation():  # HX-Refresh: htmx reloads the page
            pass
        expect(screen.locator("#command-map")).to_have_attribute("data-drawn", "1")
        assert screen.evaluate("window.openedBeforeTheUpdate === undefined"), "the page was reloaded"
        screen.locator("#command-map .leaflet-interactive").first.hover()
        expect(screen.locator(".leaflet-tooltip")).to_have_text("解放路12号 · 张伟 · 巡查夜市")
        context.close()
    finally:
        app.config.pop("COMMAND_REFRESH_SECONDS", None)
