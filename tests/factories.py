"""Plain factory functions (CTFd style): make_x(**overrides) returns a saved object."""
from types import SimpleNamespace

from werkzeug.security import generate_password_hash

from extensions import db
from models import Grid, Station, User
from models.users import CASE, COMMAND, COMMUNITY, LEADER

PASSWORD = "correct-horse-9"
# Hashing is slow on purpose; tests share one hash of the test password.
_HASH = generate_password_hash(PASSWORD)
_counter = {"n": 0}


def _next() -> int:
    _counter["n"] += 1
    return _counter["n"]


def make_station(**overrides) -> Station:
    n = _next()
    station = Station(**{"name": f"测试派出所{n}", "code": f"T{n}", **overrides})
    db.session.add(station)
    db.session.commit()
    return station


def make_grid(station: Station, **overrides) -> Grid:
    n = _next()
    grid = Grid(**{"station_id": station.id, "code": f"G{n}", "name": f"网格{n}", **overrides})
    db.session.add(grid)
    db.session.commit()
    return grid


def make_user(station: Station, role: str = COMMUNITY, grids=(), **overrides) -> User:
    n = _next()
    fields = {"username": f"user{n}", "name": f"警员{n}", "badge_no": f"9{n:05d}", "role": role,
              "station_id": station.id, "password_hash": _HASH, "session_version": 1, "active": True}
    fields.update(overrides)
    user = User(**fields)
    user.grids = list(grids)
    db.session.add(user)
    db.session.commit()
    return user


def make_station_with_staff() -> SimpleNamespace:
    """A station, grids A and B, officers of each grid, and the other roles; usernames are fixed."""
    station = make_station()
    grid_a, grid_b = make_grid(station, name="城东社区"), make_grid(station, name="城西社区")
    return SimpleNamespace(
        station=station, grid_a=grid_a, grid_b=grid_b,
        officer=make_user(station, COMMUNITY, [grid_a], username="demo-officer", name="张伟", badge_no="100001"),
        officer_b=make_user(station, COMMUNITY, [grid_b], username="officer-b", name="赵敏"),
        command=make_user(station, COMMAND, username="demo-command", name="李娜"),
        case=make_user(station, CASE, username="demo-case", name="王强"),
        leader=make_user(station, LEADER, username="demo-leader", name="刘洋"),
    )
