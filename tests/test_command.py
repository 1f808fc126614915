"""The command room's one screen: who may open it, what it shows, the cheap refresh, query counts."""
import re
from datetime import datetime, time, timedelta, timezone

import pytest

from blueprints.home.services import LOCAL_TZ
from extensions import db
from tests import factories
from tests.test_patrol import HX, make_check_in, make_point, text
from tests.conftest import queries as counted_queries

TODAY = datetime.now(LOCAL_TZ).date()
# Today's records are made minutes ago: at least an hour into the station's day (conftest.py).
pytestmark = pytest.mark.usefixtures("clear_of_station_midnight")


def at(day, hour, minute=0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ).astimezone(timezone.utc)


def count_of(page: str, key: str) -> int:
    """The number shown in one box of today's counts."""
    box = re.search(r'id="count-%s".*?<dd>(.*?)</dd>' % key, page, re.S).group(1)
    return int(re.sub(r"<[^>]+>", "", box).strip())


# The screen's htmx requests as command.js sends them: with the markers' format the script reads.
SCREEN = {**HX, "X-Pingan-Layers": "2"}


def version_of(page: str) -> str:
    return re.search(r'data-version="([^"]+)"', page).group(1)


def map_layers(client, page: str) -> dict:
    """The map's layers as command.js gets them (the page's data-layers-url), each marker expanded from
    its compact [lat, lon (microdegrees), label, alert, url suffix] to a dict, in degrees as drawn."""
    response = client.get(re.search(r'data-layers-url="([^"]+)"', page).group(1).replace("&amp;", "&"))
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json()["format"] == "2"
    layers = {}
    for layer in response.get_json()["overlays"]:
        markers = [{"lat": m[0] / 1e6, "lon": m[1] / 1e6, "label": m[2], "alert": bool(m[3]),
                    "url": f'{layer["url"]}{m[4]}' if len(m) > 4 else None} for m in layer["markers"]]
        layers[layer["key"]] = {**layer, "markers": markers}
    return layers


@pytest.fixture
def busy_day(station):
    """Today: two check-ins in grid A (one flagged), a rental registered and inspected, an overdue task."""
    market = make_point(station.station, station.grid_a, name="菜市场")
    now = datetime.now(timezone.utc)
    make_check_in(station.officer, market, now - timedelta(minutes=30))
    make_check_in(station.officer, market, now - timedelta(minutes=5), flags="outside_geofence")
    household = factories.make_household(station.station, station.grid_a, officer=station.officer,
                                         registered_on=TODAY, last_inspected_on=None)
    from models import Inspection
    db.session.add(Inspection(station_id=station.station.id, household_id=household.id, officer_id=station.officer.id,
                              inspected_on=TODAY))
    db.session.commit()
    overdue = factories.make_task(station.station, station.command, assignee=station.officer, due_in_hours=-2,
                                  place="解放路12号", lat=35.8, lon=112.92, text="巡查夜市")
    return market, household, overdue


# --- roles ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("login", ["demo-officer", "demo-case"])
def test_community_and_case_team_cannot_open_the_command_room(auth, client, station, login):
    auth.login(login)
    for url in ("/command/", "/command/live", "/command/layers", "/command/analysis", "/command/analysis.xlsx",
                "/command/analysis/print"):
        assert client.get(url).status_code == 403, url


