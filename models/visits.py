"""Resident visits (走访), the follow-ups they create, and places (实有单位/场所) that can be visited."""
from collections.abc import Callable
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, bindparam, case, delete, event, \
    func, insert, inspect, literal_column, or_, select, union, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from extensions import db
from models import upserts
from models.people import Resident
from models.types import UTCDateTime, utcnow

# Stored codes; the labels are translated by the app.
SUBJECT_TYPES = ("resident", "household", "place")
PURPOSES = ("routine", "follow_up", "mediation", "safety_advice", "anti_fraud", "focus_check", "elderly_care",
            "other")
MET, NO_ONE_HOME, REFUSED = "met", "no_one_home", "refused"
OUTCOMES = (MET, NO_ONE_HOME, REFUSED)
# Someone answered the door: what counts as "visited" for plans and coverage (no one home does not).
VISITED_OUTCOMES = (MET, REFUSED)
PLACE_TYPES = ("shop", "restaurant", "market", "hotel", "internet_cafe", "school", "enterprise", "other")


class Place(db.Model):
    """A place on the station's books (实有单位/场所): a shop, restaurant, the market, a school...

    `search` is the prepared search column (name, pinyin keys, address, contact digits) matched with
    LIKE, like the residents' one.
    """

    __tablename__ = "places"
    __table_args__ = (Index("ix_places_station_grid", "station_id", "grid_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    name: Mapped[str] = mapped_column(String(80))
    type: Mapped[str] = mapped_column(String(20), default="shop")
    address: Mapped[str] = mapped_column(String(120), default="")
    contact: Mapped[str | None] = mapped_column(String(60))
    lat: Mapped[float | None] = mapped_column(Float)  # WGS-84
    lon: Mapped[float | None] = mapped_column(Float)
    search: Mapped[str] = mapped_column(String(400), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    grid = relationship("Grid")


class Visit(db.Model):
    """One visit: who was visited (exactly one of resident, household, place), why, what came of it.

    `grid_id` copies the subject's grid when recorded (coverage groups by it); `local_hour` is the
    Asia/Shanghai hour of `recorded_at`, stored so "no one home at these hours" needs no time-zone
    arithmetic in SQL.
    """

    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_station_recorded", "station_id", "recorded_at"),
        Index("ix_visits_officer_recorded", "officer_id", "recorded_at"),
        Index("ix_visits_resident_recorded", "resident_id", "recorded_at"),
        # With the outcome, the coverage's "household visited since" reads no visit rows.
        Index("ix_visits_household_visited", "household_id", "recorded_at", "outcome"),
        Index("ix_visits_place_recorded", "place_id", "recorded_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # active_history: a change loads the old value first, so the summaries' mapper events (below)
    # can take the visit off its old day row, resident and household even when the row was expired.
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), active_history=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), active_history=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True, active_history=True)
    subject_type: Mapped[str] = mapped_column(String(12))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), active_history=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("rental_households.id"), active_history=True)
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id"))
    purpose: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(12), active_history=True)
    notes: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    client_id: Mapped[str | None] = mapped_column(String(36))
    via: Mapped[str] = mapped_column(String(8), default="online")  # online | sync
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, active_history=True)  # device clock
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # server clock
    local_hour: Mapped[int] = mapped_column(Integer)

    officer = relationship("User")
    resident = relationship("Resident")
    household = relationship("RentalHousehold")
    place = relationship("Place")
    photo = relationship("Attachment")

    @property
    def subject_id(self) -> int | None:
        return {"resident": self.resident_id, "household": self.household_id, "place": self.place_id}.get(
            self.subject_type)


