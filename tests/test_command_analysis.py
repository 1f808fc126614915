"""The command room's analysis (研判): a period against the one before, per grid; hours x weekdays; exports."""
import io
import re
from datetime import date, datetime, time, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from blueprints.command.from_patrol import compliance_by_grid
from blueprints.home.services import LOCAL_TZ
from blueprints.patrol import reports
from extensions import db
from models import AuditEvent, Inspection, Tenancy
from tests import factories
from tests.test_patrol import HX, make_check_in, make_point, text
from tests.conftest import queries as counted_queries

TODAY = datetime.now(LOCAL_TZ).date()
# Today's records are made minutes ago: at least an hour into the station's day (conftest.py).
pytestmark = pytest.mark.usefixtures("clear_of_station_midnight")
END = TODAY - timedelta(days=1)
START = END - timedelta(days=6)  # the week analysed; the week before is START-7 .. START-1
URL = f"/command/analysis?start={START}&end={END}"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ).astimezone(timezone.utc)


def cell(page: str, grid, measure: str) -> tuple[str, str, str]:
    """(now, before, change) shown for a grid (or "total") and a measure."""
    row = re.search(r'<tr (?:class="total" )?data-grid="%s">(.*?)</tr>' % grid, page, re.S).group(1)
    td = re.search(r'<td data-measure="%s">(.*?)</td>' % measure, row, re.S).group(1)
    now = re.search(r'<b class="now">(.*?)</b>', td).group(1)
    before = re.search(r"上期 (\S+) ·", td).group(1)
    change = re.search(r'<span class="change[^"]*">(.*?)</span>', td, re.S).group(1).strip()
    return now, before, change


@pytest.fixture
def two_weeks(station):
    """Hand-made: grid A's market (1 a day). Zhang Wei checks in 5 days of the week and 2 of the week
    before (one flagged); a rental registered this week with a late tenant, one inspected the week
    before; two tasks due this week, one done on time and one late."""
    market = make_point(station.station, station.grid_a, name="菜市场")
    for n in range(5):
        make_check_in(station.officer, market, at(START + timedelta(days=n), 9),
                      flags="outside_geofence" if n == 0 else "")
    make_check_in(station.officer, market, at(START + timedelta(days=1), 15))  # a second the same day: capped
    for n in range(2):
        make_check_in(station.officer, market, at(START - timedelta(days=7 - n), 10))
    landlord = factories.make_resident(station.station, name="房东甲")
    new = factories.make_household(station.station, station.grid_a, landlord=landlord, registered_on=START + timedelta(days=2))
    tenant = factories.make_resident(station.station, name="租客乙")
    db.session.add(Tenancy(station_id=station.station.id, household_id=new.id, resident_id=tenant.id,
                           move_in=START, registered_on=START + timedelta(days=5), registration_delay_days=5))
    old = factories.make_household(station.station, station.grid_b, registered_on=START - timedelta(days=30))
    db.session.add(Inspection(station_id=station.station.id, household_id=old.id, inspected_on=START - timedelta(days=3)))
    db.session.commit()
    due = at(START + timedelta(days=3), 18)
    factories.make_task(station.station, station.command, assignee=station.officer, status="confirmed",
                        due_at=due, done_at=due - timedelta(hours=2))
    factories.make_task(station.station, station.command, grid=station.grid_a, status="done",
                        due_at=due, done_at=due + timedelta(hours=5))
    return market


def test_period_is_compared_with_the_one_before_per_grid(auth, client, station, two_weeks):
    auth.login("demo-command")
    page = text(client.get(URL))
    assert f"{START} – {END}" in page and f"{START - timedelta(days=7)} – {START - timedelta(days=1)}" in page
    a, b = station.grid_a.id, station.grid_b.id
    assert cell(page, a, "patrol") == ("71%", "29%", "+43 个百分点")  # 5 of 7 days, 2 of 7 before
    assert cell(page, a, "checkins") == ("6", "2", "+4")
    assert cell(page, a, "flagged") == ("1", "0", "+1")
    row_a = page.split('<tr data-grid="%d">' % a)[1].split("</tr>")[0]
    flagged_td = re.search(r'<td data-measure="flagged">(.*?)</td>', row_a, re.S).group(1)
    assert 'class="change bad"' in flagged_td  # more flagged check-ins is bad news
    assert cell(page, b, "patrol") == ("—", "—", "±0")  # grid B has no patrol point: nothing required
    assert cell(page, a, "registrations") == ("1", "0", "+1")
    assert cell(page, a, "tenants_on_time") == ("0%", "—", "±0")  # the only tenant was registered 5 days late
    assert cell(page, b, "inspections") == ("0", "1", "-1")
    assert cell(page, a, "tasks_on_time") == ("50%", "—", "±0")
    assert cell(page, a, "tasks_late") == ("1", "0", "+1")
    assert cell(page, "total", "checkins") == ("6", "2", "+4")


def test_default_period_is_the_last_seven_days(auth, client, station):
    auth.login("demo-command")
    page = text(client.get("/command/analysis"))
    assert f"{TODAY - timedelta(days=6)} – {TODAY}" in page
    assert f"{TODAY - timedelta(days=13)} – {TODAY - timedelta(days=7)}" in page