def test_logged_out_users_are_sent_to_login(client, station):
    response = client.get("/command/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert client.get("/command/live", headers=HX).headers.get("HX-Redirect") == "/auth/login"


@pytest.mark.parametrize("login", ["demo-command", "demo-leader"])
def test_command_room_and_leaders_see_the_screen(auth, client, station, login):
    auth.login(login)
    response = client.get("/command/")
    assert response.status_code == 200
    page = text(response)
    assert "指挥室" in page and 'id="command-map"' in page and 'class="wide command-room"' in page
    assert "今天还没有记录" in page  # an empty feed says so


def test_station_home_points_to_the_command_room(auth, client, station):
    auth.login("demo-command")
    assert 'id="open-command-room" href="/command/"' in text(client.get("/"))


# --- what the screen shows ------------------------------------------------------------------------------

def test_counts_feed_grid_table_and_map_layers_of_today(auth, client, station, busy_day):
    market, household, overdue = busy_day
    auth.login("demo-command")
    page = text(client.get("/command/"))
    assert count_of(page, "checkins") == 2
    assert count_of(page, "flagged") == 1
    assert count_of(page, "registrations") == 1
    assert count_of(page, "inspections") == 1
    assert count_of(page, "overdue-tasks") == 1
    assert 'id="count-flagged"' in page and re.search(r'class="count alert" id="count-flagged"', page)
    feed = page.split('id="activity"')[1].split("</ol>")[0]
    assert "菜市场" in feed and "张伟" in feed and household.address.label in feed
    # Newest first: the flagged check-in 5 minutes ago comes before the one 30 minutes ago.
    times = re.findall(r'<time datetime="[^"]+">(\d\d:\d\d)</time>', feed)
    assert times == sorted(times, reverse=True)
    row_a = re.search(r'<tr data-grid="%d">(.*?)</tr>' % station.grid_a.id, page, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row_a, re.S)]
    header = re.findall(r'<th scope="col">(.*?)</th>', page.split('id="grid-table"')[1].split("</thead>")[0])
    assert dict(zip(header[1:], cells))["签到动态"] == "2"
    assert dict(zip(header[1:], cells))["逾期指令"] == "1"
    assert "data-layers=" not in page  # the markers are fetched, not inlined
    layers = map_layers(client, page)
    assert len(layers["checkins"]["markers"]) == 2 and [m["alert"] for m in layers["checkins"]["markers"]] == [True, False]
    assert len(layers["officers"]["markers"]) == 1
    assert layers["tasks"]["markers"][0]["url"] == f"/tasks/{overdue.id}"


def test_map_positions_are_converted_for_gcj02_tiles(app, auth, client, station, busy_day):
    from domain.geo import wgs84_to_gcj02

    market = busy_day[0]
    auth.login("demo-command")
    app.config["MAP_TILE_CRS"] = "gcj02"
    try:
        page = text(client.get("/command/"))
        marker = map_layers(client, page)["checkins"]["markers"][0]
    finally:
        app.config["MAP_TILE_CRS"] = "wgs84"
    assert (marker["lat"], marker["lon"]) == pytest.approx(wgs84_to_gcj02(market.lat, market.lon))
    assert marker["lat"] != pytest.approx(market.lat, abs=1e-4)


def test_map_markers_say_who_where_and_when(auth, client, station, busy_day):
    """A marker's tooltip: a check-in's officer, point and station time (newest first; the officer's
    last position is the newest); an overdue rental's address (empty parts left out) and its last
    inspection, or never; an open task's place, officer or grid and text (40 characters), red when
    overdue. Written out here as the screen showed them before the labels came from SQL."""
    market, _household, overdue = busy_day
    auth.login("demo-command")
    layers = map_layers(client, text(client.get("/command/")))
    times = [(datetime.now(timezone.utc) - timedelta(minutes=m)).astimezone(LOCAL_TZ).strftime("%H:%M") for m in (5, 30)]
    officer = station.officer.name
    assert [m["label"] for m in layers["checkins"]["markers"]] == [f"{officer} · 菜市场 · {t}" for t in times]
    assert [m["label"] for m in layers["officers"]["markers"]] == [f"{officer} · 菜市场 · {times[0]}"]
    assert [m["url"] for m in layers["checkins"]["markers"]] == [None, None]

    long_ago = TODAY - timedelta(days=400)
    inspected = factories.make_household(
        station.station, station.grid_a, registered_on=long_ago, last_inspected_on=TODAY - timedelta(days=200),
        address=factories.make_address(station.station, station.grid_a, building="", unit="", lat=35.79, lon=112.93))
    never = factories.make_household(station.station, station.grid_a, registered_on=long_ago, last_inspected_on=None,
                                     address=factories.make_address(station.station, station.grid_a, lat=35.791,
                                                                    lon=112.931))
    later = factories.make_task(station.station, station.command, grid=station.grid_a, due_in_hours=5, place="夜市",
                                lat=35.81, lon=112.9, text="很" * 50)
    layers = map_layers(client, text(client.get("/command/")))
    rentals = layers["rentals_overdue"]["markers"]
    day = (TODAY - timedelta(days=200)).isoformat()
    assert [(m["label"], m["alert"], m["url"]) for m in rentals] == [
        (f"城东社区 {inspected.address.street} 101 · 上次检查 {day}", True, f"/rentals/{inspected.id}"),
        (f"城东社区 {never.address.street} 1号楼 1单元 101 · 从未检查", True, f"/rentals/{never.id}")]
    assert (rentals[0]["lat"], rentals[0]["lon"]) == (35.79, 112.93)
    assert [(m["label"], m["alert"], m["url"]) for m in layers["tasks"]["markers"]] == [
        (f"解放路12号 · {officer} · 巡查夜市", True, f"/tasks/{overdue.id}"),
        (f"夜市 · {station.grid_a.name} · {'很' * 40}", False, f"/tasks/{later.id}")]


