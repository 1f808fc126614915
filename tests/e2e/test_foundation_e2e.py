"""End to end: logging in on a phone and on a desktop in real Chromium."""
from tests.e2e.conftest import DESKTOP, PHONE, login, new_page
from tests.factories import PASSWORD


def test_officer_logs_in_on_a_phone_and_sees_quick_actions_and_tab_bar(browser, live_server, station):
    """A 360 px phone: the login works, the home page has the bottom tab bar, nothing overflows."""
    page, context = new_page(browser, live_server, PHONE)
    login(page, "demo-officer", PASSWORD)
    assert page.locator("nav.tabs").is_visible()
    box = page.locator("nav.tabs").bounding_box()
    assert box["y"] + box["height"] >= 740 - 2, "tab bar sits at the bottom of the phone screen"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "no horizontal scrolling at 360 px"
    assert "今日" in page.content()
    context.close()


def test_wrong_password_shows_message_next_to_form(browser, live_server, station):
    """A wrong password answers in Chinese inside the form (htmx swap of the 401 form)."""
    page, context = new_page(browser, live_server, PHONE)
    page.goto("/auth/login")
    page.fill("#login", "demo-officer")
    page.fill("#password", "wrong-password")
    page.click("button[type=submit]")
    page.wait_for_selector(".form-errors")
    assert "用户名、警号或密码错误" in page.inner_text(".form-errors")
    context.close()


def test_leader_on_desktop_has_sidebar_and_switches_to_english(browser, live_server, station):
    """A desktop shows the sidebar; choosing English is remembered across pages."""
    page, context = new_page(browser, live_server, DESKTOP)
    login(page, "demo-leader", PASSWORD)
    sidebar = page.locator("nav.tabs").bounding_box()
    assert sidebar["x"] == 0 and sidebar["width"] < 300 and sidebar["height"] > 400
    page.click("button[value=en]")
    page.wait_for_selector("html[lang=en]")
    assert "Today" in page.locator("h1").inner_text()
    page.goto("/admin/")
    assert page.locator("h1").inner_text() == "Users"
    context.close()
