"""Role homes, navigation, health check, error pages, headers."""
from tests.factories import PASSWORD


def test_each_role_lands_on_its_home(auth, client, station):
    """The officer gets quick actions; command room and leader get the station dashboard."""
    auth.login("demo-officer")
    assert "我的签到" in client.get("/").get_data(as_text=True)
    auth.logout()
    for username in ("demo-command", "demo-leader"):
        auth.login(username)
        body = client.get("/").get_data(as_text=True)
        assert "异常签到" in body and station.station.name in body, username
        auth.logout()


def test_only_leader_sees_users_in_navigation(auth, client, station):
    auth.login("demo-leader")
    assert 'href="/admin/"' in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login("demo-command")
    assert 'href="/admin/"' not in client.get("/").get_data(as_text=True)


def test_anonymous_home_redirects_to_login(client, station):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/login")


def test_healthz_round_trips_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


def test_healthz_is_503_when_database_is_down(app, client, monkeypatch):
    """A database that does not answer turns /healthz into a 503, not a 500."""
    from sqlalchemy.exc import OperationalError

    from extensions import db

    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_404_page_is_in_chinese_and_english(client, auth, station):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "该页面或记录不存在" in response.get_data(as_text=True)
    client.set_cookie("lang", "en")
    assert "This page or record does not exist" in client.get("/no-such-page").get_data(as_text=True)


def test_htmx_error_becomes_a_toast(auth, client, station):
    """An htmx request that hits a 403 gets a toast retargeted to #toasts, not a blank swap."""
    auth.login("demo-officer")
    response = client.get("/admin/", headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert response.headers["HX-Retarget"] == "#toasts"
    assert 'class="toast' in response.get_data(as_text=True)


def test_security_headers(client):
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Permissions-Policy"].startswith("geolocation=(self), camera=(self)")
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in response.headers["Vary"]


def test_pages_have_no_inline_script(auth, client, station):
    """The CSP forbids inline script, so no page may rely on one (JSON data blocks are fine)."""
    import re

    auth.login("demo-leader")
    for url in ("/", "/me", "/admin/", "/auth/password"):
        body = client.get(url).get_data(as_text=True)
        for tag in re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", body):
            raise AssertionError(f"inline script on {url}: {tag}")
        assert ' style="' not in body, url
        assert '="None"' not in body, f"an attribute rendered Python's None on {url}"


def test_session_cookie_flags(auth, station):
    response = auth.login("demo-officer", PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_refuses_default_secret():
    import pytest

    from app import create_app

    with pytest.raises(RuntimeError):
        create_app({"PRODUCTION": True, "SECRET_KEY": "dev-only-change-me", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_never_seeds(tmp_path):
    from app import create_app

    app = create_app({"PRODUCTION": True, "SECRET_KEY": "x" * 40, "DEMO": True,
                      "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "p.db")})
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code != 0 and "disabled" in result.output


def test_unexpected_error_is_a_500_page_in_the_users_language(auth, client, station, monkeypatch):
    """A bug in a view answers a friendly 500 page (and a toast for htmx), never a stack trace."""
    from blueprints.home import services

    def broken(user):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "officer_summary", broken)
    auth.login("demo-officer")
    response = client.get("/")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "服务器出错" in body and "boom" not in body
    htmx = client.get("/", headers={"HX-Request": "true"})
    assert htmx.status_code == 500 and htmx.headers["HX-Retarget"] == "#toasts"
