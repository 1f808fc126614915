"""The work of patrol: points, recording check-ins (online and synced alike), today and the feed."""
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from blueprints.home.services import LOCAL_TZ
from blueprints.patrol import qr
from blueprints.sync import attachments, records
from domain.checkin_rules import assess_check_in
from domain.geo import precise_distance_m
from extensions import db
from models import CheckIn, Grid, PatrolPoint, utcnow
from models.users import COMMUNITY, LEADER

# Who records check-ins: the community team, and leaders who patrol with it. The case team and the
# command room read.
CHECKIN_ROLES = (COMMUNITY, LEADER)
HISTORY_PAGE_SIZE = 20
FEED_SIZE = 50


# --- points -----------------------------------------------------------------------------------------

def station_grids(station_id: int) -> list[Grid]:
    """The station's grids, by code."""
    return list(db.session.scalars(select(Grid).where(Grid.station_id == station_id).order_by(Grid.code)))


def visible_points(user, *, active_only: bool = False) -> list[PatrolPoint]:
    """Points this user may see: the whole station for station-wide roles and the case team,
    only the officer's own grids for a community officer."""
    query = select(PatrolPoint).options(joinedload(PatrolPoint.grid)).where(
        PatrolPoint.station_id == user.station_id)
    if user.role == COMMUNITY:
        query = query.where(PatrolPoint.grid_id.in_(user.grid_ids or [-1]))
    if active_only:
        query = query.where(PatrolPoint.active.is_(True))
    return list(db.session.scalars(query.order_by(PatrolPoint.grid_id, PatrolPoint.name)))


def check_in_points(user) -> list[PatrolPoint]:
    """The active points offered on the check-in page: the officer's grids (a leader: all)."""
    return visible_points(user, active_only=True)


def point_choices(user) -> list:
    """The check-in box's point list: (id, name) rows of check_in_points(), in the same order."""
    query = select(PatrolPoint.id, PatrolPoint.name).where(
        PatrolPoint.station_id == user.station_id, PatrolPoint.active.is_(True))
    if user.role == COMMUNITY:
        query = query.where(PatrolPoint.grid_id.in_(user.grid_ids or [-1]))
    return list(db.session.execute(query.order_by(PatrolPoint.grid_id, PatrolPoint.name)))


def points_payload(points) -> list[dict]:
    """What checkin.js needs offline to find the nearest point; no code or token (they are proof)."""
    return [{"id": p.id, "name": p.name, "lat": p.lat, "lon": p.lon, "radius": p.radius_m,
             "grid": p.grid.name if p.grid else ""} for p in points]


def station_point(station_id: int, point_id: int) -> PatrolPoint | None:
    """A point of this station, or None (another station's point is as good as missing)."""
    point = db.session.get(PatrolPoint, point_id)
    return point if point is not None and point.station_id == station_id else None


def save_point(point: PatrolPoint | None, station_id: int, data: dict) -> PatrolPoint:
    """Create (point None) or update a patrol point from validated form data; commits."""
    if point is None:
        point = PatrolPoint(station_id=station_id)
        db.session.add(point)
    for name in ("name", "grid_id", "lat", "lon", "radius_m", "required_per_day", "window_start",
                 "window_end", "active"):
        setattr(point, name, data[name])
    point.name = point.name.strip()
    db.session.commit()
    return point


def point_codes(point: PatrolPoint, check_in_url: str) -> dict:
    """A point's printable codes: the QR image (a data: URI) and the short code under it."""
    token = qr.point_token(point.station_id, point.id)
    return {"point": point, "code": qr.short_code(point.station_id, point.id),
            "qr": qr.qr_data_uri(qr.qr_payload(check_in_url, token))}


# --- recording a check-in --------------------------------------------------------------------------

def local_day_of(moment: datetime) -> date:
    """The Asia/Shanghai calendar day of an aware time."""
    return moment.astimezone(LOCAL_TZ).date()


def in_window(point: PatrolPoint | None, moment: datetime) -> bool | None:
    """Whether a time falls in the point's shift window (None when there is no window).

    A window may run past midnight (22:00-02:00).
    """
    if point is None or point.window_start is None or point.window_end is None:
        return None
    clock = moment.astimezone(LOCAL_TZ).time()
    start, end = point.window_start, point.window_end
    if start <= end:
        return start <= clock <= end
    return clock >= start or clock <= end


def _resolve_point(user, form) -> tuple[PatrolPoint | None, str, dict]:
    """The point and method of a check-in, or field errors for a foreign point or a forged code."""
    if form.qr_token.data:
        point_id = qr.verify(form.qr_token.data, user.station_id)
        point = station_point(user.station_id, point_id) if point_id else None
        if point is None:
            return None, "qr", {"qr_token": [_("This code is not valid for a patrol point of your station. "
                                                 "Scan the QR again or check the printed code.")]}
        return point, "qr", {}
    point = None
    if form.point_id.data:
        point = station_point(user.station_id, form.point_id.data)
        if point is None:
            return None, "", {"point_id": [_("This patrol point does not belong to your station.")]}
    return point, ("gps" if form.position else "manual"), {}