def test_per_grid_compliance_agrees_with_the_patrol_report(station):
    """The fast per-grid compliance gives patrol's report numbers: caps, windows, inactive points,
    check-ins without a point, an officer of two grids."""
    night = make_point(station.station, station.grid_a, name="夜市", required_per_day=2,
                       window_start=time(20), window_end=time(23))
    west = make_point(station.station, station.grid_b, name="西街")
    closed = make_point(station.station, station.grid_b, name="旧点", active=False)
    station.officer_b.grids = [station.grid_a, station.grid_b]
    db.session.commit()
    for n in range(6):
        day = START + timedelta(days=n)
        make_check_in(station.officer, night, at(day, 21))
        make_check_in(station.officer, night, at(day, 21, 30), flags="poor_accuracy" if n % 2 else "")
        make_check_in(station.officer, night, at(day, 22))  # a third: capped at 2
        make_check_in(station.officer, night, at(day, 10))  # outside the window
        make_check_in(station.officer_b, west, at(day, 9))
        make_check_in(station.officer_b, closed, at(day, 11))
        make_check_in(station.officer_b, None, at(day, 12), flags="no_position")
        make_check_in(station.officer, west, at(day, 13))  # a point outside his grid
    expected = {g.id: t for g, t in reports.compliance(station.station.id, START, END).by_grid}
    got = compliance_by_grid(station.station.id, START, END)
    assert {k: vars(v) for k, v in got.items()} == {k: vars(v) for k, v in expected.items()}
    assert got[station.grid_a.id].done > 0 and got[station.grid_a.id].flagged > 0


def test_hour_by_weekday_table_uses_beijing_time(auth, client, station):
    monday = TODAY - timedelta(days=TODAY.weekday() + 14)
    market = make_point(station.station, station.grid_a)
    make_check_in(station.officer, market, at(monday, 23, 30), flags="outside_geofence")  # 15:30 UTC Monday
    make_check_in(station.officer, market, at(monday + timedelta(days=1), 2, 10))  # 18:10 UTC Monday
    make_check_in(station.officer, market, at(monday + timedelta(days=6), 8))
    auth.login("demo-command")
    page = text(client.get(f"/command/analysis?start={monday}&end={monday + timedelta(days=6)}"))

    def heat(table, weekday, hour):
        rows = page.split(f'id="{table}"')[1].split("</table>")[0]
        row = re.search(r'<tr data-weekday="%d">(.*?)</tr>' % weekday, rows, re.S).group(1)
        td = re.search(r'<td class="heat-\d" data-hour="%d">(.*?)</td>' % hour, row, re.S).group(1)
        return re.sub(r"<[^>]+>", "", td).strip()

    assert heat("heat-activity", 0, 23) == "1" and heat("heat-activity", 1, 2) == "1"
    assert heat("heat-activity", 6, 8) == "1" and heat("heat-activity", 0, 15) == ""
    assert heat("heat-flagged", 0, 23) == "1" and heat("heat-flagged", 1, 2) == ""


def test_one_click_from_a_row_or_an_hour_prefills_a_task(auth, client, station, two_weeks):
    auth.login("demo-command")
    page = text(client.get(URL))
    row = page.split('<tr data-grid="%d">' % station.grid_a.id)[1].split("</tr>")[0]
    link = re.search(r'href="(/tasks/new\?[^"]+)"', row).group(1).replace("&amp;", "&")
    assert "kind=patrol" in link and f"source=analysis:grid:{station.grid_a.id}" in link.replace("%3A", ":")
    form = text(client.get(link))
    assert "城东社区" in form and "巡逻考核 71%" in form
    hour_link = re.search(r'href="(/tasks/new\?[^"]+analysis(?:%3A|:)hour[^"]+)"', page).group(1).replace("&amp;", "&")
    assert "09:00–10:00" in text(client.get(hour_link))


@pytest.mark.parametrize("query, message", [
    (f"start={END}&end={START}", "结束日期早于开始日期"),
    (f"start={END - timedelta(days=400)}&end={END}", "时间范围最长一年"),
    ("start=yesterday", "start"),
])
def test_bad_periods_are_refused_beside_the_field(auth, client, station, query, message):
    auth.login("demo-command")
    response = client.get(f"/command/analysis?{query}", headers=HX)
    assert response.status_code == 422 and message in text(response)
    assert client.get(f"/command/analysis.xlsx?{query}").status_code == 422
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).first() is None


