"""Missing persons end to end: an officer (phone, emulated position) reports from a profile in one tap plus
the missing fields; the command room (desktop) sees the banner with a distance within 15 s; a sighting
appears on the case; "found" stands the banner down in both browsers."""
import re

from tests import factories
from tests.e2e.conftest import DESKTOP, PHONE, login, new_page
from tests.factories import PASSWORD

AT_THE_MARKET = {"latitude": 35.7986, "longitude": 112.9237, "accuracy": 12}
AT_THE_STATION = {"latitude": 35.8076, "longitude": 112.9237, "accuracy": 20}  # ~1 km north


def test_report_from_profile_banner_everywhere_sighting_found_stands_down(browser, live_server, station):
    address = factories.make_address(station.station, station.grid_a)
    resident = factories.make_resident(station.station, address, name="李秀英")
    factories.make_profile(station.station, resident)

    desk, desk_context = new_page(browser, live_server, DESKTOP, geolocation=AT_THE_STATION,
                                  permissions=["geolocation"])
    login(desk, "demo-command", PASSWORD)
    desk.goto("/missing/")
    assert desk.locator("#alerts .missing-banner").count() == 0

    phone, phone_context = new_page(browser, live_server, PHONE, geolocation=AT_THE_MARKET,
                                    permissions=["geolocation"])
    login(phone, "demo-officer", PASSWORD)
    phone.goto(f"/missing/profiles/{resident.id}")
    phone.click("#report-from-profile")  # the one tap: the form comes filled in
    assert phone.input_value("#name") == "李秀英" and phone.input_value("#risk") == "dementia"
    phone.fill("#last_seen_place", "城东菜市场南门")
    phone.click(".use-position")
    phone.wait_for_selector(".position-pick[data-state=found]")
    phone.fill("#clothing", "蓝色外套，黑裤子")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360, "no horizontal scrolling at 360 px"
    phone.click("#report-submit")
    phone.wait_for_url(re.compile(r".*/missing/\d+\?reported=1$"))
    case_path = phone.url.split(str(live_server.url))[-1].split("?")[0]
    assert "警报已发至全所" in phone.inner_text("#alert-sent")

    # The command room's page shows the banner by itself, with the distance from its position.
    banner = desk.locator("#alerts .missing-banner")
    banner.wait_for(timeout=15_000)
    text = banner.inner_text()
    assert "李秀英" in text and "城东菜市场南门" in text and "蓝色外套" in text
    desk.wait_for_function("document.querySelector('#alerts .banner-distance') !== null", timeout=15_000)
    assert re.search(r"距您 (0\.9|1\.0|1\.1) 公里", desk.inner_text("#alerts .banner-distance"))

    # A sighting from the phone appears on the case.
    phone.fill("#place", "南街公交站")
    phone.fill("#note", "往北走了")
    phone.click("#sighting-submit")
    phone.wait_for_selector("#timeline .action-sighting")
    desk.goto(case_path)
    assert "南街公交站" in desk.inner_text("#timeline")
    assert desk.locator("#officer-list li").count() >= 1

    # The officer marks her found: the case closes and the banner stands down in both browsers.
    phone.fill("#found_place", "城西公园长椅")
    phone.click("#found-submit")
    phone.wait_for_selector(".case-card[data-status=found]")
    phone.wait_for_selector("#alerts .missing-stood-down:not([hidden])", timeout=15_000)
    assert phone.locator("#alerts .missing-banner").count() == 0
    desk.wait_for_selector("#alerts .missing-banner", state="detached", timeout=15_000)
    notice = desk.locator("#alerts .missing-stood-down:not([hidden])")
    assert "城西公园长椅" in notice.inner_text()
    desk.reload()  # the "found" notice is shown once
    desk.wait_for_function("document.querySelector('#alerts').dataset.state === 'quiet'")
    assert desk.locator("#alerts .missing-stood-down").count() == 0
    desk_context.close()
    phone_context.close()
