"""The compliance report: numbers per officer/grid/day, roles, the audited Excel export, query counts."""
import io
import re
from datetime import datetime, time, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from blueprints.home.services import LOCAL_TZ
from extensions import db
from models import AuditEvent
from tests.conftest import queries
from tests.test_patrol import HX, make_check_in, make_point, text

TODAY = datetime.now(LOCAL_TZ).date()


def at(day, hour, minute=0) -> datetime:
    """A local Asia/Shanghai time on a day, as the aware UTC time stored."""
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ).astimezone(timezone.utc)


@pytest.fixture
def week(station):
    """Zhang Wei's grid A: a market (2 a day) and a night market (1 a day, 20-23 h); grid B's point."""
    market = make_point(station.station, station.grid_a, name="菜市场", required_per_day=2)
    night = make_point(station.station, station.grid_a, name="夜市", window_start=time(20), window_end=time(23))
    west = make_point(station.station, station.grid_b, name="西街网吧")
    yesterday = TODAY - timedelta(days=1)
    make_check_in(station.officer, market, at(yesterday, 9))
    make_check_in(station.officer, market, at(yesterday, 15), flags="outside_geofence")
    make_check_in(station.officer, market, at(yesterday, 16))  # a third: done stays capped at 2
    make_check_in(station.officer, night, at(yesterday, 10))  # outside the window: late, not done
    make_check_in(station.officer, night, at(yesterday, 21, 30))
    make_check_in(station.officer_b, west, at(yesterday, 23, 50))  # late evening: still yesterday locally
    return market, night, west


def test_report_counts_required_done_late_and_flagged(auth, client, station, week):
    auth.login("demo-command")
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    page = text(client.get(f"/patrol/report?start={yesterday}&end={yesterday}"))
    zhang = re.search(r'<tr data-officer="%d"[^>]*>(.*?)</tr>' % station.officer.id, page).group(1)
    cells = re.findall(r"<td>(.*?)</td>", zhang)
    # officer, grid, required, done, compliance, outside window, flagged, check-ins
    assert cells == ["张伟", "城东社区", "3", "3", "100%", "1", "1", "5"]
    zhao = re.findall(r"<td>(.*?)</td>", re.search(r'<tr data-officer="%d"[^>]*>(.*?)</tr>'
                                                  % station.officer_b.id, page).group(1))
    assert zhao == ["赵敏", "城西社区", "1", "1", "100%", "0", "0", "1"]
    assert 'id="report-daily"' not in page, "the long day-by-day table is fetched when opened"
    daily = client.get(f"/patrol/report/daily?start={yesterday}&end={yesterday}", headers=HX)
    assert daily.status_code == 200 and "<html" not in text(daily)
    assert f"<td>{yesterday}</td><td>张伟</td><td>城东社区</td><td>3</td><td>3</td><td>1</td><td>1</td>" in text(daily)


def test_report_over_a_range_counts_missing_days(auth, client, station, week):
    """Two days, nothing done today: half of the required check-ins."""
    auth.login("demo-leader")
    start = (TODAY - timedelta(days=1)).isoformat()
    page = text(client.get(f"/patrol/report?start={start}&end={TODAY.isoformat()}&grid_id={station.grid_a.id}"))
    cells = re.findall(r"<td>(.*?)</td>", re.search(r'<tr data-officer="%d"[^>]*>(.*?)</tr>'
                                                    % station.officer.id, page).group(1))
    assert cells[2:5] == ["6", "3", "50%"]
    assert "赵敏" not in page.split('id="report-officers"')[1].split("</table>")[0], "grid filter"


def test_report_form_refuses_an_inverted_range(auth, client, station):
    auth.login("demo-command")
    response = client.get(f"/patrol/report?start={TODAY}&end={TODAY - timedelta(days=3)}", headers=HX)
    assert response.status_code == 422 and "结束日期早于开始日期" in text(response)


@pytest.mark.parametrize("login", ["demo-officer", "demo-case"])
def test_officers_and_case_team_cannot_see_the_report(auth, client, station, login):
    auth.login(login)
    assert client.get("/patrol/report").status_code == 403
    assert client.get("/patrol/report.xlsx").status_code == 403
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).first() is None


def test_excel_export_has_the_numbers_and_is_audited(auth, client, station, week):
    auth.login("demo-command")
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    response = client.get(f"/patrol/report.xlsx?start={yesterday}&end={yesterday}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"] and ".xlsx" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    rows = [list(r) for r in book.worksheets[0].iter_rows(min_row=3, values_only=True)]
    assert ["张伟", "100001", "城东社区", 3, 3, "100%", 1, 1, 5] in rows
    assert len(list(book.worksheets[1].iter_rows(min_row=2))) == 2
    event_ = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert event_.user_id == station.command.id and event_.detail["report"] == "patrol_compliance"
    assert event_.detail["start"] == yesterday


# --- speed: the query count does not grow with the number of check-ins ------------------------------

def _add_check_ins(station, points, n):
    rows = []
    for i in range(n):
        when = at(TODAY - timedelta(days=i % 31), 8 + i % 12, i % 60)
        point = points[i % len(points)]
        rows.append(dict(officer=station.officer if i % 2 else station.officer_b, point=point, when=when))
    for row in rows:
        make_check_in(row["officer"], row["point"], row["when"], flags="poor_accuracy" if row["when"].minute % 7 == 0
                      else "")


def _queries(client, url) -> int:
    with queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_today_and_31_day_report_query_counts_do_not_grow_with_check_ins(auth, client, station, week):
    points = list(week)
    start = (TODAY - timedelta(days=30)).isoformat()
    report_url = f"/patrol/report?start={start}&end={TODAY.isoformat()}"
    auth.login("demo-officer")
    _add_check_ins(station, points, 10)
    today_small = _queries(client, "/patrol/today")
    auth.logout()
    auth.login("demo-command")
    report_small = _queries(client, report_url)
    feed_small = _queries(client, "/patrol/feed")
    _add_check_ins(station, points, 120)
    assert _queries(client, report_url) == report_small
    assert _queries(client, "/patrol/feed") == feed_small
    auth.logout()
    auth.login("demo-officer")
    assert _queries(client, "/patrol/today") == today_small
    assert today_small <= 10 and report_small <= 12


@pytest.mark.parametrize("grid", [None, "a"])
def test_report_totals_without_the_daily_rows_match_the_day_by_day_sums(station, week, grid):
    """The page's totals (summed in SQL, no day rows built) equal the sums of the day-by-day rows:
    the per-point daily cap, the night market's window, a flagged one, and a point-less check-in."""
    from blueprints.patrol import reports

    make_check_in(station.officer, None, at(TODAY - timedelta(days=2), 11))  # no point: first grid only
    grid_id = station.grid_a.id if grid else None
    start = TODAY - timedelta(days=6)
    full = reports.compliance(station.station.id, start, TODAY, grid_id)
    totals = reports.compliance(station.station.id, start, TODAY, grid_id, daily=False)
    assert totals.daily == [] and totals.daily_count == full.daily_count == len(full.daily) > 0
    assert [(r.officer.id, r.grid.id, r.tally) for r in totals.by_officer] == \
        [(r.officer.id, r.grid.id, r.tally) for r in full.by_officer]
    assert [(g.id, t) for g, t in totals.by_grid] == [(g.id, t) for g, t in full.by_grid]
    zhang = next(r.tally for r in totals.by_officer if r.officer.id == station.officer.id)
    assert (zhang.required, zhang.done, zhang.check_ins) == (21, 3, 6)