def test_excel_export_has_the_numbers_and_is_audited(auth, client, station, two_weeks):
    auth.login("demo-leader")
    response = client.get(f"/command/analysis.xlsx?start={START}&end={END}")
    assert response.status_code == 200 and ".xlsx" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    header, grid_a = rows[1], next(r for r in rows if r[0] == "城东社区")
    at_patrol = header.index("巡逻考核")
    assert grid_a[at_patrol:at_patrol + 3] == ["71%", "29%", "+43"]
    assert book.sheetnames[1:] == ["分时活动", "分时异常"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert event.user_id == station.leader.id and event.detail["report"] == "command_analysis"
    assert event.detail["start"] == START.isoformat()


def test_printable_page_has_the_tables_and_no_form(auth, client, station, two_weeks):
    auth.login("demo-command")
    page = text(client.get(f"/command/analysis/print?start={START}&end={END}"))
    assert 'id="analysis-grids"' in page and 'id="heat-flagged"' in page and "print-page" in page
    assert 'class="report-form"' not in page and "data-print" in page and "css/command.css" in page


def test_report_query_count_does_not_grow_with_data_or_days(auth, client, station, two_weeks):
    auth.login("demo-command")
    client.get(URL)
    with counted_queries() as week:
        assert client.get(URL).status_code == 200
    for n in range(20):
        make_check_in(station.officer_b, two_weeks, at(START + timedelta(days=n % 7), 8 + n % 12))
        factories.make_task(station.station, station.command, assignee=station.officer_b,
                            due_at=at(START + timedelta(days=n % 7), 12))
    with counted_queries() as more:
        assert client.get(URL).status_code == 200
    with counted_queries() as year:
        assert client.get(f"/command/analysis?start={END - timedelta(days=364)}&end={END}").status_code == 200
    assert len(week) == len(more) == len(year), (len(week), len(more), len(year))


def test_both_periods_from_one_statement_agree_with_each_period_alone(station, two_weeks):
    """Visits, rentals and tasks give both periods' measures from one statement each (grouped by which
    period a row falls in): the same figures as measuring each period on its own."""
    from blueprints.command.sources import SOURCES, Period
    from tests.test_visits import make_visit

    resident = factories.make_resident(station.station, factories.make_address(station.station, station.grid_a))
    make_visit(station.officer, resident, at(START + timedelta(days=1), 10))
    make_visit(station.officer, resident, at(START + timedelta(days=2), 11), outcome="no_one_home")
    make_visit(station.officer, resident, at(START - timedelta(days=2), 9))
    period = Period(station.command, START, END)
    previous = period.before()
    assert period.user.station_id  # the user loaded before counting
    checked = set()
    for source in SOURCES:
        if source.name in ("visits", "rentals", "tasks"):
            with counted_queries() as statements:
                now, before = source.compare(period, previous)
            assert len([s for s in statements if s != "BEGIN"]) == 1, source.name
            for got, alone in ((now, source.measures(period)), (before, source.measures(previous))):
                assert [(c.key, c.values, c.of) for c in got] == [(c.key, c.values, c.of) for c in alone]
            checked.add(source.name)
    assert checked == {"visits", "rentals", "tasks"}


def test_compliance_reads_the_kept_day_totals_not_the_check_ins(station, two_weeks):
    """The per-grid compliance sums patrol_day_totals (kept with each check-in, as patrol's report
    reads them): its statements do not read the check-ins, whatever their number."""
    station_id = station.station.id
    with counted_queries() as statements:
        got = compliance_by_grid(station_id, START, END)
    assert not [s for s in statements if re.search(r"(FROM|JOIN) check_ins\b", s)]
    assert any("patrol_day_totals" in s for s in statements)
    expected = {g.id: t for g, t in reports.compliance(station_id, START, END).by_grid}
    assert {k: vars(v) for k, v in got.items()} == {k: vars(v) for k, v in expected.items()}
    assert got[station.grid_a.id].done == 5 and got[station.grid_a.id].check_ins == 6


@pytest.mark.parametrize("username, locale", [("demo-command", None), ("demo-leader", "en")])
def test_every_hour_link_is_what_url_for_builds(auth, client, station, two_weeks, username, locale):
    """The flagged table's links, quoted piece by piece of the translated pattern (each distinct piece
    once), are what url_for("tasks.new", kind=, text=, source=) builds, in either language."""
    from flask import url_for

    if locale:
        station.leader.locale = locale
        db.session.commit()
    auth.login(username)
    page = text(client.get(URL))
    links = re.findall(r'href="(/tasks/new\?[^"]+analysis(?:%3A|:)hour[^"]+)"', page)
    assert links
    pattern = ("Patrol on %(weekday)s %(start)02d:00–%(end)02d:00: %(n)s flagged events at this hour in %(span)s."
               if locale else "请于%(weekday)s %(start)02d:00–%(end)02d:00 巡逻：%(span)s 该时段异常 %(n)s 起。")
    names = (["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] if locale
             else ["周一", "周二", "周三", "周四", "周五", "周六", "周日"])
    with client.application.test_request_context():
        for link in links:
            weekday, hour = map(int, re.search(r"hour(?:%3A|:)(\d)-(\d\d)", link).groups())
            flagged = re.search(r'data-hour="%d"><a href="%s" title="[^"]*">(\d+)</a>' % (hour, re.escape(link)),
                                page).group(1)
            values = {"weekday": names[weekday], "start": hour, "end": (hour + 1) % 24, "n": flagged,
                      "span": f"{START:%m-%d}–{END:%m-%d}"}
            expected = url_for("tasks.new", kind="patrol", text=pattern % values,
                               source=f"analysis:hour:{weekday}-{hour:02d}")
            assert link.replace("&amp;", "&").replace("&#39;", "'") == expected
