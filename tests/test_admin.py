"""Leaders manage accounts: create, edit role and grids, reset password, deactivate."""
from sqlalchemy import select

from extensions import db
from models import AuditEvent, User
from tests.factories import PASSWORD


def _new_user_data(station, **overrides):
    data = {"username": "xiaowang", "name": "小王", "badge_no": "200123", "phone": "138 0013 8000",
            "role": "community", "grids": [station.grid_a.id], "password": "first-pass-1"}
    data.update(overrides)
    return data


def test_only_leaders_open_user_admin(auth, client, station):
    """Officers, command room and case team get 403; a leader sees the list."""
    for username in ("demo-officer", "demo-command", "demo-case"):
        auth.login(username)
        response = client.get("/admin/")
        assert response.status_code == 403, username
        assert "无权" in response.get_data(as_text=True)
        auth.logout()
    auth.login("demo-leader")
    page = client.get("/admin/")
    assert page.status_code == 200 and "demo-officer" in page.get_data(as_text=True)


def test_leader_creates_officer_who_can_log_in(app, auth, station):
    """A new account is saved with grids and an E.164 phone, audited, and can log in."""
    auth.login("demo-leader")
    response = auth.post("/admin/users", _new_user_data(station))
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.username == "xiaowang"))
    assert user.phone == "+8613800138000"
    assert user.grid_ids == [station.grid_a.id]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user_created")) is not None
    from tests.conftest import AuthActions

    assert AuthActions(app.test_client()).login("xiaowang", "first-pass-1").status_code == 303


def test_duplicate_username_and_bad_phone_are_422_next_to_field(auth, station):
    auth.login("demo-leader")
    response = auth.post("/admin/users", _new_user_data(station, username="demo-officer"))
    assert response.status_code == 422
    assert "该用户名已被使用" in response.get_data(as_text=True)
    response = auth.post("/admin/users", _new_user_data(station, phone="12345"))
    assert response.status_code == 422
    assert "电话号码无效" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "xiaowang")) is None


def test_overlong_and_missing_fields_are_422(auth, station):
    auth.login("demo-leader")
    response = auth.post("/admin/users", _new_user_data(station, name="长" * 41, password=""))
    assert response.status_code == 422
    assert "字段长度不能超过 40 个字符" in response.get_data(as_text=True)
    response = auth.post("/admin/users", _new_user_data(station, password=""))
    assert response.status_code == 422
    assert "请设置初始密码" in response.get_data(as_text=True)


def test_role_change_logs_the_user_out(app, auth, station):
    """Changing someone's role ends their sessions, so the new rights apply at once."""
    from tests.conftest import AuthActions

    officer_client = app.test_client()
    AuthActions(officer_client).login("demo-officer")
    auth.login("demo-leader")
    data = _new_user_data(station, username="demo-officer", name="张伟", badge_no="100001", role="command",
                          password="")
    response = auth.post(f"/admin/users/{station.officer.id}", data)
    assert response.status_code == 303
    assert officer_client.get("/").status_code == 302


def test_reset_password_and_deactivate(app, auth, station):
    from tests.conftest import AuthActions

    auth.login("demo-leader")
    assert auth.post(f"/admin/users/{station.officer.id}/password", {"password": "brand-new-pass"}).status_code == 303
    assert AuthActions(app.test_client()).login("demo-officer", PASSWORD).status_code == 401
    assert auth.post(f"/admin/users/{station.officer.id}/active").status_code == 303
    db.session.refresh(station.officer)
    assert station.officer.active is False
    assert AuthActions(app.test_client()).login("demo-officer", "brand-new-pass").status_code == 401


def test_leader_cannot_deactivate_self(auth, station):
    auth.login("demo-leader")
    response = auth.post(f"/admin/users/{station.leader.id}/active")
    assert response.status_code == 400
    assert "不能停用自己的账号" in response.get_data(as_text=True)


def test_other_station_user_is_404(auth, station):
    from tests.factories import make_station, make_user

    other = make_user(make_station())
    auth.login("demo-leader")
    assert auth.client.get(f"/admin/users/{other.id}/edit").status_code == 404


def test_cli_creates_first_leader(runner, app):
    """`flask users create` makes the first account of a production install."""
    result = runner.invoke(args=["users", "create", "--role", "leader", "--username", "chief", "--name", "所长",
                                 "--station", "城关派出所", "--password", "long-enough-1"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "chief"))
    assert user.role == "leader" and user.station.name == "城关派出所"