class FollowUp(db.Model):
    """A visit to make again by a due date, for the officer who asked for it; done by the next visit."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        Index("ix_follow_ups_officer_open", "officer_id", "done_visit_id", "due_on"),
        Index("ix_follow_ups_station_open", "station_id", "done_visit_id", "due_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    subject_type: Mapped[str] = mapped_column(String(12))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("rental_households.id"))
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id"))
    due_on: Mapped[date] = mapped_column(Date)
    done_visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit = relationship("Visit", foreign_keys=[visit_id])
    resident = relationship("Resident")
    household = relationship("RentalHousehold")
    place = relationship("Place")

    @property
    def subject_id(self) -> int | None:
        return {"resident": self.resident_id, "household": self.household_id, "place": self.place_id}.get(
            self.subject_type)


# --- summaries kept on write ------------------------------------------------------------------------
# The plan and the coverage read these instead of aggregating every visit on each request. Each Visit
# written through the ORM updates them in the same flush (and transaction, and savepoint) by the
# mapper events below; Core INSERTs into visits (the demo seeder) skip the events, so whoever does
# that calls rebuild_summaries afterwards.

LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # the station's clock: coverage days are local days


class ResidentVisitState(db.Model):
    """When a resident was last visited (someone answered the door: met or refused), one row per
    resident visited at least once; no row means never visited."""

    __tablename__ = "resident_visit_states"
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    last_visited_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HouseholdVisitState(db.Model):
    """When a rental household was last visited (met or refused, by any visit to it: the coverage's
    rule), one row per household visited at least once; no row means never visited. station_id is
    the household's station (the coverage counts a station's households)."""

    __tablename__ = "household_visit_states"
    household_id: Mapped[int] = mapped_column(ForeignKey("rental_households.id"), primary_key=True,
                                              autoincrement=False)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    last_visited_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VisitDayTotal(db.Model):
    """Visits (and the no-one-home ones) per station, local day, grid and officer.

    grid_id 0 stands for "no grid" (a place without one), so the key has no NULL and one upsert
    serves both cases; it is therefore not a foreign key.
    """

    __tablename__ = "visit_day_totals"
    # SQLite: the rows live in the primary key's B-tree, so a (station, day range) read is one scan.
    __table_args__ = {"sqlite_with_rowid": False}
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    grid_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: no grid
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    visits: Mapped[int] = mapped_column(Integer, default=0)
    no_one_home: Mapped[int] = mapped_column(Integer, default=0)


# The plan and the coverage walk a station's focus residents to their addresses: with address_id in
# the index that walk never reads the (wide) residents rows.
Index("ix_residents_station_focus_address", Resident.station_id, Resident.is_focus, Resident.address_id)

_KEY = ("station_id", "local_day", "grid_id", "officer_id")
_COUNTS = ("visits", "no_one_home")
_SOURCE = ("station_id", "grid_id", "officer_id", "resident_id", "household_id", "outcome", "recorded_at")


def local_day_of(moment: datetime) -> date:
    """The station's calendar day of a UTC moment."""
    return moment.astimezone(LOCAL_TZ).date()


def _contribution(values: dict) -> dict:
    """The day row's key and the counts one visit (given its _SOURCE values) adds."""
    return {"station_id": values["station_id"], "local_day": local_day_of(values["recorded_at"]),
            "grid_id": values["grid_id"] or 0, "officer_id": values["officer_id"], "visits": 1,
            "no_one_home": 1 if values["outcome"] == NO_ONE_HOME else 0}


def _upsert(table, keys, set_, values: dict | None = None) -> Callable:
    """The build of an INSERT .. ON CONFLICT (keys) DO UPDATE SET set_(table, excluded) for
    models.upserts (`values`: columns given by an expression)."""
    def build(insert):
        insert_ = insert(table).values(values) if values else insert(table)
        return insert_.on_conflict_do_update(index_elements=[table.c[k] for k in keys],
                                             set_=set_(table, insert_.excluded))
    return build


def _summed(table, new) -> dict:
    """The day row's SET: each count grows by the visit's."""
    return {name: table.c[name] + new[name] for name in _COUNTS}


