"""Logging in and out, sessions, rate limits, CSRF."""
from datetime import datetime, timezone

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


# --- login hardening: session rotation, lockout, password policy ------------------------------------

import pytest  # noqa: E402

from extensions import limiter  # noqa: E402
from models.users import LOCK_AFTER_FAILURES  # noqa: E402
from tests.conftest import AuthActions  # noqa: E402

LOCKED = "该账号因连续登录失败次数过多已被锁定"
WRONG = "用户名、警号或密码错误"


@pytest.fixture
def no_rate_limit():
    """Lockout is about the account, not the rate limit: switch the limiter off for these tests."""
    limiter.enabled = False
    yield
    limiter.enabled = True


def _session_cookie(client) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def test_login_rotates_the_session_and_the_old_cookie_does_not_authenticate(app, client, station):
    """Login starts a new session (session.clear()): the cookie changes, the anonymous cookie stays
    anonymous, a value planted before login and the pre-login CSRF token are gone."""
    token_before = csrf_from(client.get("/auth/login"))
    with client.session_transaction() as session:
        session["planted"] = "attacker"
    cookie_before = _session_cookie(client)
    response = client.post("/auth/login", data={"login": "demo-officer", "password": PASSWORD,
                                                "csrf_token": token_before})
    assert response.status_code == 303
    cookie_after = _session_cookie(client)
    assert cookie_before and cookie_after and cookie_after != cookie_before
    with client.session_transaction() as session:
        assert "planted" not in session and session["_user_id"].startswith(f"{station.officer.id}:")
    old = app.test_client()
    old.set_cookie("session", cookie_before)
    assert old.get("/").status_code == 302, "the pre-login cookie does not log anyone in"
    assert client.post("/auth/logout", data={"csrf_token": token_before}).status_code == 400, \
        "the pre-login CSRF token is refused after login"
    assert client.get("/").status_code == 200


def test_ten_wrong_passwords_lock_the_account_and_audit_it(no_rate_limit, auth, station):
    """Nine failures answer 'wrong password'; the tenth locks the account (AuditEvent account_locked)."""
    for attempt in range(1, LOCK_AFTER_FAILURES):
        response = auth.login("demo-officer", f"wrong-password-{attempt}")
        assert response.status_code == 401 and WRONG in response.get_data(as_text=True)
    db.session.refresh(station.officer)
    assert station.officer.failed_logins == LOCK_AFTER_FAILURES - 1 and not station.officer.is_locked
    response = auth.login("demo-officer", "wrong-password-10")
    assert response.status_code == 401 and LOCKED in response.get_data(as_text=True)
    db.session.refresh(station.officer)
    assert station.officer.is_locked
    locked = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "account_locked")).one()
    assert (locked.object_type, locked.object_id) == ("User", station.officer.id)


def test_a_locked_account_gets_the_same_message_with_the_right_password(no_rate_limit, auth, client, station):
    """Once locked, the right password does not log in and the answer does not tell it was right."""
    station.officer.failed_logins, station.officer.locked_at = LOCK_AFTER_FAILURES, datetime.now(timezone.utc)
    db.session.commit()
    right = auth.login("demo-officer", PASSWORD)
    wrong = auth.login("demo-officer", "not-the-password")
    assert right.status_code == wrong.status_code == 401
    assert LOCKED in right.get_data(as_text=True)
    assert _error_text(right) == _error_text(wrong)
    assert client.get("/").status_code == 302
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "login")).all() == []


def _error_text(response) -> str:
    import re

    return re.search(r'<div class="form-errors"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S).group(1)


def test_a_successful_login_resets_the_counter(no_rate_limit, auth, station):
    """Failures must be consecutive: a good login in between starts the count again."""
    for _ in range(LOCK_AFTER_FAILURES - 1):
        auth.login("demo-officer", "wrong-password")
    assert auth.login("demo-officer", PASSWORD).status_code == 303
    db.session.refresh(station.officer)
    assert station.officer.failed_logins == 0
    AuthActions(auth.client).logout()
    for _ in range(LOCK_AFTER_FAILURES - 1):
        auth.login("demo-officer", "wrong-password")
    db.session.refresh(station.officer)
    assert not station.officer.is_locked


def test_a_deactivated_and_locked_account_says_locked(no_rate_limit, auth, station):
    station.officer.active, station.officer.locked_at = False, datetime.now(timezone.utc)
    db.session.commit()
    assert LOCKED in auth.login("demo-officer", PASSWORD).get_data(as_text=True)


@pytest.mark.parametrize("new, message", [
    ("short-9", "密码至少需要10个字符"),
    ("woaini1314", "这个密码太常见"),
    ("QQ123456789", "这个密码太常见"),
    ("i-am-demo-officer", "密码不能包含用户名"),
])
def test_a_weak_new_password_is_refused_beside_the_field(auth, station, new, message):
    """The policy's message sits beside the new-password field; the password is unchanged."""
    auth.login()
    response = auth.post("/auth/password", {"current": PASSWORD, "new": new, "repeat": new})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<p class="error" id="new-error">{message}' in page
    db.session.refresh(station.officer)
    assert station.officer.check_password(PASSWORD)


def test_the_password_page_states_the_policy(auth, client, station):
    auth.login()
    page = client.get("/auth/password").get_data(as_text=True)
    assert "至少10个字符；不能是常见密码，也不能包含用户名。" in page and "至少 8 个字符" not in page
