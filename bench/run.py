"""Pingan's benchmark harness: `make bench` or `.venv/bin/python bench/run.py [options]`.

1. A fresh database (SQLite in a temp dir, or the PostgreSQL of --db-url / BENCH_DATABASE_URL),
   `flask db upgrade` and `flask demo seed --scale station --seed 1`, both timed.
2. SQL statements per page, counted in-process with the Flask test client (bench/queries.py).
3. gunicorn with 2 workers on 127.0.0.1; each demo role logs in with httpx; every page in PAGES is
   timed round-robin (median, p95) together with /healthz, and judged against the budget
   median <= 4 x /healthz median.
4. The online check-in POST and one /api/sync batch of 100 check-ins, in the same run.
5. A phone's first load (login page, officer home, and every same-origin asset they reference) in
   gzip bytes, and each gunicorn worker's resident memory after the run.
6. A Markdown table on stdout and in bench/out/latest.md.

Budgets FAIL loudly but only fail the exit code with --strict. See bench/README.md.
"""
import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import measure
import serve
from measure import Page

BENCH_DIR = Path(__file__).resolve().parent
OUT_PATH = BENCH_DIR / "out" / "latest.md"

# Who each role in PAGES logs in as (DESIGN.md "Running it"); "anonymous" has no session.
ROLE_LOGINS = {"officer": "demo-officer", "command": "demo-command", "leader": "demo-leader"}

