"""The installable app: manifest, service worker script and version, precache list, offline pages."""
from blueprints.sync import records
from tests.test_sync_api import NoteForm, record_note


def test_manifest_is_installable(client):
    """Name, standalone display, theme, start URL and 192/512 px icons (one maskable)."""
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    data = response.get_json()
    assert data["display"] == "standalone" and data["start_url"] == "/" and data["theme_color"]
    assert data["short_name"] == "平安"
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any(icon.get("purpose") == "maskable" for icon in data["icons"])
    for icon in data["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_service_worker_is_served_from_the_root_with_its_version(client):
    """/sw.js: JavaScript, revalidated on every check, scope /, the placeholder replaced by a hash."""
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/"
    source = response.get_data(as_text=True)
    assert "__PINGAN_VERSION__" not in source
    assert 'var VERSION = "' in source and "/api/" in source


def test_a_new_app_version_changes_the_worker_bytes(app, client):
    """Browsers update a worker only when its bytes change: APP_VERSION (or any static file) does it."""
    before = client.get("/sw.js").get_data()
    app.config["APP_VERSION"] = "next"
    try:
        after = client.get("/sw.js").get_data()
    finally:
        app.config.pop("APP_VERSION")
    assert before != after
    assert client.get("/sw.js").get_data() == before, "stable while nothing changes"


def test_precache_list_for_an_officer(auth, client, station):
    """The shell (static files, /offline) and the officer's pages, with the user id for the worker."""
    auth.login()
    data = client.get("/precache.json").get_json()
    assert data["user"] == str(station.officer.id)
    assert {"/static/js/outbox.js", "/static/js/outbox-core.js", "/static/css/app.css",
            "/static/vendor/idb-8.0.4.umd.js", "/offline"} <= set(data["shell"])
    assert "/static/sw.js" not in data["shell"] and not any(u.startswith("/api/") for u in data["shell"])
    assert "/" in data["pages"] and "/outbox" in data["pages"]
    assert "/patrol/check-in" in data["pages"], "the check-in kind registered its page"
    assert not any(u.startswith("/api/") for u in data["pages"])
    for url in data["shell"]:
        assert client.get(url).status_code == 200, url


def test_precache_list_without_a_session_has_no_pages(client):
    """Before login: the shell only."""
    data = client.get("/precache.json").get_json()
    assert data["user"] is None and data["pages"] == [] and "/offline" in data["shell"]


def test_a_registered_kind_page_is_listed_once(auth, client, station):
    """A kind naming a page adds it (a page shared by two kinds is listed once)."""
    records.register("note", NoteForm, record_note, page="home.account")
    records.register("note2", NoteForm, record_note, page="home.account")
    try:
        auth.login()
        pages = client.get("/precache.json").get_json()["pages"]
    finally:
        records.KINDS.pop("note")
        records.KINDS.pop("note2")
    assert pages.count("/me") == 1


def test_offline_page_and_outbox_page(auth, client, station):
    """/offline renders for anyone; /outbox needs a session and starts in the 'unknown' state."""
    offline = client.get("/offline")
    assert offline.status_code == 200 and "无网络连接" in offline.get_data(as_text=True)
    assert client.get("/outbox").status_code in (302, 303)
    auth.login()
    page = client.get("/outbox").get_data(as_text=True)
    assert 'id="outbox-page" data-state="unknown"' in page
    assert "js/outbox-page.js" in page and "js/outbox-core.js" in page


def test_pages_carry_the_user_and_the_badge_starts_unknown(auth, client, station):
    """outbox.js reads the user id from the page and fills the badge from IndexedDB."""
    auth.login()
    home = client.get("/").get_data(as_text=True)
    assert f'<meta name="pingan-user" content="{station.officer.id}">' in home
    assert 'id="outbox-badge"' in home and 'data-state="unknown"' in home


def test_api_responses_are_never_stored(auth, client, station):
    """The sync API answers with no-store (and the worker never caches /api/*)."""
    auth.login()
    response = client.post("/api/sync", json={"device_id": "d", "items": []},
                           headers={"X-Requested-With": "pingan-sync"})
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/api/openapi.json").headers["Cache-Control"] == "no-cache"
