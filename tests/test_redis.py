"""With REDIS_URL the login rate limit is shared through Redis (as gunicorn workers need)."""
import os

import pytest

from app import create_app
from config import TestConfig
from tests.conftest import AuthActions

REDIS_URL = os.environ.get("TEST_REDIS_URL")


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL not set (CI sets it)")
def test_login_limit_is_shared_between_two_app_processes(app, station):
    """Two app instances (two workers) on one Redis count failed logins together."""
    import redis

    server = redis.Redis.from_url(REDIS_URL)
    server.flushdb()  # this database number is the suite's own
    config = {**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
              "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "RATELIMIT_STORAGE_URI": REDIS_URL}
    worker_a, worker_b = create_app(config), create_app(config)
    try:
        for _ in range(3):
            AuthActions(worker_a.test_client()).login("demo-officer", "bad-password")
        for _ in range(2):
            AuthActions(worker_b.test_client()).login("demo-officer", "bad-password")
        assert AuthActions(worker_b.test_client()).login("demo-officer", "bad-password").status_code == 429
        assert server.dbsize() > 0
    finally:
        server.flushdb()
