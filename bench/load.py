"""Pingan under load: `.venv/bin/python bench/load.py [options]` (see bench/README.md, "Load").

A shift of officers against gunicorn: N community officers log in and check in every few seconds
(even-numbered ones with the online form, odd-numbered ones with 20-item /api/sync batches as the
offline outbox sends them; some requests are sent twice with the same client_ids, as a phone that
lost the answer does), each polls the missing-person alert check every 15 s, and M command-room
users keep the dashboard open (full page, then its 15 s refresh poll). At the end it prints
requests/s and p50/p95/p99 per endpoint, and checks in the database that every client_id sent
exists exactly once as a SyncReceipt and as a CheckIn.

Exit status 1 on any error (an unexpected status, a transport error, a rejected item) or any lost or
duplicated client_id, so `--smoke` can gate CI. A 503 with Retry-After (SQLite busy) is not an error:
the client waits as the outbox does and sends again; 503s are counted and reported.
"""
import argparse
import asyncio
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx

import measure
import serve

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/pingan_load"
REDIS_URL = "redis://127.0.0.1:6379/12"  # the load test's own Redis database: only it is flushed
SYNC_HEADERS = {"X-Requested-With": "pingan-sync"}
BATCH_SIZE = 20
ALERT_PERIOD_S = 15.0  # the officer's alert check
DASHBOARD_PERIOD_S = 15.0  # the command room screen's refresh poll (blueprints/command REFRESH_SECONDS)
REPEAT_SHARE = 0.15  # share of check-ins/batches sent a second time with the same client_ids
MAX_SENDS = 6  # a request is sent at most this often (503 + Retry-After, or a transport error)
HTTP_TIMEOUT_S = 30.0
LIVE_RE = re.compile(r'hx-get="(/command/live\?v=[^"]+)"')
# The markers' format the page's command.js reads (js/command.js?v=N): the script sends it with each
# htmx request, and a screen without it is told to reload (HX-Refresh).
LAYERS_FORMAT_RE = re.compile(r'js/command\.js\?v=(\w+)"')


@dataclass
class Endpoint:
    """Latencies (ms) and statuses of one endpoint."""

    samples_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)


@dataclass
class Run:
    """Everything the simulated users observed."""

    deadline: float
    endpoints: dict[str, Endpoint] = field(default_factory=lambda: defaultdict(Endpoint))
    errors: list[str] = field(default_factory=list)
    busy: int = 0  # 503 answers (then retried after Retry-After)
    sent_ids: set[str] = field(default_factory=set)
    repeats: int = 0
    sync_results: Counter = field(default_factory=Counter)

    def error(self, message: str) -> None:
        if len(self.errors) < 1000:  # keep the first ones; the count is what matters after that
            self.errors.append(message)
        else:
            self.errors.append("...")

    async def send(self, client: httpx.AsyncClient, method: str, url: str, label: str, expect: tuple[int, ...],
                   **kwargs) -> httpx.Response | None:
        """One logical request: resent after a 503's Retry-After or a transport error, like the outbox."""
        for attempt in range(MAX_SENDS):
            started = time.perf_counter()
            try:
                response = await client.request(method, url, **kwargs)
            except httpx.HTTPError as error:
                self.error(f"{label}: {type(error).__name__} {error}")
                await asyncio.sleep(1 + attempt)
                continue
            endpoint = self.endpoints[label]
            endpoint.samples_ms.append((time.perf_counter() - started) * 1000)
            endpoint.statuses[response.status_code] += 1
            if response.status_code == 503 and response.headers.get("Retry-After"):
                self.busy += 1
                await asyncio.sleep(min(float(response.headers["Retry-After"]), 10))
                continue
            if response.status_code not in expect:
                self.error(f"{label}: HTTP {response.status_code} {response.text[:200]!r}")
                return None
            return response
        self.error(f"{label}: gave up after {MAX_SENDS} sends")
        return None


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def checkin_data(point: dict | None, rng: random.Random) -> dict:
    """A check-in near the officer's point (a few metres of GPS noise), or a bare position."""
    lat, lon = (point["lat"], point["lon"]) if point else (35.7986, 112.9237)
    data = {"lat": round(lat + rng.uniform(-5e-5, 5e-5), 6), "lon": round(lon + rng.uniform(-5e-5, 5e-5), 6),
            "accuracy": 12.0}
    if point:
        data["point_id"] = point["id"]
    return data


async def login(run: Run, client: httpx.AsyncClient, username: str) -> bool:
    page = await run.send(client, "GET", "/auth/login", "GET /auth/login", (200,))
    if page is None:
        return False
    response = await run.send(client, "POST", "/auth/login", "POST /auth/login", (302, 303),
                              data={"login": username, "password": measure.DEMO_PASSWORD,
                                    "csrf_token": measure.csrf_token(page.text)})
    return response is not None