def test_each_user_reads_the_screen_in_their_own_language(auth, client, station, busy_day):
    """The counts, columns, feed and map labels are in the language of the user who asks, one request
    after another (the words are looked up once per request, not kept from an earlier one)."""
    station.leader.locale = "en"
    db.session.commit()
    auth.login("demo-command")
    page = text(client.get("/command/"))
    assert "签到动态" in page and "Check-ins" not in page
    assert map_layers(client, page)["tasks"]["label"] == "待办指令"
    auth.logout()
    auth.login("demo-leader")
    page = text(client.get("/command/"))
    assert "Check-ins" in page and "签到动态" not in page
    assert "Patrol" in page.split('id="activity"')[1].split("</ol>")[0]
    assert map_layers(client, page)["tasks"]["label"] == "Open tasks"


def test_a_check_in_of_another_station_is_not_counted(auth, client, station, busy_day):
    other = factories.make_station()
    other_grid = factories.make_grid(other)
    stranger = factories.make_user(other, grids=[other_grid])
    make_check_in(stranger, make_point(other, other_grid, name="别处"), datetime.now(timezone.utc))
    auth.login("demo-command")
    page = text(client.get("/command/"))
    assert count_of(page, "checkins") == 2 and "别处" not in page


def test_points_done_per_grid_agree_with_the_patrol_report(auth, client, station):
    """The screen's "points done" column (one grouped statement) gives patrol's compliance report of
    today: the daily cap, the window, an inactive point, a point outside the officer's grids, an
    officer of two grids, a check-in without a point."""
    from blueprints.patrol import reports

    night = make_point(station.station, station.grid_a, name="夜市", required_per_day=2)
    west = make_point(station.station, station.grid_b, name="西街")
    closed = make_point(station.station, station.grid_b, name="旧点", active=False)
    station.officer_b.grids = [station.grid_a, station.grid_b]
    db.session.commit()
    now = datetime.now(timezone.utc)
    for minutes in (1, 2, 3):  # three at a point required twice: capped at 2
        make_check_in(station.officer, night, now - timedelta(minutes=minutes))
    make_check_in(station.officer, west, now - timedelta(minutes=4))  # not his grid
    make_check_in(station.officer_b, west, now - timedelta(minutes=5))
    make_check_in(station.officer_b, closed, now - timedelta(minutes=6))
    make_check_in(station.officer_b, None, now - timedelta(minutes=7), flags="no_position")
    auth.login("demo-command")
    page = text(client.get("/command/"))
    header = re.findall(r'<th scope="col">(.*?)</th>', page.split('id="grid-table"')[1].split("</thead>")[0])
    column = header[1:].index("必到点完成")
    report = {g.id: t for g, t in reports.compliance(station.station.id, TODAY, TODAY).by_grid}
    for grid in (station.grid_a, station.grid_b):
        row = re.search(r'<tr data-grid="%d">(.*?)</tr>' % grid.id, page, re.S).group(1)
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        assert cells[column] == f"{report[grid.id].done}/{report[grid.id].required}", grid.name
    assert report[station.grid_a.id].done == 2