def _add(connection, values: dict) -> None:
    """Count a visit in its day row (one atomic INSERT .. ON CONFLICT DO UPDATE, so concurrent
    visits each count once) and move its resident's and household's last visit forward if it is later."""
    upserts.run(connection, "visit_day_totals", _upsert(VisitDayTotal.__table__, _KEY, _summed),
                _contribution(values))
    if values["resident_id"] is not None and values["outcome"] in VISITED_OUTCOMES:
        upserts.run(connection, "resident_visit_states",
                    _upsert(ResidentVisitState.__table__, ("resident_id",), _later),
                    {"resident_id": values["resident_id"], "station_id": values["station_id"],
                     "last_visited_at": values["recorded_at"]})
    if values["household_id"] is not None and values["outcome"] in VISITED_OUTCOMES:
        upserts.run(connection, "household_visit_states", _upsert(
            HouseholdVisitState.__table__, ("household_id",), _later,
            values={"station_id": _household_station(bindparam("station_household_id"))}),
            {"household_id": values["household_id"], "station_household_id": values["household_id"],
             "last_visited_at": values["recorded_at"]})


def _later(table, new) -> dict:
    """An upsert's SET: the last visit moves forward only."""
    return {"last_visited_at": case((new.last_visited_at > table.c.last_visited_at, new.last_visited_at),
                                    else_=table.c.last_visited_at)}


def _household_station(household_id):
    """The household's station, as a scalar subquery (the state row is filed under it)."""
    from models.rentals import RentalHousehold

    h = RentalHousehold.__table__
    return select(h.c.station_id).where(h.c.id == household_id).scalar_subquery()


def _subtract(connection, values: dict) -> None:
    """Take a visit off its day row (dropping an empty row) and recompute its resident's and
    household's last visit."""
    table, row = VisitDayTotal.__table__, _contribution(values)
    where = [table.c[name] == row[name] for name in _KEY]
    connection.execute(update(table).where(*where).values({name: table.c[name] - row[name] for name in _COUNTS}))
    connection.execute(delete(table).where(*where, table.c.visits <= 0))
    if values["resident_id"] is not None:
        _recompute_state(connection, values["resident_id"])
    if values["household_id"] is not None:
        _recompute_household_state(connection, values["household_id"])


def _recompute_state(connection, resident_id: int) -> None:
    """The resident's state row from their visits (after a visit left or changed)."""
    states, v = ResidentVisitState.__table__, Visit.__table__
    last = connection.execute(select(func.max(v.c.recorded_at), func.max(v.c.station_id)).where(
        v.c.resident_id == resident_id, v.c.outcome.in_(VISITED_OUTCOMES))).one()
    connection.execute(delete(states).where(states.c.resident_id == resident_id))
    if last[0] is not None:
        connection.execute(insert(states).values(resident_id=resident_id, station_id=last[1],
                                                 last_visited_at=last[0]))


def _recompute_household_state(connection, household_id: int) -> None:
    """The household's state row from its visits (after a visit left or changed)."""
    states, v = HouseholdVisitState.__table__, Visit.__table__
    last = connection.scalar(select(func.max(v.c.recorded_at)).where(
        v.c.household_id == household_id, v.c.outcome.in_(VISITED_OUTCOMES)))
    connection.execute(delete(states).where(states.c.household_id == household_id))
    if last is not None:
        connection.execute(insert(states).values(household_id=household_id,
                                                 station_id=_household_station(household_id), last_visited_at=last))


def _loaded(target: Visit) -> tuple[dict, bool]:
    """The _SOURCE values as they were loaded (before this flush's changes), and whether any changed."""
    state, old, changed = inspect(target), {}, False
    for name in _SOURCE:
        history = state.attrs[name].history
        if history.deleted:
            old[name], changed = history.deleted[0], True
        else:
            old[name] = getattr(target, name)
    return old, changed


@event.listens_for(Visit, "after_insert")
def _visit_inserted(mapper, connection, target: Visit) -> None:
    _add(connection, {name: getattr(target, name) for name in _SOURCE})


@event.listens_for(Visit, "after_update")
def _visit_updated(mapper, connection, target: Visit) -> None:
    old, changed = _loaded(target)
    if changed:
        _subtract(connection, old)
        _add(connection, {name: getattr(target, name) for name in _SOURCE})


@event.listens_for(Visit, "after_delete")
def _visit_deleted(mapper, connection, target: Visit) -> None:
    _subtract(connection, _loaded(target)[0])


