"""The station-wide alert: a per-station version number every phone's banner poll compares.

Every case change bumps the station's AlertState row in the same transaction (so a poll can never
see the new version with the old data). With REDIS_URL set the committed version is copied to
Redis too and polls read it there (no database round trip for "nothing changed"); every gunicorn
worker reads the same Redis key or the same row, so all workers agree on the version.
"""
import logging

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from domain.geo import distance_m, valid_position
from extensions import db
from models import utcnow
from models.missing import OPEN, AlertState, MissingPersonCase

log = logging.getLogger(__name__)
REDIS_KEY = "pingan:missing:alert:{station_id}"
# Keep the newer version only: two workers may copy their versions to Redis in either order.
_SET_IF_NEWER = """
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '-1')
if tonumber(ARGV[1]) > current then
  redis.call('HSET', KEYS[1], 'v', ARGV[1], 'open', ARGV[2])
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""
# A copy in Redis lives a minute: a publish lost while Redis was down heals from the database.
REDIS_TTL_S = 60
POSITION_DECIMALS = 3  # ~100 m: the distance shown is rounded anyway, and a still phone stays 304


def redis_client():
    """The app's Redis connection for alerts, or None without REDIS_URL (created once per app)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get("missing_alerts_redis")
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        current_app.extensions["missing_alerts_redis"] = client
    return client


def bump(station_id: int) -> None:
    """Mark a change of the station's cases (inside the caller's transaction; it commits)."""
    open_cases = db.session.scalar(select(func.count(MissingPersonCase.id)).where(
        MissingPersonCase.station_id == station_id, MissingPersonCase.status == OPEN)) or 0
    now = utcnow()
    result = db.session.execute(update(AlertState).where(AlertState.station_id == station_id).values(
        version=AlertState.version + 1, open_cases=open_cases, changed_at=now).execution_options(
        synchronize_session=False))
    if result.rowcount == 0:
        try:
            with db.session.begin_nested():
                db.session.add(AlertState(station_id=station_id, version=1, open_cases=open_cases, changed_at=now))
        except IntegrityError:  # another request created the row a moment ago
            db.session.execute(update(AlertState).where(AlertState.station_id == station_id).values(
                version=AlertState.version + 1, open_cases=open_cases, changed_at=now))


def publish(station_id: int) -> None:
    """After the commit: copy the station's version to Redis (when configured) for every worker."""
    client = redis_client()
    if client is None:
        return
    state = db.session.get(AlertState, station_id)
    if state is None:
        return
    try:
        client.eval(_SET_IF_NEWER, 1, REDIS_KEY.format(station_id=station_id), state.version, state.open_cases,
                    REDIS_TTL_S)
    except Exception as error:  # Redis down: polls fall back to the database (see current())
        log.warning("missing alerts: could not publish to Redis: %s", error)


def current(station_id: int) -> tuple[int, int]:
    """(version, open cases) of the station: from Redis when configured, else one primary-key read."""
    client = redis_client()
    key = REDIS_KEY.format(station_id=station_id)
    if client is not None:
        try:
            version, open_cases = client.hmget(key, "v", "open")
            if version is not None:
                return int(version), int(open_cases or 0)
        except Exception as error:
            log.warning("missing alerts: Redis unreachable, reading the database: %s", error)
            client = None
    state = db.session.get(AlertState, station_id)
    version, open_cases = (state.version, state.open_cases) if state else (0, 0)
    if client is not None and state is not None:  # a flushed or restarted Redis: fill it again
        try:
            client.eval(_SET_IF_NEWER, 1, key, version, open_cases, REDIS_TTL_S)
        except Exception:
            pass
    return version, open_cases


def position(lat, lon) -> tuple[float, float] | None:
    """The browser's position from the query string, rounded to ~100 m; None when absent or unusable."""
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        return None
    if not valid_position(lat, lon):
        return None
    return round(lat, POSITION_DECIMALS), round(lon, POSITION_DECIMALS)


def etag(station_id: int, version: int, open_cases: int, locale: str, where) -> str:
    """The banner's tag: the version, the language, and the rounded position while a case is open."""
    spot = f"{where[0]:.3f},{where[1]:.3f}" if where and open_cases else "-"
    return f'W/"alerts-{station_id}-{version}-{locale}-{spot}"'


def distance_from(case: MissingPersonCase, where) -> float | None:
    """Metres from the browser to the last-seen place (geopy great circle); None without both positions."""
    if where is None or case.last_seen_lat is None or case.last_seen_lon is None:
        return None
    return distance_m(where[0], where[1], case.last_seen_lat, case.last_seen_lon)
