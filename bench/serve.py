"""A throwaway database, seeded with the demo station, and gunicorn serving the app on it.

Everything here runs the project's own commands (`flask db upgrade`, `flask demo seed`, gunicorn) in
child processes, with an environment of the bench's own: nothing touches instance/ or a real
database. PostgreSQL is wiped only when the database name says it is a bench database.
"""
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
BENCH_SECRET = "pingan-bench-secret-not-for-production"
SERVER_START_TIMEOUT_S = 60  # gunicorn imports the app in each worker; a cold venv can take a while
SERVER_STOP_TIMEOUT_S = 15


@dataclass
class SeedTimes:
    """How long the schema and the demo data took, in seconds."""

    upgrade_s: float
    seed_s: float


def normalise_db_url(url: str) -> str:
    """SQLAlchemy needs the psycopg 3 driver named; accept the plain postgresql:// form too."""
    if url.startswith("postgresql://"):
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    if url.startswith("postgres://"):
        return url.replace("postgres://", "postgresql+psycopg://", 1)
    return url


def sqlite_url(workdir: Path, scale: str) -> str:
    """A fresh SQLite file per scale inside the bench's temporary directory."""
    return "sqlite:///" + str(workdir / f"bench-{scale}.db")


def app_env(db_url: str, upload_dir: Path) -> dict:
    """The environment every child process (flask CLI, gunicorn, query counter) runs with."""
    env = dict(os.environ)
    for name in ("REDIS_URL", "PINGAN_PRODUCTION", "SESSION_COOKIE_SECURE"):
        env.pop(name, None)  # memory rate limits, plain http on 127.0.0.1
    env.update(
        FLASK_APP="app:create_app",
        DATABASE_URL=db_url,
        PINGAN_DEMO="1",
        SECRET_KEY=BENCH_SECRET,
        UPLOAD_FOLDER=str(upload_dir),
        # The bench logs in a few times per run and per process; the real limit is tested elsewhere.
        LOGIN_RATE_LIMIT="1000 per minute",
        PYTHONUNBUFFERED="1",
    )
    return env


def wipe_postgres(db_url: str) -> None:
    """Empty a PostgreSQL bench database (drop and recreate its public schema).

    Refuses any database whose name does not contain "bench": the harness must never empty a real
    station's data because of a mistyped URL.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(db_url).database or ""
    if "bench" not in name:
        raise SystemExit(f"refusing to wipe database {name!r}: its name must contain 'bench' "
                         "(createdb -h 127.0.0.1 -U postgres pingan_bench)")
    engine = create_engine(db_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def flask_cli(env: dict, *args: str) -> float:
    """Run one `flask ...` command; return its wall time in seconds, fail loudly on an error."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"`flask {' '.join(args)}` failed (exit {result.returncode})")
    return elapsed


def prepare_database(db_url: str, env: dict, scale: str, seed_value: int = 1) -> SeedTimes:
    """Upgrade an empty database to head and seed the demo station at `scale`; time both."""
    if db_url.startswith("postgresql"):
        wipe_postgres(db_url)
    upgrade_s = flask_cli(env, "db", "upgrade")
    seed_s = flask_cli(env, "demo", "seed", "--scale", scale, "--seed", str(seed_value))
    if db_url.startswith("postgresql"):
        analyze_postgres(db_url)
    return SeedTimes(upgrade_s=upgrade_s, seed_s=seed_s)


def analyze_postgres(db_url: str) -> None:
    """ANALYZE the freshly seeded database, as autovacuum does on a real station.

    Without statistics PostgreSQL plans as if the tables were tiny, and this machine's server runs
    with autovacuum off, so they never appear: on 2026-11-29 /visits/plan took 1.9 s before ANALYZE
    (a BitmapAnd over all 40,000 residents for each of 1,964 addresses) and 0.16 s after. A
    station's database is analyzed by autovacuum soon after its data grows; the bench measures that.
    """
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
    finally:
        engine.dispose()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn serving `app:create_app()` on 127.0.0.1; use as a context manager so it always stops."""

    def __init__(self, env: dict, log_path: Path, workers: int = 2, preload: bool = True):
        self.env = env
        self.workers = workers
        self.preload = preload  # import the app once in the master: workers share its pages (copy-on-write)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        """Start the master and wait until /healthz answers 200."""
        command = [sys.executable, "-m", "gunicorn", "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
                   "--log-level", "warning", "--error-logfile", str(self.log_path),
                   *(["--preload"] if self.preload else []), "app:create_app()"]
        self.process = subprocess.Popen(command, cwd=REPO, env=self.env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer /healthz within {SERVER_START_TIMEOUT_S} s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """The worker processes (children of the master)."""
        import psutil

        return [child.pid for child in psutil.Process(self.process.pid).children()]

    def stop(self) -> None:
        """SIGTERM the master (graceful), SIGKILL its process group if it does not go."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # our own session: only gunicorn and its workers
            self.process.wait(timeout=5)

    def log_tail(self, lines: int = 30) -> str:
        """The end of gunicorn's error log, for a failure message."""
        if not self.log_path.exists():
            return "(no gunicorn log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