async def sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


async def officer(run: Run, base_url: str, spec: dict, index: int, args, start_at: float) -> None:
    """One officer's shift: log in, open the check-in page, then check in and poll alerts until the end."""
    rng = random.Random(args.seed * 1000 + index)
    online = index % 2 == 0
    await sleep_until(start_at)
    async with httpx.AsyncClient(base_url=base_url, timeout=HTTP_TIMEOUT_S) as client:
        if not await login(run, client, spec["username"]):
            return
        page = await run.send(client, "GET", "/patrol/check-in", "GET /patrol/check-in", (200,))
        if page is None:
            return
        token = measure.csrf_token(page.text)
        next_checkin = time.monotonic() + rng.uniform(0, args.interval)
        next_alert = time.monotonic() + rng.uniform(0, ALERT_PERIOD_S)
        etag = None
        while True:
            moment = min(next_checkin, next_alert)
            if moment >= run.deadline:
                return
            await sleep_until(moment)
            if next_alert <= next_checkin:
                etag = await poll_alerts(run, client, args.alerts_path, etag)
                next_alert += ALERT_PERIOD_S
                continue
            if online:
                await online_checkin(run, client, token, spec["point"], rng)
            else:
                await sync_batch(run, client, base_url, spec["point"], rng)
            next_checkin = time.monotonic() + rng.uniform(0.5, 1.5) * args.interval


async def poll_alerts(run: Run, client: httpx.AsyncClient, path: str, etag: str | None) -> str | None:
    headers = {"If-None-Match": etag} if etag else {}
    response = await run.send(client, "GET", path, f"GET {path}", (200, 304), headers=headers)
    return response.headers.get("ETag", etag) if response is not None else etag


async def online_checkin(run: Run, client: httpx.AsyncClient, token: str, point: dict | None,
                         rng: random.Random) -> None:
    """The check-in form as htmx posts it; sometimes posted twice (the answer was lost)."""
    client_id = str(uuid.uuid4())
    form = {"csrf_token": token, "client_id": client_id, "recorded_at": now_iso(), **checkin_data(point, rng)}
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    run.sent_ids.add(client_id)
    sends = 2 if rng.random() < REPEAT_SHARE else 1
    for _ in range(sends):
        await run.send(client, "POST", "/patrol/check-ins", "POST /patrol/check-ins", (200, 303),
                       data=form, headers=headers)
    run.repeats += sends - 1


async def sync_batch(run: Run, client: httpx.AsyncClient, base_url: str, point: dict | None,
                     rng: random.Random) -> None:
    """A 20-item outbox flush; sometimes sent twice with the same client_ids."""
    items = [{"client_id": str(uuid.uuid4()), "kind": "checkin", "recorded_at": now_iso(),
              "data": checkin_data(point, rng)} for _ in range(BATCH_SIZE)]
    body = {"device_id": "load-" + uuid.UUID(int=rng.getrandbits(128)).hex[:8], "items": items}
    run.sent_ids.update(item["client_id"] for item in items)
    sends = 2 if rng.random() < REPEAT_SHARE else 1
    for _ in range(sends):
        response = await run.send(client, "POST", "/api/sync", f"POST /api/sync ({BATCH_SIZE} items)", (200,),
                                  json=body, headers={**SYNC_HEADERS, "Origin": base_url})
        if response is None:
            continue
        results = response.json()["results"]
        if [r["client_id"] for r in results] != [item["client_id"] for item in items]:
            run.error("POST /api/sync: results do not match the items sent")
        for result in results:
            run.sync_results[result["status"]] += 1
            if result["status"] not in ("created", "duplicate"):
                run.error(f"POST /api/sync: item {result['status']}: {result.get('errors')}")
    run.repeats += sends - 1