def last_days(days: int) -> str:
    """The query string of a report over the last `days` days, today included (station time)."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return f"start={today - timedelta(days=days - 1)}&end={today}"


PHONE_AT = "lat=35.80120&lon=112.95310"  # an officer's phone about 300 m from the open case

# The pages to time: add a page with one line. A page whose route does not exist yet is skipped
# with a note ("not built yet"), so features can be listed before they land.
PAGES = [
    Page("anonymous", "/healthz"),  # the yardstick: every other page is compared with it
    Page("anonymous", "/auth/login"),
    Page("anonymous", "/manifest.webmanifest"),
    Page("officer", "/"),
    Page("command", "/"),
    Page("leader", "/"),
    Page("officer", "/me"),
    Page("officer", "/outbox"),
    Page("leader", "/admin/"),
    # Patrol check-ins (issue 3)
    Page("officer", "/patrol/check-in"),
    Page("officer", "/patrol/today"),
    Page("officer", "/patrol/history?page=2", {"HX-Request": "true"}),
    Page("command", "/patrol/feed"),
    Page("command", "/patrol/feed/items?after=0", {"HX-Request": "true"}),  # the poll, with news
    Page("command", f"/patrol/feed/items?after={2**31 - 1}", {"HX-Request": "true"}, expect=204),  # no news
    Page("command", "/patrol/points"),
    Page("command", "/patrol/report?" + last_days(31)),  # the whole station, 31 days
    # Residents and rentals (issue 4)
    Page("officer", "/residents/?q=zw", {"HX-Request": "true"}),  # active search as you type (pinyin initials)
    Page("officer", "/residents/?q=王伟", {"HX-Request": "true"}),  # a name
    Page("officer", "/residents/?q=1235", {"HX-Request": "true"}),  # a number fragment (ID or phone tail)
    Page("officer", "/rentals/"),
    Page("officer", "/rentals/?overdue=1"),  # the overdue list
    Page("command", "/rentals/compliance"),
    # Visits
    Page("officer", "/visits/plan?lat=35.7986&lon=112.9514"),  # who to visit, from grid A's centre
    Page("command", "/visits/coverage"),
    # Tasks
    Page("command", "/tasks/"),
    Page("officer", "/tasks/mine"),
    # Missing persons, with one case open (bench/open_case.py reports it after the seed; {case} is
    # its id). Every open page polls the banner with the phone's position: nothing new -> 304.
    Page("officer", "/missing/alerts", revalidate=True, expect=304),
    Page("officer", "/missing/alerts?" + PHONE_AT, revalidate=True, expect=304),
    Page("officer", "/missing/alerts?" + PHONE_AT),  # a phone that has not seen the alert: banner + distance
    Page("officer", "/missing/{case}"),  # the case page as an officer sees it (sighting form)
    Page("command", "/missing/{case}"),  # ... and the command room's (officers within 2 km)
    # Command room
    Page("command", "/command/"),
    # The screen's refresh when nothing changed; its version also moves when a task's or follow-up's
    # due time passes (the overdue counts), so over a long run a few full answers are right.
    Page("command", "/command/live", revalidate=True, expect=304, also=(200,)),
    Page("command", "/command/layers"),  # the map's markers (JSON), fetched by command.js per version
    Page("command", "/command/activity?shown=20", {"HX-Request": "true"}),  # the feed's "more" row
    Page("command", "/command/analysis?" + last_days(7), budget_ratio=10.0),  # a week
    Page("command", "/command/analysis?" + last_days(365), budget_ratio=None, budget_ms=1000.0,
         max_requests=30),  # a whole year: < 1 s
]
# Requests per second one worker answers for these pages (N clients at once against N workers).
THROUGHPUT_PAGES = (("officer", "/missing/alerts"),)
THROUGHPUT_REQUESTS = 500  # per client
HEALTHZ = "/healthz"
CHECKIN_POST_URL = "/patrol/check-ins"  # the online check-in form posts here (htmx)
VISIT_POST_URL = "/visits/"  # the online visit form posts here (htmx)
SYNC_BATCH_SIZE = 100  # the most /api/sync accepts in one envelope (DESIGN.md)
FIRST_LOAD_PAGES = (("anonymous", "/auth/login"), ("officer", "/"))

PAGE_BUDGET_RATIO = 4.0  # page median <= 4 x /healthz median
FIRST_LOAD_BUDGET_BYTES = 60_000  # 60 KB gzip, page + assets
WORKER_RSS_BUDGET_MB = 150.0
SEED_BUDGET_S = 60.0  # "well under a minute" at station scale


@dataclass
class Verdicts:
    """Every budget checked in the run, for the summary and the exit code."""

    results: list[tuple[str, bool]] = field(default_factory=list)

    def check(self, name: str, ok: bool) -> str:
        self.results.append((name, ok))
        return "PASS" if ok else "**FAIL**"

    @property
    def failures(self) -> list[str]:
        return [name for name, ok in self.results if not ok]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=("small", "station"), default=None,
                        help="demo data scale (default: station; small with --smoke)")
    parser.add_argument("--requests", type=int, default=None,
                        help="timed requests per page (default 300; 20 with --smoke)")
    parser.add_argument("--posts", type=int, default=None,
                        help="timed online check-in POSTs (default 100; 10 with --smoke)")
    parser.add_argument("--batches", type=int, default=None,
                        help="timed /api/sync batches of 100 (default 5; 1 with --smoke)")
    parser.add_argument("--db-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="PostgreSQL URL of a throwaway database whose name contains 'bench' "
                             "(default: SQLite in a temp dir)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--no-preload", dest="preload", action="store_false",
                        help="start gunicorn without --preload (each worker imports the app itself)")
    parser.add_argument("--compare-scales", action="store_true",
                        help="also seed the small scale and show queries per page at both scales")
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI: small scale, 20 requests")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any budget fails")
    parser.add_argument("--out", type=Path, default=OUT_PATH, help="where to write the Markdown report")
    parser.add_argument("--station-time", metavar="HH:MM",
                        help="run the app (seed, server) and the harness with a clock that starts at the "
                             "last HH:MM of the station (Asia/Shanghai), e.g. 22:30 for a whole day's data "
                             "when the bench runs just after the station's midnight")
    args = parser.parse_args(argv)
    args.scale = args.scale or ("small" if args.smoke else "station")
    args.requests = args.requests or (20 if args.smoke else 300)
    args.posts = args.posts or (10 if args.smoke else 100)
    args.batches = args.batches or (1 if args.smoke else 5)
    return args


# --- steps --------------------------------------------------------------------------------------

def database_url(args, workdir: Path, scale: str) -> str:
    """The database for one scale: the given PostgreSQL (wiped), or a new SQLite file."""
    return serve.normalise_db_url(args.db_url) if args.db_url else serve.sqlite_url(workdir, scale)


def open_missing_case(env: dict) -> int:
    """Report one missing person as the demo officer (bench/open_case.py); the new case's id."""
    completed = subprocess.run([sys.executable, str(BENCH_DIR / "open_case.py"), ROLE_LOGINS["officer"]],
                               cwd=serve.REPO, env=env, capture_output=True, text=True, timeout=120)
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit("opening the bench's missing-person case failed")
    return json.loads(completed.stdout.strip().splitlines()[-1])["case_id"]


