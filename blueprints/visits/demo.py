"""Demo places and a year of visits with their follow-ups (bulk inserts: ~20,000 visits at station scale).

Runs after the ledger's seeder: visits go to its focus residents (more often), other residents,
rental households and the places made here, by the officers of each grid, mostly in daytime.
"""
import math
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import insert, select

from blueprints.home.services import LOCAL_TZ
from blueprints.visits.subjects import place_search_text
from extensions import db
from models import Address, FollowUp, Place, RentalHousehold, Resident, Visit
from models.visits import PURPOSES, rebuild_candidates, rebuild_summaries

SIZES = {"small": {"places": 30, "visits": 400}, "station": {"places": 300, "visits": 20_000}}
CHUNK = 5_000
PLACE_KINDS = (("超市", "shop"), ("小吃店", "restaurant"), ("农贸市场", "market"), ("宾馆", "hotel"),
               ("网吧", "internet_cafe"), ("幼儿园", "school"), ("五金店", "shop"), ("面馆", "restaurant"),
               ("药店", "shop"), ("物流公司", "enterprise"))
NOTES = {"met": ("了解近况，身体良好。", "宣传反诈知识，发放资料。", "提醒注意用电安全。", "已调解，双方达成一致。"),
         "no_one_home": ("敲门无人应答，已留联系卡。", "家中无人。"), "refused": ("不愿配合，已做说明。",)}
# Share of purposes: mostly routine visits and publicity, some care and mediation.
PURPOSE_WEIGHTS = (30, 8, 5, 12, 18, 8, 14, 5)


def _offset(lat, lon, north_m, east_m):
    return lat + north_m / 111_320, lon + east_m / (111_320 * math.cos(math.radians(lat)))


def _bulk(model, rows) -> None:
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(model.__table__), rows[start:start + CHUNK])


def _places(ctx, count: int) -> list[tuple[int, int]]:
    """Insert the places; their (id, grid id), read back in one statement."""
    rng, rows = ctx.rng, []
    for i in range(count):
        grid = ctx.grids[i % len(ctx.grids)]
        word, kind = PLACE_KINDS[i % len(PLACE_KINDS)]
        name = f"{grid.name}{rng.choice('金福顺兴隆华')}{word}{i // len(PLACE_KINDS) + 1}"
        address = f"{grid.name}{rng.choice(('解放路', '建设街', '府前街', '团结路'))}{rng.randrange(1, 200)}号"
        contact = f"139{rng.randrange(10**8):08d}"
        lat, lon = _offset(*ctx.centre, rng.uniform(-3000, 3000), rng.uniform(-4000, 4000))
        rows.append({"station_id": ctx.station.id, "grid_id": grid.id, "name": name, "type": kind, "address": address,
                     "contact": contact, "lat": round(lat, 6), "lon": round(lon, 6),
                     "search": place_search_text(name, address, contact), "created_by_id": None,
                     "created_at": datetime.now(timezone.utc)})
    _bulk(Place, rows)
    return list(db.session.execute(select(Place.id, Place.grid_id).where(Place.station_id == ctx.station.id)
                                   .order_by(Place.id)).tuples())


