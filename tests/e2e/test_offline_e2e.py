"""Offline in real Chromium: the service worker, the IndexedDB outbox and /api/sync together.

The patrol check-in is the field form under test (position emulated). "The server is unreachable"
is played with SYNC_REFUSE (sync answers 503) together with context.set_offline: a page closed
while offline can fire `online` and really send its queue (PITFALLS.md), so the refusal switch, not
the network flip alone, decides when records may arrive. Every sync a test waits for is awaited
through window.pinganOutbox.flush().
"""
import time

import pytest
from PIL import Image
from sqlalchemy import select

from extensions import db
from blueprints.sync import routes as sync_routes
from blueprints.sync.attachments import attachment_path
from models import Attachment, CheckIn, PatrolPoint
from tests.e2e.conftest import PHONE, login, new_page
from tests.factories import PASSWORD
from tests.test_sync_api import jpeg_with_gps

HERE = {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 15}
CHECK_IN = "/patrol/check-in"

HAS_CHECK_IN_PAGE = """async () => {
  for (const key of await caches.keys()) {
    if (key.startsWith('pingan-pages-') && await (await caches.open(key)).match('/patrol/check-in')) return true;
  }
  return false;
}"""


CACHED_URLS = """async () => {
  const urls = [];
  for (const key of await caches.keys()) {
    for (const request of await (await caches.open(key)).keys()) urls.push(request.url);
  }
  return urls;
}"""


@pytest.fixture
def point(station):
    """A patrol point where the emulated phone stands."""
    p = PatrolPoint(station_id=station.station.id, grid_id=station.grid_a.id, name="幸福小区东门",
                    lat=HERE["latitude"], lon=HERE["longitude"], radius_m=50)
    db.session.add(p)
    db.session.commit()
    return p


def officer_context(browser, live_server, username="demo-officer"):
    """A phone logged in as the officer, with the check-in page open and cached by the worker."""
    page, context = new_page(browser, live_server, PHONE, geolocation=HERE, permissions=["geolocation"])
    login(page, username, PASSWORD)
    page.goto(CHECK_IN)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.wait_for_function("() => window.pinganOutbox.offlineReady")
    assert page.evaluate(HAS_CHECK_IN_PAGE)
    settle(page)
    return page, context