def with_case(pages: list[Page], case_id: int) -> list[Page]:
    """PAGES with {case} replaced by the open case's id."""
    return [replace(page, path=page.path.replace("{case}", str(case_id))) for page in pages]


def count_queries(env: dict, workdir: Path, tag: str, pages: list[Page] | None = None) -> dict:
    """Run bench/queries.py in a child process on env's database and return its JSON result."""
    spec = {"logins": ROLE_LOGINS, "checkin_url": CHECKIN_POST_URL, "visit_url": VISIT_POST_URL,
            "batch_size": SYNC_BATCH_SIZE,
            "pages": [{"role": p.role, "path": p.path, "headers": p.headers, "revalidate": p.revalidate}
                      for p in (pages or PAGES)]}
    spec_path, result_path = workdir / f"queries-{tag}.spec.json", workdir / f"queries-{tag}.json"
    spec_path.write_text(json.dumps(spec))
    completed = subprocess.run([sys.executable, str(BENCH_DIR / "queries.py"), str(spec_path), str(result_path)],
                               cwd=serve.REPO, env=env, capture_output=True, text=True, timeout=600)
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit("counting queries failed")
    return json.loads(result_path.read_text())


def existing_pages(query_result: dict) -> list[Page]:
    """The pages of PAGES whose route exists in the app under test."""
    exists = {(row["role"], row["path"]) for row in query_result["pages"] if row["exists"]}
    return [page for page in PAGES if (page.role, page.path) in exists]


def time_writes(args, clients: dict, base_url: str, query_result: dict) -> dict:
    """The online check-in POST and the /api/sync batches, or why they were skipped."""
    point = query_result["point"]
    writes = {}
    if query_result["checkin_post"]["exists"]:
        try:
            writes["post"] = measure.time_checkin_posts(clients["officer"], CHECKIN_POST_URL, point, args.posts)
        except RuntimeError as error:
            writes["post_error"] = str(error)
    if query_result["visit_post"]["exists"]:
        try:
            writes["visit"] = measure.time_visit_posts(clients["officer"], VISIT_POST_URL, query_result["subject"],
                                                       args.posts)
        except RuntimeError as error:
            writes["visit_error"] = str(error)
    if query_result["sync_batch"]["exists"]:
        try:
            writes["sync"], writes["sync_results"] = measure.time_sync_batches(
                clients["officer"], base_url, point, args.batches, SYNC_BATCH_SIZE)
        except RuntimeError as error:
            writes["sync_error"] = str(error)
    return writes


def first_load_or_error(client, base_url: str, path: str) -> list | str:
    """The first-load rows of a page, or the error that stopped it (reported, never a crash)."""
    try:
        return measure.first_load(client, base_url, path)
    except RuntimeError as error:
        return str(error)