def _previous_fix(officer_id: int, before: datetime) -> tuple[float, float, datetime] | None:
    """The officer's last check-in with a position before this one (for the speed check)."""
    row = db.session.execute(
        select(CheckIn.lat, CheckIn.lon, CheckIn.recorded_at)
        .where(CheckIn.officer_id == officer_id, CheckIn.lat.is_not(None), CheckIn.recorded_at < before)
        .order_by(CheckIn.recorded_at.desc()).limit(1)
    ).first()
    return tuple(row) if row else None


def _build_check_in(user, form, point, method: str, via: str) -> CheckIn:
    received_at = utcnow()
    recorded_at = form.recorded_at.data
    lat, lon = form.position or (None, None)
    accuracy = form.accuracy.data if lat is not None else None
    distance = precise_distance_m(lat, lon, point.lat, point.lon) if point and lat is not None else None
    flags = assess_check_in(lat=lat, lon=lon, accuracy_m=accuracy, distance_m=distance,
                            radius_m=point.radius_m if point else None, method=method,
                            recorded_at=recorded_at, received_at=received_at, online=via == "online",
                            previous=_previous_fix(user.id, recorded_at))
    photo = attachments.record_photo(user, form)
    return CheckIn(
        station_id=user.station_id, officer_id=user.id, point=point, point_id=point.id if point else None,
        grid_id=point.grid_id if point else None, lat=lat, lon=lon, accuracy_m=accuracy,
        distance_m=round(distance, 1) if distance is not None else None,
        within_geofence=None if distance is None else "outside_geofence" not in flags,
        method=method, note=(form.note.data or "").strip() or None, photo_id=photo.id if photo else None,
        flags=",".join(flags), client_id=form.client_id.data, via=via, recorded_at=recorded_at,
        received_at=received_at, local_day=local_day_of(recorded_at), in_window=in_window(point, recorded_at),
    )


def record_check_in(user, form, *, via: str = "online", commit: bool = True) -> records.Outcome:
    """Record a validated check-in once per client_id; never refused for distance, only flagged.

    The officer is always `user`. A forged or foreign QR code or another station's point is
    rejected with the field's message, before anything is saved.
    """
    if user.role not in CHECKIN_ROLES:
        return records.Outcome(records.REJECTED, errors={"client_id": [_("Your role may not record check-ins.")]})
    point, method, errors = _resolve_point(user, form)
    if errors:
        return records.Outcome(records.REJECTED, errors=errors)
    return records.save_once(user, "checkin", form, lambda: _build_check_in(user, form, point, method, via),
                             commit=commit)


# --- seeing check-ins ------------------------------------------------------------------------------

@dataclass
class PointStatus:
    """One required point on the officer's today list."""

    point: PatrolPoint
    required: int
    done: int
    outside_window: int

    @property
    def missing(self) -> int:
        return max(self.required - self.done, 0)


def done_counts():
    """Columns counting check-ins that satisfy a point (in its window, or it has none) and those that don't."""
    done = func.sum(case((CheckIn.in_window.is_(False), 0), else_=1))
    outside = func.sum(case((CheckIn.in_window.is_(False), 1), else_=0))
    return done, outside


def today_status(user, day: date | None = None) -> list[PointStatus]:
    """The officer's required points for a local day, with done and missing: two queries."""
    day = day or datetime.now(LOCAL_TZ).date()
    points = [p for p in check_in_points(user) if p.required_per_day > 0]
    done, outside = done_counts()
    counts = {row.point_id: row for row in db.session.execute(
        select(CheckIn.point_id, done.label("done"), outside.label("outside"))
        # station_id + local_day: the (station, day) index narrows to one day before the officer filter.
        .where(CheckIn.station_id == user.station_id, CheckIn.local_day == day, CheckIn.officer_id == user.id,
               CheckIn.point_id.is_not(None))
        .group_by(CheckIn.point_id))}
    result = []
    for point in points:
        row = counts.get(point.id)
        result.append(PointStatus(point, point.required_per_day, min(int(row.done), point.required_per_day)
                                  if row else 0, int(row.outside) if row else 0))
    return result


def history(user, page: int = 1) -> tuple[list[CheckIn], bool]:
    """A page of the officer's own check-ins, newest first, and whether an older page exists."""
    page = max(page, 1)
    rows = list(db.session.scalars(
        select(CheckIn).options(joinedload(CheckIn.point)).where(CheckIn.officer_id == user.id)
        .order_by(CheckIn.recorded_at.desc(), CheckIn.id.desc())
        .offset((page - 1) * HISTORY_PAGE_SIZE).limit(HISTORY_PAGE_SIZE + 1)))
    return rows[:HISTORY_PAGE_SIZE], len(rows) > HISTORY_PAGE_SIZE