def rebuild_summaries(connection, station_id: int) -> None:
    """Recount a station's day totals and last visits (of residents, of its rental households) from
    the visits (after Core INSERTs that skip the events: the demo seeder, `flask summaries rebuild`)."""
    from models.rentals import RentalHousehold

    v, totals, states = Visit.__table__, VisitDayTotal.__table__, ResidentVisitState.__table__
    households, h = HouseholdVisitState.__table__, RentalHousehold.__table__
    connection.execute(delete(totals).where(totals.c.station_id == station_id))
    connection.execute(delete(states).where(states.c.station_id == station_id))
    # (and any state of the station's households filed under another station: one row per household)
    connection.execute(delete(households).where(or_(
        households.c.station_id == station_id,
        households.c.household_id.in_(select(h.c.id).where(h.c.station_id == station_id)))))
    # Local days are counted in Python: the time-zone arithmetic differs between SQLite and PostgreSQL.
    days: dict[tuple, list[int]] = {}
    for recorded_at, grid_id, officer_id, outcome in connection.execute(
            select(v.c.recorded_at, v.c.grid_id, v.c.officer_id, v.c.outcome).where(v.c.station_id == station_id)):
        moment = recorded_at if recorded_at.tzinfo else recorded_at.replace(tzinfo=timezone.utc)
        counts = days.setdefault((local_day_of(moment), grid_id or 0, officer_id), [0, 0])
        counts[0] += 1
        counts[1] += outcome == NO_ONE_HOME
    if days:
        connection.execute(insert(totals), [
            {"station_id": station_id, "local_day": day, "grid_id": grid_id, "officer_id": officer_id,
             "visits": n, "no_one_home": nobody} for (day, grid_id, officer_id), (n, nobody) in days.items()])
    connection.execute(insert(states).from_select(
        ["resident_id", "station_id", "last_visited_at"],
        select(v.c.resident_id, func.min(v.c.station_id), func.max(v.c.recorded_at))
        .where(v.c.station_id == station_id, v.c.resident_id.is_not(None), v.c.outcome.in_(VISITED_OUTCOMES))
        .group_by(v.c.resident_id)))
    connection.execute(insert(households).from_select(
        ["household_id", "station_id", "last_visited_at"],
        select(h.c.id, h.c.station_id, func.max(v.c.recorded_at))
        .select_from(h.join(v, v.c.household_id == h.c.id))
        .where(h.c.station_id == station_id, v.c.outcome.in_(VISITED_OUTCOMES))
        .group_by(h.c.id, h.c.station_id)))


# --- plan candidates kept on write ------------------------------------------------------------------
# "Who to visit" starts from the residents it may show: every focus resident, and every resident with
# an open tenancy (a tenant of an overdue rental is a candidate). visit_candidates holds them with
# their address's grid and position, so the plan reads one index range (station, grid, latitude)
# instead of walking the station's focus residents and the overdue households' tenancies to their
# addresses. One row per focus resident (household_id 0) and one per open tenancy (its household),
# positioned at the RESIDENT's address; residents without an address are not candidates (the plan
# never showed them). The rows of a resident are recomputed from the source tables (_CANDIDATES_SQL)
# after each flush that touched them (the session listener below: residents' focus, address or
# station, addresses' grid or position, tenancies); Core INSERTs (the demo seeder) skip the
# listener, so whoever does that calls rebuild_candidates afterwards.