def measure_server(args, env: dict, query_result: dict) -> dict:
    """Serve with gunicorn, time pages and writes, weigh the first load, read worker memory."""
    pages = existing_pages(query_result)
    log_path = args.out.parent / "gunicorn.log"  # kept after the run: a 500's traceback is there
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text("")
    with serve.Gunicorn(env, log_path, workers=args.workers, preload=args.preload) as server:
        memory_at_start = measure.worker_memory_mb(server.worker_pids())  # imports only: no page served yet
        clients = {"anonymous": measure.login(server.base_url, None)}
        clients.update({role: measure.login(server.base_url, user) for role, user in ROLE_LOGINS.items()})
        try:
            print(f"timing {len(pages)} pages x {args.requests} requests on {server.base_url} ...", flush=True)
            started = time.perf_counter()
            timings = measure.time_pages(clients, pages, args.requests)
            elapsed = time.perf_counter() - started
            print("timing writes ...", flush=True)
            writes = time_writes(args, clients, server.base_url, query_result)
            first_loads = {path: first_load_or_error(clients[role], server.base_url, path)
                           for role, path in FIRST_LOAD_PAGES}
            print("measuring throughput ...", flush=True)
            throughput = {}
            for role, path in THROUGHPUT_PAGES:
                page = next((p for p in pages if (p.role, p.path) == (role, path)), None)
                if page is not None:
                    throughput[(role, page.label)] = measure.throughput(clients[role], page, args.workers,
                                                                        THROUGHPUT_REQUESTS)
            memory = measure.worker_memory_mb(server.worker_pids())
            unique = measure.worker_unique_mb(server.worker_pids())
        finally:
            for client in clients.values():
                client.close()
    return {"pages": pages, "timings": timings, "elapsed_s": elapsed, "writes": writes, "throughput": throughput,
            "first_loads": first_loads, "memory": memory, "memory_at_start": memory_at_start,
            "memory_unique": unique}


# --- report -------------------------------------------------------------------------------------

