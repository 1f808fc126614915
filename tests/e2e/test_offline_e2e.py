"""Offline in real Chromium: the service worker, the IndexedDB outbox and /api/sync together.

The patrol check-in is the field form under test (position emulated). "The server is unreachable"
is played with SYNC_REFUSE (sync answers 503) together with context.set_offline: a page closed
while offline can fire `online` and really send its queue (PITFALLS.md), so the refusal switch, not
the network flip alone, decides when records may arrive. Every sync a test waits for is awaited
through window.pinganOutbox.flush().
"""
import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from extensions import db
from models import Attachment, CheckIn, PatrolPoint
from tests.e2e.conftest import PHONE, login, new_page
from tests.factories import PASSWORD

HERE = {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 15}
CHECK_IN = "/patrol/check-in"

HAS_CHECK_IN_PAGE = """async () => {
  for (const key of await caches.keys()) {
    if (key.startsWith('pingan-pages-') && await (await caches.open(key)).match('/patrol/check-in')) return true;
  }
  return false;
}"""


@pytest.fixture
def point(station):
    """A patrol point where the emulated phone stands."""
    p = PatrolPoint(station_id=station.station.id, grid_id=station.grid_a.id, name="幸福小区东门",
                    lat=HERE["latitude"], lon=HERE["longitude"], radius_m=50)
    db.session.add(p)
    db.session.commit()
    return p


CACHES = "async () => { const out = []; for (const k of await caches.keys()) { const c = await caches.open(k); out.push([k, (await c.keys()).map(r => r.url).filter(u => !u.includes('static'))]); } return out; }"


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


def check_in_offline(page, note="", point_id=None, qr=""):
    """Fill and submit the check-in form with no network; wait for the 'saved on this phone' note."""
    page.wait_for_selector("#position[data-state=ok]")
    if point_id:
        page.select_option("#point_id", str(point_id))
    if qr:
        page.locator("#qr-entry summary").click()
        page.fill("#qr_token", qr)
    if note:
        page.locator("#extra summary").click()
        page.fill("#note", note)
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
    context.close()
