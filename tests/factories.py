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


# --- ledger (residents and rentals) ---------------------------------------------------------------

def id_number(seq: int = 123, birth: str = "19800101", region: str = "140581") -> str:
    """A valid resident ID number (GB 11643 check character computed)."""
    from domain.idcard import check_char

    first17 = f"{region}{birth}{seq % 1000:03d}"
    return first17 + check_char(first17)


def make_address(station, grid=None, **overrides):
    from models import Address
    from models.places import address_search_text

    n = _next()
    fields = {"station_id": station.id, "grid_id": grid.id if grid else None, "community": "城东社区",
              "street": f"解放路{n}号", "building": "1号楼", "unit": "1单元", "room": "101"}
    fields.update(overrides)
    fields.setdefault("search", address_search_text(fields["community"], fields["street"], fields["building"],
                                                    fields["unit"], fields["room"]))
    address = Address(**fields)
    db.session.add(address)
    db.session.commit()
    return address


def make_resident(station, address=None, name="王小明", **overrides):
    from blueprints.residents.people import resident_search_text
    from domain.idcard import parse
    from models import Resident

    number = overrides.pop("doc_number", None) or id_number(_next())
    info = parse(number)
    phone = overrides.pop("phone", None)
    resident = Resident(station_id=station.id, name=name, doc_type="resident", doc_number=info.number,
                        birth_date=info.birth_date, sex=info.sex, phone=phone,
                        address_id=address.id if address else None, category="permanent", tags=" ",
                        search=resident_search_text(name, info.number, phone), **overrides)
    db.session.add(resident)
    db.session.commit()
    return resident


def make_household(station, grid, *, landlord=None, officer=None, **overrides):
    from datetime import date

    from models import RentalHousehold

    address = overrides.pop("address", None) or make_address(station, grid)
    fields = {"station_id": station.id, "address_id": address.id, "grid_id": grid.id,
              "landlord_id": landlord.id if landlord else None, "officer_id": officer.id if officer else None,
              "rooms": 2, "use": "residential", "lease_start": date(2026, 1, 1), "lease_end": date(2027, 1, 1),
              "registered_on": date.today()}
    fields.update(overrides)
    household = RentalHousehold(**fields)
    db.session.add(household)
    db.session.commit()
    return household


# --- tasks -------------------------------------------------------------------------------------------

def make_task(station, created_by, *, assignee=None, grid=None, status="assigned", due_in_hours=24, **overrides):
    """A stored task (for an officer or a grid) with its 'created' step on the timeline."""
    from datetime import datetime, timedelta, timezone

    from models.tasks import Task, TaskEvent

    now = datetime.now(timezone.utc)
    fields = {"station_id": station.id, "kind": "visit", "text": "走访独居老人王大爷", "place": "解放路12号",
              "due_at": now + timedelta(hours=due_in_hours), "assignee_id": assignee.id if assignee else None,
              "grid_id": grid.id if grid else None, "created_by_id": created_by.id, "status": status,
              "created_at": now, "updated_at": now}
    fields.update(overrides)
    task = Task(**fields)
    db.session.add(task)
    db.session.flush()
    db.session.add(TaskEvent(task_id=task.id, station_id=station.id, user_id=created_by.id, action="created",
                             recorded_at=now, created_at=now))
    db.session.commit()
    return task


# --- missing persons ---------------------------------------------------------------------------------

def make_profile(station, resident, **overrides):
    """A vulnerable-person profile for a resident (tagged 走失风险)."""
    from models.missing import VulnerableProfile

    resident.tags = " wander_risk "
    fields = {"station_id": station.id, "resident_id": resident.id, "risk": "dementia", "height_cm": 155,
              "description": "白发，驼背，说话慢", "routines": "每天早上去城东菜市场", "places_found": []}
    fields.update(overrides)
    profile = VulnerableProfile(**fields)
    db.session.add(profile)
    db.session.commit()
    return profile


def make_missing_case(station, reported_by, *, status="open", minutes_ago=30, **overrides):
    """A stored case with its 'reported' step; bumps the station's alert version like the service."""
    from datetime import datetime, timedelta, timezone

    from blueprints.missing import alerts
    from models.missing import CaseEvent, MissingPersonCase

    now = datetime.now(timezone.utc)
    fields = {"station_id": station.id, "name": "李秀英", "sex": "female", "age": 78, "risk": "dementia",
              "clothing": "蓝色外套，黑裤子", "last_seen_at": now - timedelta(minutes=minutes_ago),
              "last_seen_place": "城东菜市场", "last_seen_lat": 35.7986, "last_seen_lon": 112.9237,
              "status": status, "reported_by_id": reported_by.id, "created_at": now, "updated_at": now}
    if status != "open":
        fields.update(closed_at=now, closed_by_id=reported_by.id)
    fields.update(overrides)
    case = MissingPersonCase(**fields)
    db.session.add(case)
    db.session.flush()
    db.session.add(CaseEvent(case_id=case.id, station_id=station.id, user_id=reported_by.id, action="reported",
                             created_at=now))
    alerts.bump(station.id)
    db.session.commit()
    return case