def test_user_list_query_count_does_not_grow_with_users(app, auth, client, station):
    """The leader's list loads every user's grids in one query, not one per row."""
    from tests.conftest import count_queries as count_statements
    from tests.factories import make_user

    def count_queries():
        return count_statements(client, "/admin/")

    auth.login("demo-leader")
    few = count_queries()
    for _ in range(15):
        make_user(station.station, grids=[station.grid_a, station.grid_b])
    assert count_queries() == few


# --- password policy, unlock, audit log -----------------------------------------------------------------

import io  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

import pytest  # noqa: E402
from openpyxl import load_workbook  # noqa: E402

from blueprints.admin.audit_log import PAGE_SIZE  # noqa: E402
from models import audit  # noqa: E402
from models.users import LOCK_AFTER_FAILURES  # noqa: E402


@pytest.mark.parametrize("password, message", [
    ("pass-9", "密码至少需要10个字符"), ("1qaz2wsx3edc", "这个密码太常见"), ("Pingan123456", "这个密码太常见"),
    ("xiaowang-2026", "密码不能包含用户名"),
])
def test_a_new_account_needs_a_strong_password(auth, station, password, message):
    """Weak initial passwords are refused beside the field, and no account is made."""
    auth.login("demo-leader")
    response = auth.post("/admin/users", _new_user_data(station, password=password))
    assert response.status_code == 422
    assert f'<p class="error" id="password-error">{message}' in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "xiaowang")) is None


def test_a_reset_password_follows_the_policy(auth, station):
    """A leader cannot reset to a common password or one holding the user's name."""
    auth.login("demo-leader")
    for weak, message in (("888888888888", "这个密码太常见"), ("demo-officer-1", "密码不能包含用户名")):
        response = auth.post(f"/admin/users/{station.officer.id}/password", {"password": weak})
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.session.refresh(station.officer)
    assert station.officer.check_password(PASSWORD)


def _lock(user):
    user.failed_logins, user.locked_at = LOCK_AFTER_FAILURES, datetime.now(timezone.utc)
    db.session.commit()


def test_leader_unlocks_a_locked_account_on_its_page(app, auth, client, station):
    """The list and the user's page say locked; unlock is audited and the user can log in again."""
    from tests.conftest import AuthActions

    _lock(station.officer)
    auth.login("demo-leader")
    assert "已锁定" in client.get("/admin/").get_data(as_text=True)
    page = client.get(f"/admin/users/{station.officer.id}/edit").get_data(as_text=True)
    assert 'id="account-locked"' in page and "解锁账号" in page
    response = auth.post(f"/admin/users/{station.officer.id}/unlock")
    assert response.status_code == 303
    db.session.refresh(station.officer)
    assert not station.officer.is_locked and station.officer.failed_logins == 0
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "account_unlocked")).one()
    assert (event.user_id, event.object_id) == (station.leader.id, station.officer.id)
    assert AuthActions(app.test_client()).login("demo-officer", PASSWORD).status_code == 303
    assert 'id="account-locked"' not in client.get(f"/admin/users/{station.officer.id}/edit").get_data(as_text=True)


def test_only_a_leader_of_the_station_unlocks(auth, station):
    from tests.factories import make_station, make_user

    _lock(station.officer)
    auth.login("demo-command")
    assert auth.post(f"/admin/users/{station.officer.id}/unlock").status_code == 403
    auth.logout()
    other = make_user(make_station())
    _lock(other)
    auth.login("demo-leader")
    assert auth.post(f"/admin/users/{other.id}/unlock").status_code == 404
    db.session.refresh(station.officer)
    db.session.refresh(other)
    assert station.officer.is_locked and other.is_locked


def _event(action, user, when, obj=None, station_id=None, **detail):
    event = audit(action, obj, user=user, station_id=station_id, **detail)
    event.created_at = when
    return event