def latest_check_in_id(station_id: int, day: date | None = None) -> int:
    """The newest check-in id of the station's local day (0 when none): the feed's cheap change check."""
    day = day or datetime.now(LOCAL_TZ).date()
    return db.session.scalar(select(func.max(CheckIn.id)).where(
        CheckIn.station_id == station_id, CheckIn.local_day == day)) or 0


@dataclass(slots=True)
class Named:
    name: str


@dataclass(slots=True)
class FeedLine:
    """One check-in of the live feed, read as columns: what checkin_row() and the map show, with the
    officer and point as plain names (no ORM objects: three per line, 150 for a full feed)."""

    id: int
    recorded_at: datetime
    method: str
    distance_m: float | None
    within_geofence: bool | None
    accuracy_m: float | None
    in_window: bool | None
    via: str
    flags: str
    photo_id: int | None
    note: str | None
    lat: float | None
    lon: float | None
    officer: Named
    point: Named | None

    @property
    def flag_list(self) -> list[str]:
        return [f for f in self.flags.split(",") if f]


_FEED_COLUMNS = (CheckIn.id, CheckIn.recorded_at, CheckIn.method, CheckIn.distance_m, CheckIn.within_geofence,
                 CheckIn.accuracy_m, CheckIn.in_window, CheckIn.via, CheckIn.flags, CheckIn.photo_id, CheckIn.note,
                 CheckIn.lat, CheckIn.lon)


def feed(station_id: int, day: date | None = None) -> list[FeedLine]:
    """The station's check-ins of a local day, newest first (the command room's live list)."""
    from models import User

    day = day or datetime.now(LOCAL_TZ).date()
    rows = db.session.execute(
        select(*_FEED_COLUMNS, User.name, PatrolPoint.name)
        .join(User, User.id == CheckIn.officer_id).outerjoin(PatrolPoint, PatrolPoint.id == CheckIn.point_id)
        .where(CheckIn.station_id == station_id, CheckIn.local_day == day)
        .order_by(CheckIn.received_at.desc(), CheckIn.id.desc()).limit(FEED_SIZE))
    return [FeedLine(*row[:-2], officer=Named(row[-2]), point=Named(row[-1]) if row[-1] is not None else None)
            for row in rows]


def map_markers(check_ins, crs: str) -> list[dict]:
    """Positions for the map, converted to GCJ-02 when the tiles need it (stored data stays WGS-84)."""
    from domain.geo import wgs84_to_gcj02

    markers = []
    for c in check_ins:
        if c.lat is None:
            continue
        lat, lon = wgs84_to_gcj02(c.lat, c.lon) if crs == "gcj02" else (c.lat, c.lon)
        markers.append({"id": c.id, "lat": lat, "lon": lon, "flagged": bool(c.flags),
                        "label": f"{c.officer.name} · {c.point.name if c.point else '—'} · "
                                 f"{c.recorded_at.astimezone(LOCAL_TZ):%H:%M}"})
    return markers


def check_in_for(user, check_in_id: int) -> CheckIn | None:
    """A check-in this user may see: their own, or any of the station for station-wide roles."""
    check_in = db.session.get(CheckIn, check_in_id)
    if check_in is None or check_in.station_id != user.station_id:
        return None
    if check_in.officer_id != user.id and not user.sees_whole_station:
        return None
    return check_in


# --- home page counts ------------------------------------------------------------------------------

def officer_counts(user, start: datetime, end: datetime) -> dict:
    """The officer's check-ins today and the required points still to do."""
    day = local_day_of(start)
    mine = db.session.scalar(select(func.count(CheckIn.id)).where(
        CheckIn.station_id == user.station_id, CheckIn.local_day == day, CheckIn.officer_id == user.id)) or 0
    return {"checkins_today": mine, "points_missing": sum(s.missing for s in today_status(user, day))}


def station_counts(user, start: datetime, end: datetime) -> dict:
    """The station's check-ins, flagged check-ins and officers on patrol today; active points."""
    day = local_day_of(start)
    row = db.session.execute(
        select(func.count(CheckIn.id), func.sum(case((CheckIn.flags != "", 1), else_=0)),
               func.count(func.distinct(CheckIn.officer_id)))
        .where(CheckIn.station_id == user.station_id, CheckIn.local_day == day)).one()
    points = db.session.scalar(select(func.count(PatrolPoint.id)).where(
        PatrolPoint.station_id == user.station_id, PatrolPoint.active.is_(True))) or 0
    return {"checkins_today": row[0] or 0, "flagged_today": int(row[1] or 0), "officers_active": row[2] or 0,
            "points_active": points}
