"""Logging in and out, sessions, rate limits, CSRF."""
from sqlalchemy import select

from extensions import db
from models import AuditEvent, User
from tests.conftest import csrf_from
from tests.factories import PASSWORD


def test_login_page_is_chinese_by_default(client):
    """A first visit shows the Chinese login form."""
    page = client.get("/auth/login")
    assert page.status_code == 200
    assert "用户名或警号" in page.get_data(as_text=True)


def test_login_by_username_lands_on_home(auth, client, station):
    """A community officer logs in with the username and lands on the phone home."""
    response = auth.login("demo-officer", PASSWORD)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    home = client.get("/")
    assert "我的签到" in home.get_data(as_text=True)


def test_login_by_badge_number(auth, station):
    """The badge number (警号) works in place of the username."""
    assert auth.login("100001", PASSWORD).status_code == 303


def test_wrong_password_is_401_with_message_and_audited(auth, station):
    """A wrong password answers 401 with a clear message; the failure is audited."""
    response = auth.login("demo-officer", "nope-nope")
    assert response.status_code == 401
    assert "用户名、警号或密码错误" in response.get_data(as_text=True)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "login_failed" in actions


def test_unknown_user_gets_the_same_message(auth, station):
    """An unknown username does not reveal that it does not exist."""
    response = auth.login("nobody", "whatever1")
    assert response.status_code == 401
    assert "用户名、警号或密码错误" in response.get_data(as_text=True)


def test_deactivated_user_cannot_log_in(auth, station):
    """A deactivated account is told so."""
    station.officer.active = False
    db.session.commit()
    response = auth.login("demo-officer", PASSWORD)
    assert response.status_code == 401
    assert "账号已停用" in response.get_data(as_text=True)


def test_empty_and_too_long_fields_are_422(auth, client, station):
    """Missing or overlong input is refused next to the field, not with a 500."""
    token = csrf_from(client.get("/auth/login"))
    response = client.post("/auth/login", data={"login": "", "password": "", "csrf_token": token})
    assert response.status_code == 422
    response = client.post("/auth/login", data={"login": "x" * 41, "password": "y", "csrf_token": token})
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)


def test_missing_csrf_token_is_400_with_message(client, station):
    """A form without its CSRF token is refused with a message saying to reload."""
    response = client.post("/auth/login", data={"login": "demo-officer", "password": PASSWORD})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)


def test_login_is_rate_limited_per_account(auth, station):
    """After the limit (5/min in tests) further attempts are 429 with a message."""
    for _ in range(5):
        auth.login("demo-officer", "bad-password")
    response = auth.login("demo-officer", "bad-password")
    assert response.status_code == 429
    assert "尝试次数过多" in response.get_data(as_text=True)


def test_logout_ends_session_and_is_audited(auth, client, station):
    """After logging out, the home page redirects to login."""
    auth.login()
    response = auth.logout()
    assert response.status_code == 303
    assert client.get("/").status_code == 302
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "logout")) is not None


def test_password_change_revokes_other_sessions(app, station):
    """Changing the password logs the user out on every other device."""
    from tests.conftest import AuthActions

    phone, desktop = app.test_client(), app.test_client()
    AuthActions(phone).login()
    desktop_auth = AuthActions(desktop)
    desktop_auth.login()
    response = desktop_auth.post("/auth/password", {"current": PASSWORD, "new": "new-password-1",
                                                    "repeat": "new-password-1"})
    assert response.status_code == 303
    assert desktop.get("/").status_code == 200, "the device that changed it stays logged in"
    assert phone.get("/").status_code == 302, "the other device is logged out"


def test_password_change_with_wrong_current_password_is_422(auth, station):
    auth.login()
    response = auth.post("/auth/password", {"current": "wrong-one", "new": "new-password-1",
                                            "repeat": "new-password-1"})
    assert response.status_code == 422
    assert "当前密码错误" in response.get_data(as_text=True)


def test_deactivation_ends_existing_session(auth, client, station):
    """A session dies the moment its account is deactivated (server-side revocation)."""
    auth.login()
    assert client.get("/").status_code == 200
    user = db.session.scalar(select(User).where(User.username == "demo-officer"))
    user.active = False
    user.session_version += 1
    db.session.commit()
    assert client.get("/").status_code == 302


def test_session_survives_ip_change(auth, client, station):
    """Switching from Wi-Fi to 4G (a new IP) does not log the officer out ("basic" protection)."""
    auth.login(environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert client.get("/", environ_base={"REMOTE_ADDR": "100.64.3.9"}).status_code == 200


def test_htmx_request_without_session_gets_hx_redirect(client, station):
    """htmx gets HX-Redirect to the login page instead of a login page swapped into a div."""
    response = client.get("/me", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/auth/login"


def test_json_request_without_session_gets_401_json(client, station):
    response = client.get("/me", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthenticated"


def test_english_is_selectable_and_remembered(auth, client, station):
    """Choosing English switches the UI and is kept on the account."""
    auth.login()
    response = auth.post("/auth/language", {"lang": "en", "next": "/"})
    assert response.status_code == 303
    assert "My check-ins" in client.get("/").get_data(as_text=True)
    assert db.session.scalar(select(User.locale).where(User.username == "demo-officer")) == "en"