class VisitCandidate(db.Model):
    """A resident the visit plan may show: focus (household_id 0) or tenant of household_id (open)."""

    __tablename__ = "visit_candidates"
    # The plan's read: a station's rows in the officer's grids and a latitude band, the rest of the
    # filter (longitude, focus or overdue household) and the resident id from the same index entries.
    __table_args__ = (Index("ix_visit_candidates_box", "station_id", "grid_id", "lat", "lon", "is_focus",
                            "household_id", "resident_id"),
                      # The coverage's focus residents per grid: the station's focus rows (household 0).
                      Index("ix_visit_candidates_station_household", "station_id", "household_id", "grid_id",
                            "resident_id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True)
    household_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # 0: focus row
    station_id: Mapped[int] = mapped_column(Integer)
    grid_id: Mapped[int | None] = mapped_column(Integer)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    is_focus: Mapped[bool] = mapped_column(Boolean)


_CANDIDATE_COLUMNS = ["resident_id", "household_id", "station_id", "grid_id", "lat", "lon", "is_focus"]


def candidates_select(where_resident):
    """The candidate rows computed from residents, addresses and tenancies, for the residents that
    `where_resident(residents_table)` selects (UNION: a resident's duplicate open tenancies of one
    household are one row)."""
    from models.places import Address
    from models.rentals import Tenancy

    r, a, t = Resident.__table__, Address.__table__, Tenancy.__table__
    focus = (select(r.c.id, literal_column("0", Integer), r.c.station_id, a.c.grid_id, a.c.lat, a.c.lon, r.c.is_focus)
             .select_from(r.join(a, a.c.id == r.c.address_id)).where(r.c.is_focus.is_(True), where_resident(r)))
    tenants = (select(r.c.id, t.c.household_id, r.c.station_id, a.c.grid_id, a.c.lat, a.c.lon, r.c.is_focus)
               .select_from(t.join(r, r.c.id == t.c.resident_id).join(a, a.c.id == r.c.address_id))
               .where(t.c.move_out.is_(None), where_resident(r)))
    return union(focus, tenants)


def refresh_candidates(connection, resident_ids) -> None:
    """Recompute the candidate rows of these residents (delete, then one INSERT .. SELECT)."""
    ids = sorted({i for i in resident_ids if i is not None})
    table = VisitCandidate.__table__
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        connection.execute(delete(table).where(table.c.resident_id.in_(chunk)))
        connection.execute(insert(table).from_select(_CANDIDATE_COLUMNS,
                                                     candidates_select(lambda r: r.c.id.in_(chunk))))


def rebuild_candidates(connection, station_id: int) -> None:
    """Recompute a station's candidate rows (after Core INSERTs that skip the listener)."""
    table = VisitCandidate.__table__
    connection.execute(delete(table).where(table.c.station_id == station_id))
    connection.execute(insert(table).from_select(_CANDIDATE_COLUMNS,
                                                 candidates_select(lambda r: r.c.station_id == station_id)))


_RESIDENT_FIELDS = ("is_focus", "tags", "address_id", "address", "station_id")
_ADDRESS_FIELDS = ("grid_id", "grid", "lat", "lon")
_TENANCY_FIELDS = ("move_out", "household_id", "household", "resident_id", "resident")


def _changed(obj, names) -> bool:
    state = inspect(obj)
    return any(name in state.attrs and state.attrs[name].history.has_changes() for name in names)


@event.listens_for(Session, "after_flush")
def _candidates_after_flush(session, flush_context) -> None:
    """Recompute the candidate rows of the residents this flush touched (session.new/dirty/deleted
    and the attributes' history still show what the flush wrote)."""
    from models.places import Address
    from models.rentals import Tenancy

    residents, addresses = set(), set()
    for obj in session.new:
        if isinstance(obj, Resident):
            residents.add(obj.id)
        elif isinstance(obj, Tenancy):
            residents.add(obj.resident_id)
    for obj in session.dirty:
        if isinstance(obj, Resident) and _changed(obj, _RESIDENT_FIELDS):
            residents.add(obj.id)
        elif isinstance(obj, Tenancy) and _changed(obj, _TENANCY_FIELDS):
            residents.add(obj.resident_id)
            residents.update(inspect(obj).attrs.resident_id.history.deleted or ())
        elif isinstance(obj, Address) and _changed(obj, _ADDRESS_FIELDS):
            addresses.add(obj.id)
    for obj in session.deleted:
        if isinstance(obj, Tenancy):
            residents.add(obj.resident_id)
            residents.update(inspect(obj).attrs.resident_id.history.deleted or ())
    if not (residents or addresses):
        return
    connection = session.connection()
    if addresses:
        residents.update(connection.scalars(select(Resident.__table__.c.id).where(
            Resident.__table__.c.address_id.in_(sorted(addresses)))))
    if residents:
        refresh_candidates(connection, residents)
