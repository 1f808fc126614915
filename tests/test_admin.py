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
    from sqlalchemy import event

    from tests.factories import make_user

    def count_queries():
        statements = []

        def listener(*args):
            statements.append(args[2])

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/admin/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    auth.login("demo-leader")
    few = count_queries()
    for _ in range(15):
        make_user(station.station, grids=[station.grid_a, station.grid_b])
    assert count_queries() == few