def machine_facts(query_result: dict, load_at_start: tuple[float, ...]) -> str:
    """CPU count and model, Python, database and the commit under test."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    database = query_result["database"]
    db_name = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(database["dialect"], database["dialect"])
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=serve.REPO, capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=serve.REPO,
                           capture_output=True, text=True).stdout.strip()
    load = ", ".join(f"{value:.2f}" for value in load_at_start)  # other work on the machine skews ratios
    return (f"nproc {os.cpu_count()} ({cpu}); load average at start {load}; Python {platform.python_version()}; "
            f"{db_name} {database['version']}; git {commit}{' + uncommitted changes' if dirty else ''}")


def fmt(value: float, digits: int = 2) -> str:
    return "—" if value != value else f"{value:.{digits}f}"  # NaN check without math


def pages_table(run: dict, counts: dict, small_counts: dict | None, verdicts: Verdicts) -> list[str]:
    """One row per listed page: latency, ratio to /healthz, queries, budget."""
    timings = run["timings"]
    healthz = timings[f"{HEALTHZ}|anonymous"].median
    header = "| page | role | status | median ms | p95 ms | × /healthz | queries |"
    rule = "|---|---|---|---:|---:|---:|---:|"
    if small_counts is not None:
        header += " queries (small) |"
        rule += "---:|"
    lines = [header + " budget |", rule + "---|"]
    timed = {(page.role, page.path) for page in run["pages"]}
    for page in PAGES:
        key = (page.role, page.path)
        queries = counts.get(key, "—")
        cells = [f"`{page.label}`", page.role]
        if key not in timed:
            cells += ["skipped: not built yet", "", "", "", ""]
            verdict = ""
        else:
            timing = timings[f"{page.label}|{page.role}"]
            status = ", ".join(f"{code}×{n}" for code, n in sorted(timing.statuses.items()))
            ratio = timing.median / healthz
            cells += [status, fmt(timing.median), fmt(timing.p95), fmt(ratio), str(queries)]
            if page.path == HEALTHZ:
                verdict = "(yardstick)"
            else:
                healthy = page.expect in timing.statuses and set(timing.statuses) <= {page.expect, *page.also}
                problem = f"median {ratio:.1f}× /healthz" if healthy else f"answered {status} (expected {page.expect})"
                ok, budget = healthy, []
                if page.budget_ratio is not None:
                    ok = ok and ratio <= page.budget_ratio
                    budget.append(f"≤ {page.budget_ratio:g}×")
                if page.budget_ms is not None:
                    ok = ok and timing.median < page.budget_ms
                    budget.append(f"< {page.budget_ms:g} ms")
                    problem += f", {timing.median:.0f} ms"
                verdict = f"{' '.join(budget)}: " + verdicts.check(f"{page.label} ({page.role}) {problem}", ok)
        if small_counts is not None:
            small = small_counts.get(key, "—")
            grows = isinstance(small, int) and isinstance(queries, int) and queries > small
            cells.append(f"{small}{' ⚠ grows' if grows else ''}")
        lines.append("| " + " | ".join(cells + [verdict]) + " |")
    return lines


def post_row(label: str, timing, queries: dict, error: str | None, healthz: float, verdicts: Verdicts) -> str:
    """One online form POST: latency, statements, and the page budget (median ≤ 4 × /healthz)."""
    if not queries["exists"]:
        return f"| {label} | | | | | | skipped: not built yet |"
    if timing is None:
        return f"| {label} | | | | | | error: {error} |"
    ratio = timing.median / healthz
    verdict = f"{ratio:.2f} × /healthz, ≤ {PAGE_BUDGET_RATIO:g}×: " + verdicts.check(
        f"{label} median {ratio:.1f}× /healthz", ratio <= PAGE_BUDGET_RATIO)
    return (f"| {label} (htmx) | {len(timing.samples_ms)} | {fmt(timing.median)} | {fmt(timing.p95)} "
            f"| {fmt(timing.median)} | {queries.get('queries')} | "
            f"{', '.join(f'{c}×{n}' for c, n in sorted(timing.statuses.items()))}; {verdict} |")


def writes_table(run: dict, query_result: dict, verdicts: Verdicts) -> list[str]:
    """The online check-in and visit POSTs, and one /api/sync batch of 100 against the check-in POST."""
    writes, sync_q = run["writes"], query_result["sync_batch"]
    healthz = run["timings"][f"{HEALTHZ}|anonymous"].median
    lines = ["| write | n | median ms | p95 ms | per item ms | queries | result |", "|---|---:|---:|---:|---:|---:|---|"]
    post = writes.get("post")
    lines.append(post_row(f"check-in POST `{CHECKIN_POST_URL}`", post, query_result["checkin_post"],
                          writes.get("post_error"), healthz, verdicts))
    lines.append(post_row(f"visit POST `{VISIT_POST_URL}`", writes.get("visit"), query_result["visit_post"],
                          writes.get("visit_error"), healthz, verdicts))
    sync = writes.get("sync")
    if not sync_q["exists"]:
        lines.append(f"| `/api/sync` batch of {SYNC_BATCH_SIZE} | | | | | | skipped: not built yet |")
    elif sync is None:
        lines.append(f"| `/api/sync` batch of {SYNC_BATCH_SIZE} | | | | | | error: {writes.get('sync_error')} |")
    else:
        per_item = sync.median / SYNC_BATCH_SIZE
        results = ", ".join(f"{k} {v}" for k, v in sorted(writes["sync_results"].items()))
        verdict = ""
        if post is not None:
            ratio = per_item / post.median
            verdict = (f"per item = {ratio:.2f} × one POST; batch < {SYNC_BATCH_SIZE} POSTs: "
                       + verdicts.check(f"/api/sync batch ({ratio:.2f}× a POST per item)", ratio < 1))
        lines.append(f"| `/api/sync` batch of {SYNC_BATCH_SIZE} | {len(sync.samples_ms)} | {fmt(sync.median)} "
                     f"| {fmt(sync.p95)} | {fmt(per_item)} | {sync_q.get('queries')} "
                     f"({sync_q.get('queries', 0) / SYNC_BATCH_SIZE:.1f}/item) | {results}; {verdict} |")
    return lines


def first_load_table(run: dict, verdicts: Verdicts) -> list[str]:
    """A phone's first load of each page: totals, then each file."""
    lines = ["| first load | files | raw KB | gzip KB | budget (≤ 60 KB gzip) |", "|---|---:|---:|---:|---|"]
    details = []
    for path, rows in run["first_loads"].items():
        if isinstance(rows, str):
            lines.append(f"| `{path}` | | | | {verdicts.check(f'first load {path}: {rows}', False)} {rows} |")
            continue
        raw, sent = sum(r[1] for r in rows), sum(r[2] for r in rows)
        verdict = verdicts.check(f"first load {path} {sent / 1000:.1f} KB", sent <= FIRST_LOAD_BUDGET_BYTES)
        lines.append(f"| `{path}` | {len(rows)} | {raw / 1000:.1f} | {sent / 1000:.1f} | {verdict} |")
        details.append(f"- `{path}`: " + ", ".join(f"`{url}` {size / 1000:.1f}" for url, _raw, size in rows))
    return lines + ["", "Files (gzip KB):"] + details


