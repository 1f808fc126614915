"""End to end: a phone checks in at a patrol point in two taps; the command room sees it live."""
from playwright.sync_api import expect
from sqlalchemy import select

from extensions import db
from models import CheckIn
from tests.e2e.conftest import DESKTOP, PHONE, login, new_page
from tests.factories import PASSWORD
from tests.test_patrol import MARKET, make_check_in, make_point

AT_THE_MARKET = {"latitude": MARKET[0] + 0.0001, "longitude": MARKET[1], "accuracy": 15}


def test_officer_checks_in_in_two_taps_and_the_command_room_sees_it(browser, live_server, station):
    market = make_point(station.station, station.grid_a, name="城东菜市场")
    make_point(station.station, station.grid_a, name="城东小学", lat=MARKET[0] + 0.004)  # ~450 m north
    page, context = new_page(browser, live_server, PHONE, geolocation=AT_THE_MARKET, permissions=["geolocation"])
    login(page, "demo-officer", PASSWORD)

    page.click("a.big-button[href='/patrol/check-in']")  # tap one, from the home screen
    page.wait_for_selector("#position[data-state=ok]")
    assert page.input_value("#point_id") == str(market.id), "the nearest point is preselected"
    assert "±15 米" in page.inner_text("#position")
    assert "城东菜市场" in page.inner_text("#position-text")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "no horizontal scrolling at 360 px"
    box = page.locator("#checkin-submit").bounding_box()
    assert box["height"] >= 44, "a thumb-sized button"

    page.click("summary:has-text('备注')")
    page.fill("#note", "菜市场东门")
    first_id = page.input_value("#client_id")
    page.click("#checkin-submit")  # tap two
    page.wait_for_selector("#checkin-saved")
    assert "签到成功" in page.inner_text("#checkin-saved")
    # The page keeps its form, cleared for the next check-in: no note, a new record id, the point again.
    expect(page.locator("#note")).to_have_value("")
    assert page.input_value("#client_id") not in ("", first_id)
    page.wait_for_selector("#position[data-state=ok]")
    assert page.input_value("#point_id") == str(market.id)

    page.evaluate("document.getElementById('checkin-saved').dataset.first = '1'")
    page.click("#checkin-submit")  # the next check-in, two taps later
    page.wait_for_selector("#checkin-saved:not([data-first])")
    db.session.rollback()
    saved = db.session.scalars(select(CheckIn).order_by(CheckIn.id)).all()
    assert [c.note for c in saved] == ["菜市场东门", None] and len({c.client_id for c in saved}) == 2

    page.goto("/patrol/today")
    assert "城东菜市场" in page.inner_text("#history")
    assert "已完成" in page.inner_text(f"#point-status-{market.id}")
    context.close()

    desk, desk_context = new_page(browser, live_server, DESKTOP)
    login(desk, "demo-command", PASSWORD)
    desk.goto("/patrol/feed")
    assert "张伟" in desk.inner_text("#feed-list") and "城东菜市场" in desk.inner_text("#feed-list")
    assert desk.locator("#checkin-map .leaflet-interactive").count() == 2, "a marker per check-in on the map"
    # A check-in arriving later shows up without a reload (htmx polls every 10 s).
    db.session.rollback()  # a fresh snapshot: the server wrote since this session last read (SQLite WAL)
    make_check_in(station.officer_b, market, note="赵敏在菜市场")
    desk.wait_for_selector("text=赵敏在菜市场", timeout=15_000)
    expect(desk.locator("#checkin-map .leaflet-interactive")).to_have_count(3)
    desk_context.close()


def test_location_denied_says_so_and_offers_the_code(browser, live_server, station):
    make_point(station.station, station.grid_a, name="城东菜市场")
    page, context = new_page(browser, live_server, PHONE)  # no geolocation permission
    login(page, "demo-officer", PASSWORD)
    page.goto("/patrol/check-in")
    page.wait_for_selector("#position[data-state=error]")
    assert "定位权限已关闭" in page.inner_text("#position-text")
    assert page.locator("#qr_token").is_visible(), "the code entry opens by itself"
    context.close()


def test_a_refused_code_then_a_saved_check_in_leaves_no_stale_message(browser, live_server, station):
    """A mistyped code is refused beside the field; corrected and saved, the form comes back clean."""
    make_point(station.station, station.grid_a, name="城东菜市场")
    page, context = new_page(browser, live_server, PHONE, geolocation=AT_THE_MARKET, permissions=["geolocation"])
    login(page, "demo-officer", PASSWORD)
    page.goto("/patrol/check-in")
    page.wait_for_selector("#position[data-state=ok]")
    page.click("#qr-entry summary")
    page.fill("#qr_token", "12-000000")
    page.click("#checkin-submit")
    page.wait_for_selector("#qr_token-error")
    assert page.get_attribute("#qr_token", "aria-invalid") == "true"

    page.fill("#qr_token", "")
    page.click("#checkin-submit")
    page.wait_for_selector("#checkin-saved")
    expect(page.locator("#qr_token-error")).to_have_count(0)
    expect(page.locator(".form-errors")).to_have_count(0)
    assert page.get_attribute("#qr_token", "aria-invalid") is None
    context.close()
