"""Demo residents, rental households, tenancies, inspections and hazards (bulk inserts, deterministic).

Scale "station" is the reference station of DESIGN.md: 40,000 residents with valid ID numbers
(region 140581, Gaoping), 2,000 households, ~6,000 tenancies and a year of inspections.
"""
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import bindparam, insert, select

from blueprints.residents.people import resident_search_text
from demo import random_name
from domain.idcard import check_char
from extensions import db
from models import Address, Hazard, Inspection, RentalHousehold, Resident, Tenancy
from models.people import ResidentSearchKey, is_focus_tags, resident_key_rows
from models.places import AddressSearchKey, address_key_rows, address_search_text
from models.rentals import rebuild_household_summaries

SIZES = {"small": {"residents": 300, "households": 40}, "station": {"residents": 40_000, "households": 2_000}}
CHUNK = 2_000
STREETS = ("解放路", "建设街", "府前街", "团结路", "长平路", "友谊街", "新华街", "炎帝大道")
HAZARDS = ("电动车室内充电", "灭火器过期", "私拉乱接电线", "楼道堆放杂物", "安全出口堵塞")
USES = ("residential",) * 6 + ("group",) * 2 + ("mixed", "commercial")


def _bulk(model, rows, returning=False):
    """Insert rows in chunks (Core executemany); with returning, the new ids in row order.

    The ids are read back afterwards (the seed is the station's only writer, so they are the last
    ones of the station): the ORM's sorted RETURNING is quadratic on SQLite at 40,000 rows.
    """
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(model.__table__), rows[start:start + CHUNK])
    if not returning or not rows:
        return []
    ids = db.session.scalars(select(model.id).where(model.station_id == rows[0]["station_id"])
                             .order_by(model.id.desc()).limit(len(rows))).all()
    return ids[::-1]


def _bulk_keys(model, rows) -> None:
    """Insert search-key rows (~400,000 per table at station scale) through the driver, on the
    session's connection and transaction: COPY on PostgreSQL (an executemany of that many rows takes
    ~25 s there), an executemany of plain tuples on SQLite (no per-row parameter processing)."""
    if not rows:
        return
    columns = list(rows[0])
    values = [tuple(row[name] for name in columns) for row in rows]
    connection = db.session.connection()
    driver = connection.connection.driver_connection
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(f"COPY {model.__tablename__} ({names}) FROM STDIN") as copy:
            for value in values:
                copy.write_row(value)
    else:
        cursor = driver.cursor()
        cursor.executemany(f"INSERT INTO {model.__tablename__} ({names}) VALUES ({', '.join('?' for _ in columns)})",
                           values)
        cursor.close()


def _addresses(ctx, count: int) -> tuple[list[int], list[int]]:
    rng, rows, grid_of = ctx.rng, [], []
    lat0, lon0 = ctx.centre
    for i in range(count):
        grid = ctx.grids[i % len(ctx.grids)]
        street = f"{STREETS[(i // len(ctx.grids)) % len(STREETS)]}{(i // 40) % 200 + 1}号"
        building, unit, room = f"{(i // 8) % 5 + 1}号楼", f"{(i // 4) % 2 + 1}单元", f"{(i % 4) + 1}0{(i // 2) % 4 + 1}"
        rows.append({"station_id": ctx.station.id, "grid_id": grid.id, "community": grid.name, "street": street,
                     "building": building, "unit": unit, "room": f"{room}-{i}",
                     "lat": lat0 + rng.uniform(-0.03, 0.03), "lon": lon0 + rng.uniform(-0.04, 0.04),
                     "search": address_search_text(grid.name, street, building, unit, f"{room}-{i}")})
        grid_of.append(grid.id)
    ids = _bulk(Address, rows, returning=True)
    # Core INSERTs skip the mapper events that keep the search keys: written here.
    _bulk_keys(AddressSearchKey, [key for address_id, row in zip(ids, rows)
                             for key in address_key_rows(address_id, row["station_id"], row["search"])])
    return ids, grid_of


