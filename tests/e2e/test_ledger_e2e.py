"""The ledger in a phone browser: register a rental household with two tenants, find a tenant by initials."""
from tests import factories
from tests.e2e.conftest import PHONE, login, new_page
from tests.factories import id_number


def test_register_rental_with_two_tenants_and_find_by_initials(live_server, browser, app):
    staff = factories.make_station_with_staff()
    page, context = new_page(browser, live_server, PHONE)
    try:
        login(page, "demo-officer", None)
        page.goto("/rentals/new")
        page.fill("#community", "城东社区")
        page.fill("#street", "解放路12号")
        page.fill("#room", "301")
        page.select_option("#grid_id", str(staff.grid_a.id))
        page.fill("#landlord_name", "王房东")
        page.fill("#landlord_doc_number", id_number(11))
        page.fill("#rooms", "2")
        page.fill("#lease_start", "2026-01-01")
        page.fill("#lease_end", "2027-01-01")
        page.fill("#tenants-0-name", "曾小明")
        page.fill("#tenants-0-doc_number", id_number(21))
        page.fill("#tenants-0-move_in", "2026-10-01")
        page.click("button[data-add-row=tenants]")
        page.fill("#tenants-1-name", "单伟")
        page.fill("#tenants-1-doc_number", id_number(22).lower())
        page.fill("#tenants-1-move_in", "2026-10-02")
        # no horizontal scroll on a 360 px phone
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.click("#rental-form button[type=submit]")
        page.wait_for_url(lambda url: url.rstrip("/").split("/")[-1].isdigit())
        tenants = page.locator("#tenancies")
        assert tenants.get_by_text("曾小明").count() == 1 and tenants.get_by_text("单伟").count() == 1
        assert id_number(21) not in page.content()

        page.goto("/residents/")
        assert page.locator("#results").get_by_text("曾小明").count() == 1  # recently added
        page.fill("#q", "sw")  # pinyin initials of 单伟 (单 read as the surname shan)
        page.locator("#results").get_by_text("曾小明").wait_for(state="detached")
        assert page.locator("#results").get_by_text("单伟").count() == 1
        assert "q=sw" not in page.url  # the search swapped the list, the page stayed
    finally:
        context.close()