def memory_table(run: dict, verdicts: Verdicts) -> list[str]:
    """Each worker's RSS after the run, and at start (what importing the app costs)."""
    lines = ["| gunicorn worker | RSS at start MB | RSS after the run MB | USS after MB | budget (RSS ≤ 150 MB after) |",
             "|---|---:|---:|---:|---|"]
    for pid, rss in sorted(run["memory"].items()):
        start = run["memory_at_start"].get(pid, float("nan"))
        verdict = verdicts.check(f"worker {pid} RSS {rss:.0f} MB", rss <= WORKER_RSS_BUDGET_MB)
        unique = run["memory_unique"].get(pid, float("nan"))
        lines.append(f"| pid {pid} | {fmt(start, 1)} | {rss:.1f} | {fmt(unique, 1)} | {verdict} |")
    return lines


def throughput_table(run: dict, workers: int) -> list[str]:
    """Requests per second with one client per worker, all at once (the client shares the CPUs)."""
    lines = ["| page | role | clients at once | statuses | requests/s (all workers) | per worker |",
             "|---|---|---:|---|---:|---:|"]
    for (role, label), (rate, statuses) in run["throughput"].items():
        codes = ", ".join(f"{code}×{n}" for code, n in sorted(statuses.items()))
        lines.append(f"| `{label}` | {role} | {workers} | {codes} | {rate:.0f} | {rate / workers:.0f} |")
    return lines


def build_report(args, seed: serve.SeedTimes, query_result: dict, small: dict | None, run: dict) -> tuple[str, Verdicts]:
    """The whole Markdown report and the budgets it checked."""
    verdicts = Verdicts()
    counts = {(row["role"], row["path"]): row.get("queries", "—") for row in query_result["pages"]}
    small_counts = None if small is None else {(r["role"], r["path"]): r.get("queries", "—") for r in small["pages"]}
    facts = query_result["database"]
    seed_verdict = verdicts.check(f"seed {seed.seed_s:.1f} s", seed.seed_s < SEED_BUDGET_S) \
        if args.scale == "station" else "(budget applies at station scale)"
    lines = [
        f"# Pingan benchmark — {real_now().strftime('%Y-%m-%d %H:%M %Z')}",
        "",
        f"Command: `{' '.join(shlex.quote(a) for a in [Path(sys.executable).name, 'bench/run.py', *sys.argv[1:]])}`  ",
        f"Machine: {machine_facts(query_result, run['load_at_start'])}  ",
        f"Data: scale **{args.scale}** (seed 1): {facts['patrol_points']} patrol points, {facts['check_ins']} check-ins.  ",
        *([f"Clock: the app and the harness ran with the station's clock moved back to {args.station_time} "
           f"(`--station-time`; {float(os.environ['PINGAN_BENCH_CLOCK_OFFSET']) / 3600:+.2f} h), so 'today' "
           f"holds a whole day's data.  "] if os.environ.get("PINGAN_BENCH_CLOCK_OFFSET") else []),
        f"Method: gunicorn {args.workers} sync workers{' (--preload)' if args.preload else ''} on 127.0.0.1, one httpx client, {args.requests} timed "
        f"requests per page round-robin after {measure.WARMUP_ROUNDS} warm-up rounds "
        f"({run['elapsed_s']:.0f} s); queries counted in-process on the same database.",
        "",
        "## Seed",
        "",
        "| step | seconds | budget (< 60 s) |",
        "|---|---:|---|",
        f"| `flask db upgrade` | {seed.upgrade_s:.1f} | |",
        f"| `flask demo seed --scale {args.scale} --seed 1` | {seed.seed_s:.1f} | {seed_verdict} |",
        "",
        f"## Pages (median ≤ {PAGE_BUDGET_RATIO:g} × /healthz median unless the budget column says otherwise)",
        "",
        *pages_table(run, counts, small_counts, verdicts),
        "",
        f"## Throughput ({args.workers} clients at once, {THROUGHPUT_REQUESTS} requests each, on the same CPUs)",
        "",
        *throughput_table(run, args.workers),
        "",
        "## Writes (online form POSTs, judged like pages; one offline batch against the check-in POST)",
        "",
        *writes_table(run, query_result, verdicts),
        "",
        "## First load on a phone (page + same-origin CSS/JS/icons/manifest, gzip level 6; PNG as is)",
        "",
        *first_load_table(run, verdicts),
        "",
        "## Memory after the run",
        "",
        *memory_table(run, verdicts),
        "",
        "## Summary",
        "",
        ("All budgets pass." if not verdicts.failures else
         "Budgets that FAIL:\n" + "\n".join(f"- {name}" for name in verdicts.failures)),
    ]
    if args.scale != "station":
        lines.append(f"\nNote: scale {args.scale}; the page budget is defined at station scale.")
    return "\n".join(lines) + "\n", verdicts


