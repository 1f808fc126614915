"""Deterministic demo data: a station, its grids and people, and each feature's records.

`flask demo seed --scale small|station --seed N`. Each feature adds its own entities through a
seeder listed in FEATURE_SEEDERS ("module:function", called with a DemoContext), so the station
grows to the reference numbers of DESIGN.md as features land.
"""
import random
import time
from dataclasses import dataclass, field
from importlib import import_module

from sqlalchemy import func, select

from extensions import db
from models import Grid, Station, User
from models.users import CASE, COMMAND, COMMUNITY, LEADER

DEMO_PASSWORD = "pingan-demo"
DEMO_USERS = (
    ("demo-officer", "张伟", "100001", COMMUNITY),
    ("demo-command", "李娜", "100002", COMMAND),
    ("demo-case", "王强", "100003", CASE),
    ("demo-leader", "刘洋", "100004", LEADER),
)
GRID_NAMES = ("城东社区", "城西社区", "南街社区", "北关社区", "米山镇", "河西村", "建宁乡", "寺庄镇")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文辉海燕鹏飞晓东红梅丹宇"
SCALES = {
    # grids, community officers (incl. demo-officer), days of history
    "small": {"grids": 4, "officers": 4, "days": 7},
    "station": {"grids": 8, "officers": 15, "days": 365},
}
FEATURE_SEEDERS = ("blueprints.patrol.demo:seed", "blueprints.rentals.demo:seed",
                   "blueprints.tasks.demo:seed", "blueprints.visits.demo:seed", "blueprints.missing.demo:seed")


@dataclass
class DemoContext:
    """What feature seeders build on: the station, its grids and officers, a seeded RNG."""

    station: Station
    grids: list[Grid]
    officers: list[User]
    rng: random.Random
    scale: str
    days: int
    centre: tuple[float, float] = (35.7986, 112.9237)  # Gaoping, Shanxi (WGS-84)
    extra: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)  # seconds per step ("base", each seeder, "commit")


def is_empty() -> bool:
    """True when no station exists yet."""
    return db.session.scalar(select(func.count(Station.id))) == 0


def random_name(rng: random.Random) -> str:
    """A plausible Chinese name (surname + one or two characters)."""
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def seed(scale: str = "small", seed_value: int = 1) -> DemoContext:
    """Create the demo station and every feature's demo records; deterministic for a seed."""
    spec = SCALES[scale]
    started = time.perf_counter()
    rng = random.Random(seed_value)
    station = Station(name="北城派出所", code="BC", phone="0356-5221110")
    db.session.add(station)
    grids = [Grid(station=station, code=f"G{i + 1:02d}", name=GRID_NAMES[i]) for i in range(spec["grids"])]
    db.session.add_all(grids)
    users = []
    for username, name, badge, role in DEMO_USERS:
        user = User(station=station, username=username, name=name, badge_no=badge, role=role, session_version=0)
        users.append(user)
    users[0].grids = grids[:2]
    officers = [users[0]]
    for i in range(spec["officers"] - 1):
        officer = User(station=station, username=f"officer{i + 2:02d}", name=random_name(rng),
                       badge_no=f"1001{i + 2:02d}", role=COMMUNITY, is_auxiliary=i % 3 == 2, session_version=0)
        officer.grids = [grids[(i + 1) % len(grids)]]
        officers.append(officer)
    # One password hash for all demo accounts: hashing is slow on purpose, the seed need not be.
    users[0].set_password(DEMO_PASSWORD)
    for user in users[1:] + officers[1:]:
        user.password_hash, user.session_version = users[0].password_hash, 1
    db.session.add_all(users + officers[1:])
    db.session.flush()
    ctx = DemoContext(station=station, grids=grids, officers=officers, rng=rng, scale=scale, days=spec["days"])
    ctx.timings["base"] = time.perf_counter() - started
    for dotted in FEATURE_SEEDERS:
        started = time.perf_counter()
        module_name, func_name = dotted.split(":")
        getattr(import_module(module_name), func_name)(ctx)
        db.session.flush()
        ctx.timings[dotted] = time.perf_counter() - started
    started = time.perf_counter()
    db.session.commit()
    ctx.timings["commit"] = time.perf_counter() - started
    return ctx