def wait_until(page, script, arg=None, timeout=10.0):
    """Poll an async page function until it is truthy (wait_for_function does not await promises)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script, arg):
        assert time.monotonic() < deadline, f"timed out waiting for {script}"
        page.wait_for_timeout(50)


def settle(page):
    """Wait until outbox.js has looked at IndexedDB and no sync is running."""
    page.wait_for_function("() => window.pinganOutbox && window.pinganOutbox.inFlight === 0 && "
                           "document.getElementById('outbox-badge').dataset.state !== 'unknown'")


def flush(page) -> dict:
    return page.evaluate("window.pinganOutbox.flush()")


def go_offline(live_server, context):
    live_server.app.config["SYNC_REFUSE"] = True
    context.set_offline(True)


def go_online(live_server, context):
    context.set_offline(False)
    live_server.app.config["SYNC_REFUSE"] = False


def check_in_offline(page, note="", point_id=None, qr="", photo=None):
    """Fill and submit the check-in form with no network; wait for the 'saved on this phone' note."""
    page.wait_for_selector("#position[data-state=ok]")
    page.eval_on_selector_all("details", "all => all.forEach(d => { d.open = true; })")
    if point_id:
        page.select_option("#point_id", str(point_id))
    if qr:
        page.fill("#qr_token", qr)
    if note:
        page.fill("#note", note)
    if photo:
        page.set_input_files("#photo", files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    before = page.locator(".outbox-saved").count() and page.inner_text(".outbox-saved")
    page.click("#checkin-submit")
    page.wait_for_function("(before) => { const n = document.querySelector('.outbox-saved');"
                           " return n && n.textContent !== before; }", arg=before or "")
    return page.inner_text(".outbox-saved")


def check_ins() -> list[CheckIn]:
    db.session.rollback()
    return list(db.session.scalars(select(CheckIn).order_by(CheckIn.id)))


def test_offline_check_ins_survive_closing_and_arrive_exactly_once(browser, live_server, station, point):
    """Reload offline from the worker, check in twice, close, reopen offline, go online: two records."""
    page, context = officer_context(browser, live_server)
    go_offline(live_server, context)
    response = page.reload()
    assert response.from_service_worker, "the offline reload is answered by the service worker"
    first_id = page.input_value("[name=client_id]")
    assert check_in_offline(page, note="东门正常") == "已保存在本机，1 条待同步"
    assert page.input_value("[name=client_id]") != first_id, "the next form has a new record id"
    assert page.input_value("#point_id") == str(point.id), "the nearest point is preselected again"
    assert check_in_offline(page, point_id=point.id) == "已保存在本机，2 条待同步"
    assert page.get_attribute("#outbox-badge", "data-state") == "waiting"
    assert page.inner_text("#outbox-badge .outbox-count") == "2"
    page.close()

    page = context.new_page()
    page.goto(CHECK_IN)  # offline: from the worker's cache
    settle(page)
    assert page.inner_text("#outbox-badge .outbox-count") == "2", "still queued after closing the page"
    page.close()
    assert check_ins() == []

    go_online(live_server, context)
    page = context.new_page()
    page.goto("/outbox")
    settle(page)
    flush(page)
    page.wait_for_selector("#outbox-badge[data-state=idle]", state="attached")
    rows = check_ins()
    assert len(rows) == 2 and {r.via for r in rows} == {"sync"}
    assert {r.officer_id for r in rows} == {station.officer.id}
    assert {r.note for r in rows} == {"东门正常", None}
    assert {r.point_id for r in rows} == {point.id}, "the nearest point was chosen offline"
    assert len({r.client_id for r in rows}) == 2
    assert page.locator("#outbox-badge").is_hidden()
    assert page.inner_text("#last-sync") not in ("—", "尚未同步")
    assert flush(page)["status"] == "idle"
    assert len(check_ins()) == 2, "a second flush sends nothing again"
    cached = page.evaluate(CACHED_URLS)
    assert not any("/api/" in url for url in cached), "API answers are never cached"
    context.close()


def test_pages_marked_no_cache_are_never_kept(browser, live_server, station, point):
    """A listed page answered with X-Pingan-No-Cache (e.g. showing a full ID number) is not stored."""
    page, context = new_page(browser, live_server, PHONE, geolocation=HERE, permissions=["geolocation"])

    def mark(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "x-pingan-no-cache": "1"})

    context.route("**/outbox", mark)
    login(page, "demo-officer", PASSWORD)
    page.goto(CHECK_IN)
    page.wait_for_function("() => window.pinganOutbox.offlineReady")
    cached = page.evaluate(CACHED_URLS)
    assert any(url.endswith("/patrol/check-in") for url in cached)
    assert not any(url.endswith("/outbox") for url in cached)
    context.close()


def count(page) -> int:
    return page.evaluate("window.pinganOutbox.count()")


def test_server_errors_on_the_first_flushes_lose_nothing(browser, live_server, station, point, monkeypatch):
    """503 (with Retry-After), then a 500: the record stays queued and arrives once afterwards."""
    page, context = officer_context(browser, live_server)
    go_offline(live_server, context)
    check_in_offline(page, point_id=point.id)
    real, calls = sync_routes.save_items, []

    def fails_once(user, items):
        calls.append(len(items))
        if len(calls) == 1:
            raise RuntimeError("the server fell over")
        return real(user, items)

    monkeypatch.setattr(sync_routes, "save_items", fails_once)
    context.set_offline(False)  # reachable, but sync refused: 503 + Retry-After
    settle(page)
    refused = flush(page)
    assert refused["status"] == "busy" and refused["retryAfter"] == 5
    assert count(page) == 1 and check_ins() == []

    live_server.app.config["SYNC_REFUSE"] = False
    assert flush(page)["status"] == "busy"  # the 500
    assert calls == [1] and count(page) == 1 and check_ins() == []
    assert page.get_attribute("#outbox-badge", "data-state") == "waiting"

    assert flush(page)["sent"] == 1
    assert len(check_ins()) == 1 and count(page) == 0
    context.close()


def test_two_tabs_flushing_at_once_send_each_record_once(browser, live_server, station, point, monkeypatch):
    """Two tabs come online together and both flush: the lock lets one send; three records, once."""
    page_a, context = officer_context(browser, live_server)
    go_offline(live_server, context)
    for n in range(3):
        check_in_offline(page_a, note=f"第{n}次", point_id=point.id)
    page_b = context.new_page()
    page_b.goto(CHECK_IN)
    settle(page_b)
    assert count(page_b) == 3
    real, received = sync_routes.save_items, []

    def counting(user, items):
        received.extend(item.client_id for item in items)
        return real(user, items)

    monkeypatch.setattr(sync_routes, "save_items", counting)
    go_online(live_server, context)  # `online` fires in both tabs
    page_a.evaluate("() => { window.__flush = window.pinganOutbox.flush(); }")
    page_b.evaluate("() => { window.__flush = window.pinganOutbox.flush(); }")
    page_a.evaluate("() => window.__flush")
    page_b.evaluate("() => window.__flush")
    settle(page_a)
    settle(page_b)
    assert len(check_ins()) == 3
    assert sorted(received) == sorted(set(received)) and len(received) == 3, "no record was sent twice"
    assert count(page_a) == 0 and count(page_b) == 0
    context.close()


def test_expired_session_pauses_the_queue_until_the_same_officer_logs_in(browser, live_server, station, point):
    """401 pauses; another officer logging in on the phone does not send it; the owner's login does."""
    page, context = officer_context(browser, live_server)
    go_offline(live_server, context)
    check_in_offline(page, point_id=point.id, note="会话过期")
    station.officer.session_version += 1  # e.g. the password was changed on another device
    db.session.commit()
    go_online(live_server, context)
    settle(page)
    assert flush(page)["status"] == "paused"
    assert count(page) == 1 and check_ins() == []

    login(page, "officer-b", PASSWORD)  # a colleague uses the phone
    settle(page)
    page.goto("/outbox")
    page.wait_for_selector("#outbox-page[data-state=ready]")
    assert "1" in page.inner_text("#outbox-others")
    assert flush(page)["status"] == "idle" and check_ins() == [], "never sent under another account"

    page.goto("/me")
    page.click("#logout-form button[type=submit]")
    page.wait_for_url("**/auth/login**")
    wait_until(page, "async () => !(await caches.keys()).some(k => k.startsWith('pingan-pages-'))")

    login(page, "demo-officer", PASSWORD)  # the owner again: the page load flush sends it
    settle(page)
    wait_until(page, "async () => (await window.pinganOutbox.count()) === 0")
    rows = check_ins()
    assert len(rows) == 1 and rows[0].officer_id == station.officer.id and rows[0].note == "会话过期"
    context.close()