def real_now() -> datetime:
    """The machine's time, also in a run whose clock was moved (`--station-time`)."""
    return datetime.now().astimezone() - timedelta(seconds=float(os.environ.get("PINGAN_BENCH_CLOCK_OFFSET", 0)))


def station_clock_offset(hhmm: str) -> float:
    """Seconds from now back to the last moment the station's clock showed HH:MM (0 to -24 h)."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target > now:
        target -= timedelta(days=1)
    return target.timestamp() - now.timestamp()


def run_at_station_time(hhmm: str) -> None:
    """Start this run again with every process's clock moved back to the station's HH:MM
    (bench/clock/sitecustomize.py). Backwards only: gunicorn compares its clock with the files'
    times to find stuck workers, and a clock ahead of them would make every worker look stuck."""
    env = dict(os.environ, PINGAN_BENCH_CLOCK_OFFSET=str(station_clock_offset(hhmm)),
               PYTHONPATH=os.pathsep.join(filter(None, [str(BENCH_DIR / "clock"), os.environ.get("PYTHONPATH")])))
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.station_time and not os.environ.get("PINGAN_BENCH_CLOCK_OFFSET"):
        run_at_station_time(args.station_time)
    load_at_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="pingan-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / "uploads").mkdir()
        env = serve.app_env(database_url(args, workdir, args.scale), workdir / "uploads")
        print(f"seeding {args.scale} scale on {'PostgreSQL' if args.db_url else 'SQLite'} ...", flush=True)
        seed = serve.prepare_database(env["DATABASE_URL"], env, args.scale)
        template = list(PAGES)
        PAGES[:] = with_case(template, open_missing_case(env))
        print(f"  upgrade {seed.upgrade_s:.1f} s, seed {seed.seed_s:.1f} s; counting queries ...", flush=True)
        query_result = count_queries(env, workdir, args.scale)
        run = measure_server(args, env, query_result)
        run["load_at_start"] = load_at_start
        small = None
        if args.compare_scales and args.scale != "small":
            print("seeding small scale to compare query counts ...", flush=True)
            small_env = serve.app_env(database_url(args, workdir, "small"), workdir / "uploads")
            serve.prepare_database(small_env["DATABASE_URL"], small_env, "small")
            small = count_queries(small_env, workdir, "small", with_case(template, open_missing_case(small_env)))
            for row, page in zip(small["pages"], PAGES):  # the small case's id differs: compare by page
                row["path"] = page.path
    report, verdicts = build_report(args, seed, query_result, small, run)
    print("\n" + report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(f"written to {args.out}")
    return 1 if args.strict and verdicts.failures else 0


if __name__ == "__main__":
    sys.exit(main())