def test_feed_shows_what_fits_and_more_appends_the_rest_in_order(auth, client, station):
    """20 lines beside the map, then "more" (htmx) appends the next 20, newest first, none twice."""
    market = make_point(station.station, station.grid_a, name="菜市场")
    now = datetime.now(timezone.utc)
    for minute in range(45):
        make_check_in(station.officer, market, now - timedelta(seconds=minute * 20))  # received then too
    auth.login("demo-command")
    page = text(client.get("/command/"))
    feed = page.split('id="activity"')[1].split("</ol>")[0]
    assert feed.count('class="activity-item') == 20
    more = re.search(r'id="activity-more"><a class="button small" href="([^"]+)"', feed).group(1)
    second = client.get(more, headers=HX)
    assert second.status_code == 200 and "<html" not in text(second)
    assert text(second).count('class="activity-item') == 20
    third = client.get(re.search(r'href="([^"]+)"', text(second).split('id="activity-more"')[1]).group(1), headers=HX)
    assert text(third).count('class="activity-item') == 5 and 'id="activity-more"' not in text(third)
    times = re.findall(r'<time datetime="([^"]+)"', feed + text(second) + text(third))
    assert len(times) == len(set(times)) == 45 and times == sorted(times, reverse=True)
    full = text(client.get(more))  # without htmx: the page with the feed from the start
    assert "<html" in full and full.count('class="activity-item') == 40


def test_feed_mixes_every_source_newest_first_with_its_link(auth, client, station):
    """The feed's lines of every source (one statement for patrol, rentals, tasks and missing persons):
    a check-in, a registration, an inspection, a task's step with its feedback, a missing person's
    report and a sighting, each with its text, officer and link, newest first; a line of yesterday is
    not among them (nor, as before, one stored after it: the newest ids come first)."""
    from models import Inspection
    from models.missing import MissingPersonCase, Sighting

    now = datetime.now(timezone.utc)
    minutes = lambda n: now - timedelta(minutes=n)  # noqa: E731
    market = make_point(station.station, station.grid_a, name="菜市场")
    make_check_in(station.officer, market, minutes(1))
    old = factories.make_household(station.station, station.grid_a, created_at=now - timedelta(days=2))
    household = factories.make_household(station.station, station.grid_a, registered_on=TODAY, created_at=minutes(6))
    db.session.add(Inspection(station_id=station.station.id, household_id=household.id, officer_id=station.officer.id,
                              inspected_on=TODAY, created_at=minutes(5)))
    task = factories.make_task(station.station, station.command, assignee=station.officer, text="巡查夜市")
    task.events[0].created_at, task.events[0].feedback = minutes(4), "已到达夜市"
    case = MissingPersonCase(station_id=station.station.id, name="李桂英", risk="dementia", last_seen_at=now,
                             last_seen_place="城东菜市场南门", status="open", reported_by_id=station.officer.id,
                             created_at=minutes(3), updated_at=now, recorded_at=now, via="sync")
    db.session.add(case)
    db.session.flush()
    db.session.add(Sighting(case_id=case.id, station_id=station.station.id, user_id=station.officer.id, seen_at=now,
                            place="北关桥头", created_at=minutes(2)))
    db.session.commit()
    auth.login("demo-command")
    feed = text(client.get("/command/")).split('id="activity"')[1].split("</ol>")[0]
    lines = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", line)).strip()
             for line in re.findall(r'<li class="activity-item[^"]*">(.*?)</li>', feed, re.S)]
    hhmm = [minutes(n).astimezone(LOCAL_TZ).strftime("%H:%M") for n in range(1, 7)]
    address = household.address.label
    assert lines == [f"{hhmm[0]} 巡逻 在菜市场签到 · 张伟", f"{hhmm[1]} 线索 北关桥头",
                     f"{hhmm[2]} 走失 报告走失：李桂英 离线补传", f"{hhmm[3]} 指令 已创建: 已到达夜市 · {station.command.name}",
                     f"{hhmm[4]} 安全检查 检查 {address} · 张伟", f"{hhmm[5]} 出租信息 登记 {address}"]
    links = re.findall(r'<a href="([^"]+)"', feed)
    assert links == ["/patrol/feed", f"/missing/{case.id}", f"/missing/{case.id}", f"/tasks/{task.id}",
                     f"/rentals/{household.id}", f"/rentals/{household.id}"]
    assert f"/rentals/{old.id}\"" not in feed