async def commander(run: Run, base_url: str, spec: dict, index: int, args, start_at: float) -> None:
    """A command-room user: the dashboard, then its refresh poll every 15 s (a full reload every 4th)."""
    rng = random.Random(args.seed * 1000 + 900 + index)
    await sleep_until(start_at)
    async with httpx.AsyncClient(base_url=base_url, timeout=HTTP_TIMEOUT_S) as client:
        if not await login(run, client, spec["username"]):
            return
        path, live, etag, layers_format = args.dashboard_path, None, None, ""
        moment, rounds = time.monotonic() + rng.uniform(0, DASHBOARD_PERIOD_S), 0
        while moment < run.deadline:
            await sleep_until(moment)
            if live is None or rounds % 4 == 0:
                page = await run.send(client, "GET", path, f"GET {path}", (200,))
                match = LIVE_RE.search(page.text) if page is not None else None
                live = match.group(1).replace("&amp;", "&") if match else None
                script = LAYERS_FORMAT_RE.search(page.text) if page is not None else None
                layers_format = script.group(1) if script else layers_format
            else:
                headers = {"HX-Request": "true", "X-Pingan-Layers": layers_format,
                           **({"If-None-Match": etag} if etag else {})}
                response = await run.send(client, "GET", live, "GET /command/live (htmx poll)", (200, 204, 304),
                                          headers=headers)
                if response is not None and response.headers.get("HX-Refresh"):
                    live = None  # told to reload, as the browser does: the page again next round
                elif response is not None:
                    etag = response.headers.get("ETag", etag)
                    match = LIVE_RE.search(response.text) if response.status_code == 200 else None
                    live = match.group(1).replace("&amp;", "&") if match else live
            rounds += 1
            moment += DASHBOARD_PERIOD_S


async def drive(base_url: str, users: dict, args) -> tuple[Run, float]:
    """Run every simulated user until the deadline; logins are spread over the ramp-up."""
    started = time.monotonic()
    run = Run(deadline=started + args.duration)
    officers, commanders = users["officers"], users["commanders"]
    ramp = min(args.ramp, args.duration / 3)
    step = ramp / max(1, len(officers) + len(commanders))
    tasks = [officer(run, base_url, spec, i, args, started + i * step) for i, spec in enumerate(officers)]
    tasks += [commander(run, base_url, spec, i, args, started + (len(officers) + i) * step)
              for i, spec in enumerate(commanders)]
    await asyncio.gather(*tasks)
    return run, time.monotonic() - started


# --- databases and servers ------------------------------------------------------------------------

