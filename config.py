"""Configuration, read from the environment. SQLite in instance/ is the default."""
import os
from datetime import timedelta

DEFAULT_SECRET = "dev-only-change-me"


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.lower() in {"1", "true", "yes", "on"}


def database_url(url: str | None) -> str | None:
    """Accept the usual postgres:// and postgresql:// forms and use psycopg 3 for them."""
    if not url:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    """Settings for `make run` and production; production overrides through the environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET)
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))  # None: SQLite in instance/
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL")
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    # Demo mode seeds a demo station on an empty database; production must switch it off.
    DEMO = _bool("PINGAN_DEMO", True)
    PRODUCTION = _bool("PINGAN_PRODUCTION", False)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)  # True behind HTTPS
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=int(os.environ.get("SESSION_HOURS", "12")))
    # Photos are sent as file parts, never as base64 form fields.
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = 8 * 3600  # one shift; offline queues use /api/sync, not the token
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_Hans_CN", "en")
    # Map tiles: WGS-84 OSM-style by default; GCJ-02 tiles (Amap/Tencent) set MAP_TILE_CRS=gcj02.
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")
    MAP_TILE_CRS = os.environ.get("MAP_TILE_CRS", "wgs84")
    COMMAND_ROOM_PHONE = os.environ.get("COMMAND_ROOM_PHONE", "110")
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER")  # None: instance/uploads
    TESTING = False


class TestConfig(Config):
    """Settings for the test suite: fast hashing, CSRF on (tests send the token), no seeding."""

    TESTING = True
    DEMO = False
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = "sqlite://"  # tests/conftest.py picks SQLite or TEST_DATABASE_URL
    RATELIMIT_STORAGE_URI = "memory://"
    LOGIN_RATE_LIMIT = "5 per minute"
    WTF_CSRF_ENABLED = True
    SERVER_NAME = None
