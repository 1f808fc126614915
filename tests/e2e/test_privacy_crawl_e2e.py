"""A community officer's phone browser crawls every page reachable from home: no full document
number and no full phone number in any HTML (after htmx has loaded the page's fragments), and none in
the server's log (request lines included) while it crawls."""
import logging

from tests.e2e.conftest import PHONE, login, new_page
from tests.test_access_matrix import build_world
from tests.test_privacy import KNOWN_EDIT_FORM, MAX_PAGES, find_full_numbers, fixture_numbers, links_of, \
    same_origin_path


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


def test_officer_crawl_shows_no_full_number_and_logs_none(live_server, browser, app, station):
    world = build_world(station)
    numbers, phones = fixture_numbers()
    handler, root, werkzeug = _Collect(), logging.getLogger(), logging.getLogger("werkzeug")
    levels = root.level, werkzeug.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    werkzeug.setLevel(logging.INFO)  # the access log: a number in a URL would show here
    page, context = new_page(browser, live_server, PHONE)
    try:
        login(page, "demo-officer", None)
        seen, queue, leaks, visited = {"/"}, ["/"], {}, []
        while queue and len(visited) < MAX_PAGES:
            path = queue.pop(0)
            response = page.goto(path)
            if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
                continue
            page.wait_for_load_state("networkidle")  # lazy fragments (hx-trigger="load") are in
            html = page.content()
            visited.append(path)
            found = find_full_numbers(html, numbers, phones)
            if found and not KNOWN_EDIT_FORM.match(path):
                leaks[path] = found
            for href in links_of(html):
                target = same_origin_path(live_server.url + path, href)
                if target and target not in seen:
                    seen.add(target)
                    queue.append(target)
    finally:
        context.close()
        root.removeHandler(handler)
        root.setLevel(levels[0])
        werkzeug.setLevel(levels[1])
    assert len(visited) >= 20, visited
    assert f"/residents/{world.own.resident.id}" in visited and f"/rentals/{world.own.household.id}" in visited
    assert leaks == {}
    assert any("GET /residents/" in line for line in handler.lines), "the request log was captured"
    assert find_full_numbers("\n".join(handler.lines), numbers, phones) == []
