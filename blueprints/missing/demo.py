"""Demo missing-person data: profiles for residents tagged 走失风险 and a year of closed cases.

About 40 closed cases a year at station scale (fewer at small scale), most of them repeat episodes of
a few profiles who are found again and again near the same places. No case is left open, so the
demo's banner stays quiet until someone reports one.
"""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from blueprints.missing import alerts
from extensions import db
from models import Resident
from models.missing import FOUND, CANCELLED, CaseEvent, MissingPersonCase, VulnerableProfile

SIZES = {"small": {"profiles": 3, "cases": 6, "days": 90}, "station": {"profiles": 8, "cases": 40, "days": 365}}
PLACES = ("城东菜市场", "人民公园东门", "老汽车站", "南街十字路口", "河西村口小卖部", "米山镇卫生院", "北关桥头",
          "建宁乡集市", "丹河大桥下", "寺庄镇粮站")
CLOTHES = ("蓝色外套，黑裤子，布鞋", "灰色毛衣，戴毛线帽", "红色羽绒服，拄拐杖", "黑色棉袄，蓝色裤子",
           "校服，背红色书包", "白色衬衣，深色裤子")
ROUTINES = ("每天早上七点去城东菜市场买菜，常想回老汽车站附近的旧居。",
            "午饭后在人民公园东门晒太阳，傍晚沿南街散步。",
            "喜欢去河西村口小卖部，说要找已去世的老伴。")
DESCRIPTIONS = ("白发，驼背，说话慢，左手有疤。", "个子不高，戴老花镜，听力不好。", "身材瘦小，走路慢，记不清家庭住址。")


def _near(ctx, spread: float = 0.02) -> tuple[float, float]:
    lat, lon = ctx.centre
    return round(lat + ctx.rng.uniform(-spread, spread), 6), round(lon + ctx.rng.uniform(-spread, spread), 6)


def seed(ctx) -> None:
    """Profiles for a few residents tagged 走失风险, and closed cases with repeat episodes."""
    size, rng, station_id = SIZES.get(ctx.scale, SIZES["small"]), ctx.rng, ctx.station.id
    at_risk = list(db.session.scalars(select(Resident).where(
        Resident.station_id == station_id, Resident.tags.like("% wander_risk %")).order_by(Resident.id)
        .limit(size["profiles"])))
    now = datetime.now(timezone.utc)
    reporter = ctx.officers[0]
    profiles = []
    for i, resident in enumerate(at_risk):
        home_places = rng.sample(PLACES, 2)  # each wanders back to the same two places
        profile = VulnerableProfile(
            station_id=station_id, resident_id=resident.id, risk="dementia", height_cm=rng.randrange(148, 172),
            description=DESCRIPTIONS[i % len(DESCRIPTIONS)], routines=ROUTINES[i % len(ROUTINES)],
            medical_notes="阿尔茨海默病，按时服药", emergency_contacts=f"子女 {resident.name[0]}先生 13800138{i:03d}",
            places_found=[], updated_by_id=reporter.id, created_at=now - timedelta(days=ctx.days))
        db.session.add(profile)
        profiles.append((resident, profile, home_places, [_near(ctx) for _ in home_places]))
    db.session.flush()
    cases = []
    for n in range(size["cases"]):
        last_seen = now - timedelta(days=rng.uniform(1, size["days"]), minutes=rng.randrange(0, 600))
        officer = rng.choice(ctx.officers)
        repeat = profiles and rng.random() < 0.7
        if repeat:
            resident, profile, places, spots = rng.choice(profiles)
            k = rng.randrange(len(places))
            name, sex, age, risk = resident.name, resident.sex or "unknown", 70 + rng.randrange(0, 20), "dementia"
            found_place, (found_lat, found_lon) = places[k], spots[k]
        else:
            resident, profile = None, None
            risk = rng.choice(("child", "dementia", "mental_illness", "other"))
            name, sex = ctx.rng.choice("王李张刘陈杨赵") + rng.choice("小明丽强芳伟"), rng.choice(("male", "female"))
            age = rng.randrange(5, 13) if risk == "child" else rng.randrange(20, 85)
            found_place = rng.choice(PLACES)
            found_lat, found_lon = _near(ctx)
        seen_lat, seen_lon = _near(ctx, 0.01)
        cancelled = not repeat and rng.random() < 0.15
        found_at = last_seen + timedelta(minutes=rng.randrange(25, 360))
        case = MissingPersonCase(
            station_id=station_id, resident_id=resident.id if resident else None, name=name, sex=sex, age=age,
            clothing=rng.choice(CLOTHES), description=profile.description if profile else None, risk=risk,
            last_seen_at=last_seen, last_seen_place=rng.choice(PLACES), last_seen_lat=seen_lat,
            last_seen_lon=seen_lon, circumstances="家属发现人不见了，附近找了一个小时没找到。",
            reporter_name="家属", status=CANCELLED if cancelled else FOUND, reported_by_id=officer.id,
            recorded_at=last_seen + timedelta(minutes=20), created_at=last_seen + timedelta(minutes=20),
            updated_at=found_at, closed_at=found_at, closed_by_id=officer.id,
            found_at=None if cancelled else found_at, found_place=None if cancelled else found_place,
            found_lat=None if cancelled else found_lat, found_lon=None if cancelled else found_lon,
            found_by=None if cancelled else officer.name, condition=None if cancelled else rng.choice(
                ("well", "well", "well", "injured", "hospital")),
            close_note="家属来电：已自行回家" if cancelled else "已送回家")
        cases.append((case, officer, profile))
    db.session.add_all([c for c, _o, _p in cases])
    db.session.flush()
    for case, officer, profile in sorted(cases, key=lambda row: row[0].closed_at):
        db.session.add(CaseEvent(case_id=case.id, station_id=station_id, user_id=officer.id, action="reported",
                                 created_at=case.created_at))
        db.session.add(CaseEvent(case_id=case.id, station_id=station_id, user_id=officer.id, action=case.status,
                                 note=case.close_note, created_at=case.closed_at))
        if profile is not None and case.status == FOUND:
            profile.places_found = [*profile.places_found, {
                "place": case.found_place, "lat": case.found_lat, "lon": case.found_lon,
                "found_at": case.found_at.isoformat(), "case_id": case.id}]
    alerts.bump(station_id)
    ctx.extra["missing"] = {"profiles": len(profiles), "closed_cases": len(cases)}