def seed(ctx) -> None:
    """Add places, visits and follow-ups to the demo station."""
    size = SIZES.get(ctx.scale, SIZES["small"])
    rng, station_id = ctx.rng, ctx.station.id
    places = _places(ctx, size["places"])
    residents = list(db.session.execute(
        select(Resident.id, Address.grid_id, Resident.tags).join(Address, Resident.address_id == Address.id)
        .where(Resident.station_id == station_id)).tuples())
    focus = [(r, g) for r, g, tags in residents if "elderly_alone" in tags or "wander_risk" in tags]
    households = list(db.session.execute(select(RentalHousehold.id, RentalHousehold.grid_id)
                                         .where(RentalHousehold.station_id == station_id)).tuples())
    officers_by_grid = {}
    for officer in ctx.officers:
        for grid in officer.grids:
            officers_by_grid.setdefault(grid.id, []).append(officer.id)
    fallback = [ctx.officers[0].id]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    today = now.astimezone(LOCAL_TZ).date()
    span = max(ctx.days, 30) if ctx.scale == "small" else ctx.days
    rows = []
    for _ in range(size["visits"]):
        roll = rng.random()
        if roll < 0.45 and focus:
            kind, (subject_id, grid_id) = "resident", rng.choice(focus)
        elif roll < 0.65 and residents:
            kind, (subject_id, grid_id, _t) = "resident", rng.choice(residents)
        elif roll < 0.85 and households:
            kind, (subject_id, grid_id) = "household", rng.choice(households)
        else:
            kind, (subject_id, grid_id) = "place", rng.choice(places)
        day = today - timedelta(days=rng.randrange(span))
        hour = rng.choices(range(8, 21), weights=(4, 6, 6, 5, 2, 3, 5, 6, 5, 4, 4, 3, 2))[0]
        local = datetime.combine(day, time(hour, rng.randrange(60)), tzinfo=LOCAL_TZ)
        recorded_at = min(local.astimezone(timezone.utc), now - timedelta(minutes=5))
        outcome = rng.choices(("met", "no_one_home", "refused"), weights=(78, 18, 4))[0]
        # Daytime calls find working people out: evening visits are answered more often.
        if outcome == "no_one_home" and hour >= 18 and rng.random() < 0.6:
            outcome = "met"
        lat, lon = (None, None)
        if rng.random() < 0.9:
            lat, lon = _offset(*ctx.centre, rng.uniform(-3000, 3000), rng.uniform(-4000, 4000))
        via = "sync" if rng.random() < 0.12 else "online"
        rows.append({
            "station_id": station_id, "officer_id": rng.choice(officers_by_grid.get(grid_id) or fallback),
            "grid_id": grid_id, "subject_type": kind, "resident_id": subject_id if kind == "resident" else None,
            "household_id": subject_id if kind == "household" else None,
            "place_id": subject_id if kind == "place" else None,
            "purpose": rng.choices(PURPOSES, weights=PURPOSE_WEIGHTS)[0], "outcome": outcome,
            "notes": rng.choice(NOTES[outcome]) if rng.random() < 0.7 else None,
            "lat": round(lat, 6) if lat else None, "lon": round(lon, 6) if lon else None,
            "accuracy_m": round(rng.uniform(5, 40), 1) if lat else None, "photo_id": None, "client_id": None,
            "via": via, "recorded_at": recorded_at,
            "received_at": recorded_at + timedelta(minutes=rng.uniform(5, 180) if via == "sync" else 0.1),
            "local_hour": recorded_at.astimezone(LOCAL_TZ).hour})
    # Some visits ask for a follow-up; most of the old ones were answered by a later visit.
    follow_ups = []
    for index in range(len(rows)):
        if rng.random() >= 0.06:
            continue
        row = rows[index]
        due = row["recorded_at"].astimezone(LOCAL_TZ).date() + timedelta(days=rng.choice((3, 7, 14)))
        answer = None
        if due < today - timedelta(days=3) and rng.random() < 0.85:
            answered_at = datetime.combine(due, time(rng.randrange(9, 20)), tzinfo=LOCAL_TZ).astimezone(timezone.utc)
            rows.append(row | {"purpose": "follow_up", "outcome": "met", "notes": None, "recorded_at": answered_at,
                               "received_at": answered_at, "local_hour": answered_at.astimezone(LOCAL_TZ).hour})
            answer = len(rows) - 1
        follow_ups.append((index, answer, due))
    order = sorted(range(len(rows)), key=lambda i: rows[i]["recorded_at"])
    _bulk(Visit, [rows[i] for i in order])
    ids = db.session.scalars(select(Visit.id).where(Visit.station_id == station_id).order_by(Visit.id)).all()
    id_of = {i: ids[position] for position, i in enumerate(order)}
    subject_keys = ("station_id", "officer_id", "grid_id", "subject_type", "resident_id", "household_id", "place_id")
    _bulk(FollowUp, [{key: rows[index][key] for key in subject_keys}
                     | {"visit_id": id_of[index], "due_on": due,
                        "done_visit_id": id_of[answer] if answer is not None else None,
                        "done_at": rows[answer]["recorded_at"] if answer is not None else None,
                        "created_at": rows[index]["recorded_at"]}
                     for index, answer, due in follow_ups])
    # The bulk inserts skip the Visit mapper events that keep the day totals and last visits.
    rebuild_summaries(db.session.connection(), station_id)
    # The plan's candidates: the ledger's seeder (which runs before this one) inserts residents,
    # addresses and tenancies with Core INSERTs, which skip the listener that keeps them.
    rebuild_candidates(db.session.connection(), station_id)
    ctx.extra["visits"] = {"places": len(places), "visits": len(rows), "follow_ups": len(follow_ups)}