@pytest.fixture
def events(station):
    """Audit events of station A over three days (and one of another station)."""
    from tests.factories import make_station, make_user

    from blueprints.home.services import LOCAL_TZ

    now = datetime.now(timezone.utc).replace(microsecond=0)
    # The local day's filters: keep the three events on three local days, also just after midnight.
    midnight = datetime.now(LOCAL_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    now = max(now, (midnight + timedelta(minutes=10)).astimezone(timezone.utc))
    other = make_user(make_station(), username="elsewhere")
    rows = {
        "old_login": _event("login", station.officer, now - timedelta(days=2)),
        "reveal": _event("reveal_id", station.officer, now - timedelta(days=1), obj=station.officer_b),
        "export": _event("export", station.command, now - timedelta(minutes=5), what="residents", rows=3),
        "foreign": _event("reveal_id", other, now - timedelta(minutes=4)),
    }
    rows["reveal"].reason = "核查身份"
    db.session.commit()
    return rows


def _ids(page: str) -> list[int]:
    import re

    return [int(n) for n in re.findall(r'id="audit-(\d+)"', page)]


def test_audit_log_newest_first_of_this_station_only(auth, client, station, events):
    auth.login("demo-leader")
    page = client.get("/admin/audit").get_data(as_text=True)
    ids = _ids(page)
    expected = [events[k].id for k in ("export", "reveal", "old_login")]
    assert [i for i in ids if i in expected] == expected, "newest first"
    assert events["foreign"].id not in ids, "another station's events are not shown"
    assert "查看完整证件号码" in page and "核查身份" in page and "what=residents" in page


@pytest.mark.parametrize("args, keys", [
    ("action=reveal_id", ["reveal"]),
    ("user={officer}", ["reveal", "old_login"]),
    ("object_type=User&action=reveal_id", ["reveal"]),
    ("start={yesterday}&end={yesterday}", ["reveal"]),
    ("start={two_days_ago}&end={yesterday}", ["reveal", "old_login"]),
])
def test_audit_log_filters(auth, client, station, events, args, keys):
    from blueprints.home.services import LOCAL_TZ

    local = lambda key: events[key].created_at.astimezone(LOCAL_TZ).date().isoformat()  # noqa: E731
    query = args.format(officer=station.officer.id, yesterday=local("reveal"), two_days_ago=local("old_login"))
    auth.login("demo-leader")
    ids = _ids(client.get(f"/admin/audit?{query}").get_data(as_text=True))
    assert [i for i in ids if i in {e.id for e in events.values()}] == [events[k].id for k in keys]


def test_audit_log_refuses_a_backwards_range_and_unknown_choices(auth, client, station, events):
    auth.login("demo-leader")
    response = client.get("/admin/audit?start=2026-11-10&end=2026-11-01")
    assert response.status_code == 422 and "截止日期早于起始日期" in response.get_data(as_text=True)
    assert client.get("/admin/audit?action=drop_tables").status_code == 422
    assert client.get("/admin/audit?start=not-a-date").status_code == 422
    assert client.get("/admin/audit.xlsx?user=999999").status_code == 422


def test_audit_log_is_paged(auth, client, station):
    now = datetime.now(timezone.utc)
    for n in range(PAGE_SIZE + 3):
        _event("login", station.officer, now - timedelta(minutes=n))
    db.session.commit()
    auth.login("demo-leader")  # its own login event is the newest
    first = client.get("/admin/audit?action=login").get_data(as_text=True)
    assert len(_ids(first)) == PAGE_SIZE and 'page=2' in first
    second = client.get("/admin/audit?action=login&page=2").get_data(as_text=True)
    assert len(_ids(second)) == 4 and not set(_ids(first)) & set(_ids(second))
    assert client.get("/admin/audit?page=99999999999999999999").status_code == 200


def test_audit_export_follows_the_filters_and_is_audited(auth, client, station, events):
    auth.login("demo-leader")
    response = client.get(f"/admin/audit.xlsx?user={station.officer.id}")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "时间" and [r[4] for r in rows[1:]] == ["reveal_id", "login"]
    assert rows[1][7] == "核查身份" and rows[1][1] == station.officer.name
    export = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export",
                                                         AuditEvent.user_id == station.leader.id)).one()
    assert export.detail["report"] == "audit_log" and export.detail["rows"] == 2
    assert export.detail["filters"] == {"user": station.officer.id}


def test_audit_log_query_count_does_not_grow_with_events(auth, client, station):
    from tests.conftest import count_queries

    def queries(url):
        return count_queries(client, url)

    auth.login("demo-leader")
    now = datetime.now(timezone.utc)
    _event("login", station.officer, now)
    db.session.commit()
    few = queries("/admin/audit"), queries("/admin/audit.xlsx")
    users = [station.officer, station.officer_b, station.case, station.command]
    for n in range(40):
        _event("reveal_id", users[n % 4], now - timedelta(minutes=n), obj=station.officer)
    db.session.commit()
    assert (queries("/admin/audit"), queries("/admin/audit.xlsx")) == few


def test_cli_refuses_a_weak_password(runner, app):
    """The command line applies the same password policy as the forms."""
    result = runner.invoke(args=["users", "create", "--role", "leader", "--username", "chief2", "--name", "所长",
                                 "--station", "城关派出所", "--password", "123456"])
    assert result.exit_code != 0 and "password" in result.output
    assert db.session.scalar(select(User).where(User.username == "chief2")) is None