def test_rejected_record_can_be_fixed_and_another_discarded(browser, live_server, station, point):
    """A code the server refuses puts the record in 'needs attention': fixed and re-sent, or discarded."""
    page, context = officer_context(browser, live_server)
    go_offline(live_server, context)
    check_in_offline(page, point_id=point.id, qr="99-123456", note="修正后发送")
    check_in_offline(page, point_id=point.id, qr="98-654321", note="不要了")
    go_online(live_server, context)
    settle(page)
    flush(page)  # (the `online` event may have flushed first: look at the end state)
    states = page.evaluate("async () => (await window.pinganOutbox.items()).map(i => i.state)")
    assert states == ["rejected", "rejected"] and check_ins() == []
    page.goto("/outbox")
    page.wait_for_selector("#outbox-page[data-state=ready]")
    assert page.get_attribute("#outbox-badge", "data-state") == "attention"
    keep = page.locator("#outbox-rejected li", has_text="修正后发送")
    assert keep.locator(".error").count() >= 1, "the server's message is shown next to the field"
    keep.locator("input[name=qr_token]").fill("")
    keep.locator("button.resend").click()
    wait_until(page, "async () => (await window.pinganOutbox.items()).length === 1")
    drop = page.locator("#outbox-rejected li", has_text="不要了")
    drop.locator("button.discard").click()
    assert count(page) == 1, "one tap only arms the discard"
    drop.locator("button.discard").click()
    page.wait_for_selector("#outbox-badge[data-state=idle]", state="attached")
    settle(page)
    rows = check_ins()
    assert [(r.note, r.point_id, r.method) for r in rows] == [("修正后发送", point.id, "gps")]
    assert "没有需要处理的记录" in page.inner_text("#outbox-rejected")
    context.close()


def test_photo_taken_offline_arrives_cleaned(browser, live_server, station, point):
    """A photo queued as a Blob goes first to /api/sync/attachments and is linked: JPEG, no EXIF."""
    page, context = officer_context(browser, live_server)
    go_offline(live_server, context)
    photo = jpeg_with_gps()
    check_in_offline(page, point_id=point.id, photo=photo)
    page.close()
    go_online(live_server, context)
    page = context.new_page()
    page.goto(CHECK_IN)
    settle(page)
    flush(page)
    rows = check_ins()
    assert len(rows) == 1 and rows[0].photo_id is not None
    stored = db.session.get(Attachment, rows[0].photo_id)
    image = Image.open(attachment_path(stored))
    assert image.format == "JPEG" and image.size == (64, 48) and not image.getexif()
    assert stored.client_id == rows[0].client_id and stored.user_id == station.officer.id
    context.close()


def test_service_worker_update_keeps_waiting_records(browser, live_server, station, point, monkeypatch):
    """A new worker version activates (old shell deleted) while a record waits: it still arrives."""
    page, context = officer_context(browser, live_server)
    go_offline(live_server, context)
    check_in_offline(page, point_id=point.id)
    old_shell = page.evaluate("async () => (await caches.keys()).find(k => k.startsWith('pingan-shell-'))")
    monkeypatch.setitem(live_server.app.config, "APP_VERSION", "e2e-next")
    context.set_offline(False)  # sync still refused: the record keeps waiting
    page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).update()")
    wait_until(page, "async (old) => { const keys = await caches.keys();"
               " return !keys.includes(old) && keys.some(k => k.startsWith('pingan-shell-')); }", old_shell)
    assert count(page) == 1

    go_offline(live_server, context)
    response = page.reload()  # the new worker serves the kept form page
    assert response.from_service_worker and page.locator("#checkin-form").count() == 1
    settle(page)
    assert count(page) == 1
    go_online(live_server, context)
    flush(page)
    assert len(check_ins()) == 1 and count(page) == 0
    context.close()