# --- the map's layers --------------------------------------------------------------------------------------

def test_layers_answer_304_to_a_matching_etag_and_change_with_the_data(auth, client, station, busy_day):
    auth.login("demo-command")
    page = text(client.get("/command/"))
    url = re.search(r'data-layers-url="([^"]+)"', page).group(1)
    first = client.get(url)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "private, no-cache"
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    factories.make_task(station.station, station.command, assignee=station.officer, lat=35.81, lon=112.93)
    changed = client.get("/command/layers", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
    tasks = next(layer for layer in changed.get_json()["overlays"] if layer["key"] == "tasks")
    assert len(tasks["markers"]) == 2 and tasks["url"] == "/tasks/"


def test_layers_query_count_does_not_grow_with_data(auth, client, station, busy_day):
    auth.login("demo-command")
    client.get("/command/layers")
    with counted_queries() as few:
        assert client.get("/command/layers").status_code == 200
    _more_data(station, busy_day[0], 12)
    with counted_queries() as many:
        layers = client.get("/command/layers").get_json()["overlays"]
    assert len(next(layer for layer in layers if layer["key"] == "checkins")["markers"]) == 14
    assert len(many) == len(few), (len(few), len(many))


def test_layers_give_positions_in_microdegrees_under_overlays(auth, client, station, busy_day):
    """Format 2: each marker's position as whole microdegrees (~0.1 m) of the stored WGS-84 position, the
    layers under "overlays" (a script of format 1 looks for "layers", finds none and draws nothing),
    and an ETag of its own (a browser holding format 1's body for the same version does not get it back)."""
    market, _household, overdue = busy_day
    auth.login("demo-command")
    page = text(client.get("/command/"))
    url = re.search(r'data-layers-url="([^"]+)"', page).group(1)
    response = client.get(url)
    data = response.get_json()
    assert data["format"] == "2" and "layers" not in data
    overlays = {layer["key"]: layer for layer in data["overlays"]}
    assert [m[:2] for m in overlays["checkins"]["markers"]] == [[round(market.lat * 1e6), round(market.lon * 1e6)]] * 2
    assert all(isinstance(n, int) for m in overlays["checkins"]["markers"] for n in m[:2])
    assert overlays["tasks"]["markers"] == [[35800000, 112920000, "解放路12号 · 张伟 · 巡查夜市", 1, overdue.id]]
    old_etag = f'"layers-{version_of(page)}-wgs84"'
    assert client.get(url, headers={"If-None-Match": old_etag}).status_code == 200
    assert client.get(url, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


# --- the refresh -------------------------------------------------------------------------------------------

def test_refresh_answers_204_when_nothing_changed_and_the_fragment_when_something_did(auth, client, station, busy_day):
    auth.login("demo-command")
    page = text(client.get("/command/"))
    version = version_of(page)
    idle = client.get(f"/command/live?v={version}", headers=SCREEN)
    assert idle.status_code == 204 and idle.data == b""
    make_check_in(station.officer, busy_day[0], datetime.now(timezone.utc))
    fresh = client.get(f"/command/live?v={version}", headers=SCREEN)
    assert fresh.status_code == 200
    fragment = text(fresh)
    assert "<html" not in fragment and fragment.lstrip().startswith('<div id="command-live"')
    assert count_of(fragment, "checkins") == 3 and version_of(fragment) != version
    assert fresh.headers["Vary"] and "HX-Request" in fresh.headers["Vary"]


def test_the_screen_loads_the_script_of_the_markers_format(auth, client, station):
    """The page asks for command.js with the markers' format in its URL: a service worker whose shell
    still holds the previous script (kept by exact URL) cannot hand it to a new page."""
    auth.login("demo-command")
    page = text(client.get("/command/"))
    src = re.search(r'<script src="(/static/js/command\.js[^"]*)" defer>', page).group(1)
    assert src == "/static/js/command.js?v=2"
    script = client.get(src)
    assert script.status_code == 200 and b'LAYERS_FORMAT = "2"' in script.data
    script.close()


def test_a_screen_whose_script_reads_another_format_is_told_to_reload(auth, client, station, busy_day):
    """A command screen left open across an update polls with its old command.js (no format, or
    another one): the refresh answers HX-Refresh (htmx reloads the page, which brings the new script)
    instead of 204, 304 or a fragment whose markers that script would misread."""
    auth.login("demo-command")
    page = text(client.get("/command/"))
    poll = f"/command/live?v={version_of(page)}"
    etag = client.get(poll, headers=SCREEN).headers["ETag"]
    for headers in (HX, {**HX, "X-Pingan-Layers": "1"}, {**HX, "If-None-Match": etag}):
        stale = client.get(poll, headers=headers)
        assert stale.status_code == 200 and stale.headers["HX-Refresh"] == "true" and stale.data == b""
        assert "ETag" not in stale.headers
    assert client.get(poll, headers=SCREEN).status_code == 204
    assert "HX-Refresh" not in client.get("/command/live").headers  # a plain GET (no htmx): the page as before


def test_refresh_answers_304_to_a_matching_etag(auth, client, station, busy_day):
    auth.login("demo-command")
    first = client.get("/command/live", headers=SCREEN)
    etag = first.headers["ETag"]
    assert client.get("/command/live", headers={**SCREEN, "If-None-Match": etag}).status_code == 304
    factories.make_task(station.station, station.command, assignee=station.officer)
    changed = client.get("/command/live", headers={**SCREEN, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_a_task_step_changes_the_version(auth, client, station, busy_day):
    overdue = busy_day[2]
    auth.login("demo-command")
    version = version_of(text(client.get("/command/")))
    overdue.status, overdue.updated_at = "done", datetime.now(timezone.utc) + timedelta(seconds=1)
    db.session.commit()
    fresh = client.get(f"/command/live?v={version}", headers=SCREEN)
    assert fresh.status_code == 200 and count_of(text(fresh), "overdue-tasks") == 0
    assert count_of(text(fresh), "tasks-to-review") == 1


def test_idle_refresh_is_one_query(auth, client, station, busy_day):
    auth.login("demo-command")
    version = version_of(text(client.get("/command/")))
    with counted_queries() as statements:
        assert client.get(f"/command/live?v={version}", headers=SCREEN).status_code == 204
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 3, selects  # the session's user (+ grids), then the one version statement


# --- speed --------------------------------------------------------------------------------------------------

def _more_data(station, point, n):
    now = datetime.now(timezone.utc)
    for i in range(n):
        make_check_in(station.officer if i % 2 else station.officer_b, point, now - timedelta(minutes=i + 1),
                      flags="poor_accuracy" if i % 3 == 0 else "")
        factories.make_household(station.station, station.grid_a if i % 2 else station.grid_b,
                                 registered_on=TODAY, address=factories.make_address(
                                     station.station, station.grid_a, lat=35.79 + i / 1000, lon=112.92),
                                 last_inspected_on=TODAY - timedelta(days=200))
        factories.make_task(station.station, station.command, assignee=station.officer, lat=35.8, lon=112.9,
                            due_in_hours=-1 if i % 2 else 5)


def test_screen_query_count_does_not_grow_with_data(auth, client, station, busy_day):
    auth.login("demo-command")
    client.get("/command/")
    with counted_queries() as few:
        assert client.get("/command/").status_code == 200
    _more_data(station, busy_day[0], 12)
    with counted_queries() as many:
        page = client.get("/command/")
    assert page.status_code == 200 and count_of(text(page), "checkins") == 14
    assert len(many) == len(few), (len(few), len(many))


def test_an_open_missing_case_is_counted_mapped_and_in_the_feed(auth, client, station):
    from models.missing import MissingPersonCase

    now = datetime.now(timezone.utc)
    case = MissingPersonCase(station_id=station.station.id, name="李桂英", risk="dementia", last_seen_at=now,
                             last_seen_place="城东菜市场南门", last_seen_lat=35.7991, last_seen_lon=112.9241,
                             status="open", reported_by_id=station.officer.id, created_at=now, updated_at=now,
                             recorded_at=now)
    db.session.add(case)
    db.session.commit()
    auth.login("demo-command")
    page = text(client.get("/command/"))
    assert count_of(page, "missing-open") == 1
    missing = map_layers(client, page)["missing"]
    assert missing["markers"][0]["url"] == f"/missing/{case.id}" and "城东菜市场南门" in missing["markers"][0]["label"]
    assert "李桂英" in page.split('id="activity"')[1].split("</ol>")[0]


def test_visits_are_in_the_feed_union_and_on_the_map_as_before(auth, client, station):
    """Today's visits: feed lines "subject · outcome" (a resident's name, a household's address) with
    the officer and the visit's link, newest recorded first, read by the feed's one UNION ALL; map
    markers "officer · subject" at their position in microdegrees, no one home in red, the link's
    suffix the visit's id (as text); a visit without a position is not mapped, one of yesterday
    neither mapped nor in the feed."""
    from tests.test_visits import make_visit

    now = datetime.now(timezone.utc)
    resident = factories.make_resident(station.station, factories.make_address(station.station, station.grid_a),
                                       name="王秀英")
    household = factories.make_household(station.station, station.grid_a)
    met = make_visit(station.officer, resident, now - timedelta(minutes=20), lat=35.81, lon=112.93)
    away = make_visit(station.officer, resident, now - timedelta(minutes=10), outcome="no_one_home",
                      subject_type="household", resident_id=None, household_id=household.id, lat=35.82, lon=112.94)
    unplaced = make_visit(station.officer, resident, now - timedelta(minutes=5))
    make_visit(station.officer, resident, now - timedelta(days=1), lat=35.83, lon=112.95)
    address = household.address.label
    auth.login("demo-command")
    client.get("/command/")
    with counted_queries() as statements:
        page = text(client.get("/command/"))
    reading_visits = [s for s in statements if re.search(r"FROM visits\b", s)]
    assert reading_visits and all("UNION ALL" in s or s.startswith("SELECT (SELECT") for s in reading_visits)
    feed = page.split('id="activity"')[1].split("</ol>")[0]
    lines = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", line)).strip()
             for line in re.findall(r'<li class="activity-item[^"]*">(.*?)</li>', feed, re.S)]
    lines = [line for line in lines if " 走访 " in line]  # (the household's registration is a line too)
    hhmm = [(now - timedelta(minutes=n)).astimezone(LOCAL_TZ).strftime("%H:%M") for n in (5, 10, 20)]
    assert lines == [f"{hhmm[0]} 走访 王秀英 · 见到本人 · 张伟", f"{hhmm[1]} 走访 {address} · 无人在家 · 张伟",
                     f"{hhmm[2]} 走访 王秀英 · 见到本人 · 张伟"], lines
    assert [link for link in re.findall(r'<a href="([^"]+)"', feed) if link.startswith("/visits/")] == [
        f"/visits/{v.id}" for v in (unplaced, away, met)]
    visits = next(layer for layer in client.get(
        re.search(r'data-layers-url="([^"]+)"', page).group(1).replace("&amp;", "&")).get_json()["overlays"]
        if layer["key"] == "visits")
    assert visits["url"] == "/visits/"
    assert visits["markers"] == [[35820000, 112940000, f"张伟 · {address}", 1, str(away.id)],
                                 [35810000, 112930000, "张伟 · 王秀英", 0, str(met.id)]]