def postgres_admin(url: str, *statements: str) -> None:
    """Run statements on the server's `postgres` database (CREATE/DROP DATABASE need autocommit)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def analyze(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
    finally:
        engine.dispose()


def database_name(url: str) -> str:
    from sqlalchemy.engine import make_url

    name = make_url(url).database or ""
    if "load" not in name or not re.fullmatch(r"[a-z0-9_]+", name):
        raise SystemExit(f"refusing database {name!r}: the load test creates and drops it, so its name "
                         "must contain 'load' (e.g. pingan_load)")
    return name


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # database 12 only


def helper(env: dict, *args: str) -> None:
    completed = subprocess.run([sys.executable, str(BENCH_DIR / "load_db.py"), *args], cwd=serve.REPO, env=env,
                               capture_output=True, text=True, timeout=900)
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit(f"bench/load_db.py {args[0]} failed")


def route_exists(env: dict, path: str) -> bool:
    """Whether the app has a route for `path` (checked in a child process: no app import here)."""
    code = ("import sys; sys.path.insert(0, '.'); from app import create_app; a = create_app(); "
            f"a.url_map.bind('x').match({path!r}); print('yes')")
    completed = subprocess.run([sys.executable, "-c", code], cwd=serve.REPO, env=env, capture_output=True,
                               text=True, timeout=120)
    return completed.stdout.strip().endswith("yes")


# --- report ---------------------------------------------------------------------------------------

def report(args, run: Run, elapsed: float, users: dict, verdict: dict, load: tuple, cpu_s: float) -> str:
    total = sum(len(e.samples_ms) for e in run.endpoints.values())
    lines = [
        f"# Pingan load test — {datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        "",
        f"Command: `{' '.join([Path(sys.executable).name, 'bench/load.py', *sys.argv[1:]])}`  ",
        f"Database: {users['version']} ({users['dialect']}{', WAL' if users['dialect'] == 'sqlite' else ''}); "
        f"Redis: {'db 12' if args.redis else 'none (memory rate limits)'}; gunicorn {args.workers} sync workers; "
        f"demo data scale {args.scale}  ",
        f"Users: {len(users['officers'])} officers (half online POST, half {BATCH_SIZE}-item sync batches, "
        f"one check-in every ~{args.interval:g} s each, {REPEAT_SHARE:.0%} sent twice), "
        f"{len(users['commanders'])} command-room users; {elapsed:.0f} s  ",
        f"Machine: {os.cpu_count()} CPUs, load average {', '.join(f'{x:.2f}' for x in load)} at start, "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())} at the end; the load generator used {cpu_s:.1f} s CPU",
        "",
        "| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | statuses |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for label, endpoint in sorted(run.endpoints.items()):
        samples = endpoint.samples_ms
        statuses = ", ".join(f"{code}×{n}" for code, n in sorted(endpoint.statuses.items()))
        lines.append(f"| `{label}` | {len(samples)} | {len(samples) / elapsed:.2f} | "
                     f"{measure.percentile(samples, 50):.1f} | {measure.percentile(samples, 95):.1f} | "
                     f"{measure.percentile(samples, 99):.1f} | {max(samples):.1f} | {statuses} |")
    lines += [
        f"| **all** | {total} | {total / elapsed:.2f} | | | | | |",
        "",
        f"Check-ins sent: {len(run.sent_ids)} distinct client_ids ({run.repeats} requests repeated with the same "
        f"ids); sync item results: {dict(sorted(run.sync_results.items()))}.  ",
        f"503 busy answers (retried after Retry-After): {run.busy}.  ",
        f"**Errors: {len(run.errors)}**" + ("" if not run.errors else " — first: " + "; ".join(run.errors[:5])),
        "",
        f"Database check: {verdict['receipts']} SyncReceipt rows and {verdict['check_ins']} CheckIn rows for "
        f"{verdict['sent']} client_ids sent; missing receipt {len(verdict['missing_receipt'])}, missing check-in "
        f"{len(verdict['missing_check_in'])}, duplicated {len(verdict['duplicate_receipt'])}/"
        f"{len(verdict['duplicate_check_in'])}, unexpected {len(verdict['unexpected'])}, receipt ≠ check-in "
        f"{len(verdict['receipt_not_pointing_at_its_check_in'])}: **{'every client_id exactly once' if verdict['ok'] else 'FAIL'}**",
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--db-url", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_PG_URL),
                        help="PostgreSQL database to create, use and drop (its name must contain 'load')")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument("--officers", type=int, default=50)
    parser.add_argument("--commanders", type=int, default=3)
    parser.add_argument("--interval", type=float, default=5.0, help="mean seconds between an officer's check-ins")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--scale", choices=["small", "station"], default="small")
    parser.add_argument("--ramp", type=float, default=20.0, help="seconds over which users log in")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--smoke", action="store_true",
                        help="CI: SQLite, 30 s, 10 officers, 2 workers, no Redis")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.smoke:
        args.db, args.duration, args.officers, args.workers, args.ramp = "sqlite", 30.0, 10, 2, 5.0
    args.redis = args.db == "postgres"
    args.out = args.out or OUT_DIR / f"load-{args.db}.md"
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    load_at_start = os.getloadavg()
    OUT_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pingan-load-") as tmp:
        workdir = Path(tmp)
        (workdir / "uploads").mkdir()
        pg_name = None
        if args.db == "postgres":
            db_url = serve.normalise_db_url(args.db_url)
            pg_name = database_name(db_url)
            postgres_admin(db_url, f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)", f"CREATE DATABASE {pg_name}")
        else:
            db_url = "sqlite:///" + str(workdir / "load.db")
        try:
            env = serve.app_env(db_url, workdir / "uploads")
            if args.redis:
                env["REDIS_URL"] = REDIS_URL
                flush_redis()
            print(f"seeding ({args.scale}) on {args.db} ...", flush=True)
            serve.flask_cli(env, "db", "upgrade")
            serve.flask_cli(env, "demo", "seed", "--scale", args.scale, "--seed", str(args.seed))
            helper(env, "setup", str(args.officers), str(args.commanders), str(workdir / "users.json"))
            if args.db == "postgres":
                analyze(db_url)  # statistics, as autovacuum would gather them on a real station
            users = json.loads((workdir / "users.json").read_text())
            args.alerts_path = "/missing/alerts" if route_exists(env, "/missing/alerts") else "/healthz"
            args.dashboard_path = "/command/" if route_exists(env, "/command/") else "/"
            log_path = OUT_DIR / f"load-{args.db}-gunicorn.log"
            log_path.write_text("")
            cpu_before = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
            with serve.Gunicorn(env, log_path, workers=args.workers) as server:
                print(f"{args.officers} officers + {args.commanders} command room for {args.duration:g} s "
                      f"on {server.base_url} ...", flush=True)
                run, elapsed = asyncio.run(drive(server.base_url, users, args))
            cpu_s = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu_before
            (workdir / "sent.json").write_text(json.dumps({"client_ids": sorted(run.sent_ids)}))
            helper(env, "verify", str(workdir / "sent.json"), str(workdir / "verdict.json"))
            verdict = json.loads((workdir / "verdict.json").read_text())
        finally:
            if pg_name:
                postgres_admin(db_url, f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")
            if args.redis:
                flush_redis()
    text = report(args, run, elapsed, users, verdict, load_at_start, cpu_s)
    print("\n" + text)
    args.out.write_text(text)
    print(f"written to {args.out}")
    failed = bool(run.errors) or not verdict["ok"] or not run.sent_ids
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
