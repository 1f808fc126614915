"""A visit on a phone: find the resident by active search, no one home, ask for a follow-up; then see it in
"my follow-ups", in the resident's history, and in "who to visit" with a time to try."""
import re
from datetime import datetime, timedelta

from sqlalchemy import select

from blueprints.home.services import LOCAL_TZ
from extensions import db
from models import FollowUp, Visit
from tests import factories
from tests.e2e.conftest import PHONE, login, new_page

HERE = {"latitude": 35.7986, "longitude": 112.9237}


def test_no_one_home_visit_with_follow_up_on_a_phone(live_server, browser, app):
    staff = factories.make_station_with_staff()
    address = factories.make_address(staff.station, staff.grid_a, lat=HERE["latitude"] + 0.002,
                                     lon=HERE["longitude"])
    resident = factories.make_resident(staff.station, address, name="王秀英")
    resident.tags = " elderly_alone "
    db.session.commit()
    page, context = new_page(browser, live_server, PHONE, geolocation=HERE, permissions=["geolocation"])
    try:
        login(page, "demo-officer", None)
        page.goto("/visits/new")
        page.fill("#subject-q", "wxy")  # pinyin initials of 王秀英
        page.click(f"#pick-resident-{resident.id}")
        assert page.locator("#subject-label").inner_text() == "王秀英"
        assert page.locator("#subject-finder").is_hidden()
        page.check("input[name=outcome][value=no_one_home]")
        page.check("#follow_up")
        tomorrow = (datetime.now(LOCAL_TZ).date() + timedelta(days=1)).isoformat()
        page.fill("#follow_up_due", tomorrow)
        page.fill("#notes", "敲门无人应答，已留联系卡。")
        page.wait_for_selector("#visit-position[data-state=found]")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scroll
        page.click("#visit-submit")
        page.wait_for_url(re.compile(r"/visits/\d+$"))
        assert "走访已保存" in page.content() and "王秀英" in page.content()

        db.session.rollback()  # end the test's read snapshot: the server wrote since
        visit = db.session.scalars(select(Visit)).one()
        assert (visit.resident_id, visit.outcome, visit.via) == (resident.id, "no_one_home", "online")
        assert abs(visit.lat - HERE["latitude"]) < 1e-6
        assert db.session.scalars(select(FollowUp.due_on)).one().isoformat() == tomorrow

        page.click("text=我的回访")
        page.wait_for_url("**/visits/follow-ups")
        assert page.locator("#follow-ups").get_by_text("王秀英").count() == 1

        page.goto(f"/residents/{resident.id}")
        history = page.locator(f"#history-visit-{visit.id}")  # loaded lazily by htmx
        history.wait_for()
        assert "无人在家" in history.inner_text()

        page.goto("/visits/plan")
        page.locator("#plan[data-position=yes]").wait_for()  # re-sorted from the phone's position
        row = page.locator(f"#plan-resident-{resident.id}")
        assert re.search(r"\b22[23] 米", row.inner_text())  # 0.002 degrees north
        assert "建议" in page.locator(f"#suggestion-{resident.id}").inner_text()
    finally:
        context.close()