def _residents(ctx, count: int, address_ids: list[int]) -> list[int]:
    rng, rows, seen, keys = ctx.rng, [], set(), {}
    now = datetime.now(timezone.utc)
    for i in range(count):
        while True:
            born = date(1940, 1, 1) + timedelta(days=rng.randrange(25_000))
            first17 = f"140581{born:%Y%m%d}{rng.randrange(1000):03d}"
            if first17 not in seen:
                seen.add(first17)
                break
        number = first17 + check_char(first17)
        name = random_name(rng)
        phone = f"+86139{rng.randrange(10**8):08d}" if rng.random() < 0.7 else None
        if name not in keys:
            keys[name] = resident_search_text(name, "", None)
        search = keys[name].rstrip() + resident_search_text("", number, phone)
        tags = " "
        if born.year < 1955 and rng.random() < 0.3:
            tags = " elderly_alone " if rng.random() < 0.8 else " elderly_alone wander_risk "
        rows.append({"station_id": ctx.station.id, "name": name, "doc_type": "resident", "doc_number": number,
                     "birth_date": born, "sex": "male" if int(number[16]) % 2 else "female", "phone": phone,
                     "address_id": address_ids[i // 3 % len(address_ids)],
                     "category": rng.choice(("permanent",) * 3 + ("floating", "lodging")), "tags": tags,
                     "is_focus": is_focus_tags(tags), "search": search, "created_at": now, "updated_at": now})
    ids = _bulk(Resident, rows, returning=True)
    _bulk_keys(ResidentSearchKey, [key for resident_id, row in zip(ids, rows)
                              for key in resident_key_rows(resident_id, row["station_id"], row["name"], row["search"])])
    return ids


def seed(ctx) -> None:
    """Add the ledger's demo data to the demo station."""
    size = SIZES.get(ctx.scale, SIZES["small"])
    rng, today, station_id = ctx.rng, date.today(), ctx.station.id
    address_ids, address_grid = _addresses(ctx, size["residents"] // 3 + size["households"])
    resident_ids = _residents(ctx, size["residents"], address_ids)
    officers_by_grid = {}
    for officer in ctx.officers:
        for grid in officer.grids:
            officers_by_grid.setdefault(grid.id, []).append(officer.id)
    now = datetime.now(timezone.utc)
    rental_addresses = address_ids[-size["households"]:]
    rental_grids = address_grid[-size["households"]:]
    rows = []
    for address_id, grid_id in zip(rental_addresses, rental_grids):
        start = today - timedelta(days=rng.randrange(30, 700))
        registered = start + timedelta(days=rng.randrange(0, 20))
        rows.append({"station_id": station_id, "address_id": address_id, "grid_id": grid_id,
                     "landlord_id": rng.choice(resident_ids), "officer_id": rng.choice(
                         officers_by_grid.get(grid_id) or [ctx.officers[0].id]),
                     "rooms": rng.randrange(1, 8), "use": rng.choice(USES), "lease_start": start,
                     "lease_end": None if rng.random() < 0.05 else start + timedelta(days=365 * rng.choice((1, 2))),
                     "registered_on": min(registered, today), "recorded_at": now, "created_at": now})
    household_ids = _bulk(RentalHousehold, rows, returning=True)
    households = list(zip(household_ids, rows))
    tenant_pool = rng.sample(resident_ids, min(len(resident_ids), len(households) * 3))
    tenancies, position = [], 0
    for household_id, row in households:
        for _ in range(rng.choice((1, 2, 3, 3, 4, 5))):
            if position >= len(tenant_pool):
                break
            move_in = row["lease_start"] + timedelta(days=rng.randrange(0, 60))
            move_in = min(move_in, today)
            delay = rng.choice((0, 0, 1, 1, 2, 3, 5, 9))
            moved_out = rng.random() < 0.15
            tenancies.append({"station_id": station_id, "household_id": household_id,
                              "resident_id": tenant_pool[position], "move_in": move_in,
                              "move_out": min(move_in + timedelta(days=rng.randrange(30, 400)), today)
                              if moved_out else None,
                              "registered_on": min(move_in + timedelta(days=delay), today),
                              "registration_delay_days": max(0, (min(move_in + timedelta(days=delay), today)
                                                                 - move_in).days), "created_at": now})
            position += 1
    _bulk(Tenancy, tenancies)
    _inspections(ctx, households, today, now)


def _inspections(ctx, households, today, now) -> None:
    """A year of inspections: roughly every 90 days (30 for group rentals), some late, some hazards."""
    rng, station_id = ctx.rng, ctx.station.id
    inspections, meta, last = [], [], {}
    for household_id, row in households:
        interval = 30 if row["use"] == "group" else 90
        day = max(row["registered_on"], today - timedelta(days=365)) + timedelta(days=rng.randrange(0, interval))
        while day <= today:
            inspections.append({"station_id": station_id, "household_id": household_id,
                                "officer_id": row["officer_id"], "inspected_on": day,
                                "fire_extinguisher": rng.random() < 0.85, "escape_route": rng.random() < 0.9,
                                "wiring_ok": rng.random() < 0.85, "ebikes_indoors": rng.random() < 0.15,
                                "tenants_registered": rng.random() < 0.9, "recorded_at": now, "created_at": now})
            meta.append((household_id, day))
            last[household_id] = day
            day += timedelta(days=interval + rng.randrange(-10, 40))
    inspection_ids = _bulk(Inspection, inspections, returning=True)
    hazards = []
    for inspection_id, (household_id, day) in zip(inspection_ids, meta):
        if rng.random() < 0.12:
            due = day + timedelta(days=rng.choice((7, 15, 30)))
            hazards.append({"station_id": station_id, "household_id": household_id, "inspection_id": inspection_id,
                            "description": rng.choice(HAZARDS), "due_on": due,
                            "resolved_on": due - timedelta(days=rng.randrange(0, 7))
                            if due < today and rng.random() < 0.8 else None})
    _bulk(Hazard, hazards)
    table = RentalHousehold.__table__
    if last:  # one executemany, not one statement per household
        db.session.execute(table.update().where(table.c.id == bindparam("hid"))
                           .values(last_inspected_on=bindparam("day")),
                           [{"hid": hid, "day": day} for hid, day in last.items()])
    # Open tenants and hazards summed on each household (the events do it for ORM writes).
    rebuild_household_summaries(db.session.connection(), station_id)
