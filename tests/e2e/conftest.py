"""Browser fixtures: the app served on 127.0.0.1 in a thread, and Debian's headless Chromium.

Skipped (with a message saying so) when /usr/bin/chromium or Playwright is missing; `.ci/run`
installs both, so CI always runs them.
"""
import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 768}}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


class LiveServer:
    """The test app served by Werkzeug in a background thread, with a switch to refuse sync."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()


@pytest.fixture(scope="session")
def _browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests skipped: playwright is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def _live_server(_session_app):
    server = LiveServer(_session_app).start()
    yield server
    server.stop()


@pytest.fixture
def live_server(app, _live_server):
    """The running server; tables are emptied after each test by the `app` fixture."""
    app.config["SYNC_REFUSE"] = False
    yield _live_server
    app.config["SYNC_REFUSE"] = False


@pytest.fixture
def browser(_browser):
    return _browser


def new_page(browser, live_server, device=PHONE, **options):
    """A page in a fresh context (Chinese locale, service workers allowed) and its context."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", service_workers="allow",
                                  timezone_id="Asia/Shanghai", **device, **options)
    context.set_default_timeout(10_000)
    return context.new_page(), context


def login(page, username, password):
    """Log in through the real form."""
    from tests.factories import PASSWORD

    page.goto("/auth/login")
    page.fill("#login", username)
    page.fill("#password", password or PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/auth/login" not in url)
