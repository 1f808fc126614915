"""Time one page in-process, and optionally profile it: the quick loop while making a page faster.

    .venv/bin/python bench/profile_page.py --db /tmp/station.db --seed        # once: a station-scale DB
    .venv/bin/python bench/profile_page.py --db /tmp/station.db command /command/ [-n 100] [--profile]
    .venv/bin/python bench/profile_page.py --db /tmp/station.db --sql officer "/residents/?q=zw"
    .venv/bin/python bench/profile_page.py --db /tmp/station.db --post checkin [--profile]  # or visit

No gunicorn, no TCP: the Flask test client logged in through the real form, each request timed
with perf_counter. It prints the median and p95 of the page and of /healthz (the yardstick) in
the same process. In-process figures are lower than bench/run.py's (which pays gunicorn and a TCP
connect, about 2.5 ms per request on these machines); the budget that counts is bench/run.py's.
--profile prints cProfile's top functions by cumulative time; --sql prints each statement of one
warm request with its time. --post times the officer's online check-in or visit form as
bench/run.py posts it (htmx, a fresh client_id each time); each timed POST saves a record.
"""
import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
sys.path.insert(0, str(BENCH_DIR))

import serve  # noqa: E402
from measure import checkin_fields, csrf_token, follow_hx_redirect, visit_fields  # noqa: E402
from queries import login, officer_point, officer_resident  # noqa: E402
from run import CHECKIN_POST_URL, ROLE_LOGINS, VISIT_POST_URL  # noqa: E402


def summary(samples: list[float], cpu: list[float], status) -> tuple[float, float, int, float]:
    """Median and p95 of the wall times, the last status, and the median CPU time of this process
    (steadier than the wall clock while something else runs on the machine; it leaves out the
    time waited for the disk)."""
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)], status, statistics.median(cpu)


def timed(client, path: str, headers: dict, n: int) -> tuple[float, float, int, float]:
    """Median and p95 in ms of n requests, the last status, and the median CPU ms."""
    samples, cpu, status = [], [], None
    for _ in range(n):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        status = response.status_code
    return summary(samples, cpu, status)


def timed_posts(client, path: str, make_fields, n: int) -> tuple[float, float, int, float]:
    """timed() for n form POSTs as htmx sends them."""
    token = csrf_token(client.get("/me").get_data(as_text=True))
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    samples, cpu, status = [], [], None
    for _ in range(n):
        form = {**make_fields(), "csrf_token": token}
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.post(path, data=form, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        status = response.status_code
        follow_hx_redirect(client, response)
    return summary(samples, cpu, status)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="SQLite file (or a database URL)")
    parser.add_argument("--seed", action="store_true", help="create the DB: upgrade + station seed")
    parser.add_argument("--scale", default="station")
    parser.add_argument("-n", type=int, default=100, help="timed requests (default 100)")
    parser.add_argument("--profile", action="store_true", help="cProfile the timed requests")
    parser.add_argument("--sql", action="store_true", help="print one warm request's statements")
    parser.add_argument("--htmx", action="store_true", help="send HX-Request: true")
    parser.add_argument("--post", choices=("checkin", "visit"), help="time the officer's online form POST")
    parser.add_argument("role", nargs="?", choices=sorted(ROLE_LOGINS))
    parser.add_argument("path", nargs="?")
    args = parser.parse_args(argv)

    db_url = args.db if "://" in args.db else "sqlite:///" + str(Path(args.db).resolve())
    env = serve.app_env(serve.normalise_db_url(db_url), Path(tempfile.mkdtemp(prefix="pingan-prof-")))
    if args.seed:
        if db_url.startswith("sqlite:///") and Path(db_url[10:]).exists():
            Path(db_url[10:]).unlink()
        times = serve.prepare_database(env["DATABASE_URL"], env, args.scale)
        print(f"seeded {args.scale}: upgrade {times.upgrade_s:.1f} s, seed {times.seed_s:.1f} s")
        if not args.path:
            return
    os.environ.update(env)

    from sqlalchemy import event

    from app import create_app
    from extensions import db

    app = create_app()
    if args.post:
        args.role = "officer"
        if args.post == "checkin":
            point = officer_point(app, ROLE_LOGINS["officer"])
            args.path, make_fields = CHECKIN_POST_URL, lambda: checkin_fields(point)
        else:
            subject = officer_resident(app, ROLE_LOGINS["officer"])
            args.path, make_fields = VISIT_POST_URL, lambda: visit_fields(subject)
    client = login(app, ROLE_LOGINS[args.role])
    headers = {"HX-Request": "true"} if args.htmx else {}
    if args.post:
        print(f"officer POST {args.path}: HTTP {timed_posts(client, args.path, make_fields, 3)[2]}")
    else:
        warm = client.get(args.path, headers=headers)
        print(f"{args.role} {args.path}: HTTP {warm.status_code}, {len(warm.data)} bytes")

    if args.sql:
        statements = []

        def before(conn, cursor, statement, parameters, context, executemany):
            context._started = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, executemany):
            statements.append(((time.perf_counter() - context._started) * 1000, statement))

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        if args.post:
            timed_posts(client, args.path, make_fields, 1)
        else:
            client.get(args.path, headers=headers)
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        for ms, statement in statements:
            print(f"--- {ms:7.2f} ms\n{' '.join(statement.split())[:600]}")
        print(f"=== {len(statements)} statements, {sum(ms for ms, _ in statements):.2f} ms in SQL")

    health_client = app.test_client()
    timed(health_client, "/healthz", {}, 20)
    health = timed(health_client, "/healthz", {}, args.n)
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    page = timed_posts(client, args.path, make_fields, args.n) if args.post else timed(client, args.path, headers, args.n)
    if profiler:
        profiler.disable()
    print(f"/healthz      median {health[0]:6.2f} ms  p95 {health[1]:6.2f} ms  cpu {health[3]:6.2f} ms")
    print(f"{args.path[:40]:<13} median {page[0]:6.2f} ms  p95 {page[1]:6.2f} ms  cpu {page[3]:6.2f} ms  "
          f"(x{page[0] / health[0]:.1f} in-process; HTTP {page[2]})")
    if profiler:
        stats = pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative"))
        stats.print_stats(int(os.environ.get("PROFILE_ROWS", "35")))
        if os.environ.get("PROFILE_CALLERS"):  # who calls a function, e.g. PROFILE_CALLERS=_parse
            stats.print_callers(os.environ["PROFILE_CALLERS"])


if __name__ == "__main__":
    main()
