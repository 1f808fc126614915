"""Process-level faults: `.venv/bin/python bench/faults.py [--db sqlite|postgres|both]`.

1. worker-kill: gunicorn (2 workers) receives 100-item /api/sync batches; the worker serving a batch
   (the one holding the client's TCP connection) is SIGKILLed at several points of the request;
   the client resends the same batch as the outbox does. Every item must exist exactly once.
2. sqlite-lock (SQLite): another process holds the write lock (BEGIN IMMEDIATE) for 20 s; a sync
   batch and an online check-in must answer 503 with Retry-After (never 500), save nothing, and
   be saved once when resent after the lock is gone.
3. db-down (PostgreSQL): the database refuses connections (ALTER DATABASE ... ALLOW_CONNECTIONS
   false, its sessions terminated) at start and mid-run: /healthz and every request answer 503,
   never 500, and the app recovers by itself when connections are allowed again.

It prints a Markdown report (bench/out/faults.md) and exits 1 when any check fails. Every loop is
bounded; servers are stopped in `finally`; only throwaway databases are touched (SQLite in a temp
dir, PostgreSQL pingan_faults, created and dropped here).
"""
import argparse
import json
import os
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import httpx
import psutil

import load
import measure
import serve

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/pingan_faults"
BATCH = 100  # the largest batch the API takes: the slowest request, the widest window to kill in
KILL_AT = (0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.85, 0.9, 0.95, 1.1)  # fractions of a normal batch's duration
LOCK_HELD_S = 20.0
OUTAGE_S = 10.0


class Checks:
    def __init__(self):
        self.lines: list[str] = []
        self.failed: list[str] = []

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        self.lines.append(f"- {'PASS' if ok else '**FAIL**'} {name}{': ' + detail if detail else ''}")
        if not ok:
            self.failed.append(name)


class LenientGunicorn(serve.Gunicorn):
    """gunicorn that counts as started when /healthz answers at all (503 too: the database is down)."""

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + serve.SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                httpx.get(self.base_url + "/healthz", timeout=5)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        raise SystemExit("gunicorn did not answer")


class Station:
    """A throwaway seeded database, one logged-in officer, and the client_ids sent to it."""

    def __init__(self, kind: str, workdir: Path):
        self.kind, self.workdir = kind, workdir
        (workdir / "uploads").mkdir(exist_ok=True)
        if kind == "postgres":
            self.url = PG_URL
            load.postgres_admin(self.url, "DROP DATABASE IF EXISTS pingan_faults WITH (FORCE)",
                                "CREATE DATABASE pingan_faults")
        else:
            self.url = "sqlite:///" + str(workdir / "faults.db")
        self.env = serve.app_env(self.url, workdir / "uploads")
        serve.flask_cli(self.env, "db", "upgrade")
        serve.flask_cli(self.env, "demo", "seed", "--scale", "small")
        load.helper(self.env, "setup", "1", "0", str(workdir / "users.json"))
        self.officer = json.loads((workdir / "users.json").read_text())["officers"][0]
        self.sent: set[str] = set()

    def drop(self) -> None:
        if self.kind == "postgres":
            allow_connections(True)
            load.postgres_admin(self.url, "DROP DATABASE IF EXISTS pingan_faults WITH (FORCE)")

    def verify(self) -> dict:
        (self.workdir / "sent.json").write_text(json.dumps({"client_ids": sorted(self.sent)}))
        load.helper(self.env, "verify", str(self.workdir / "sent.json"), str(self.workdir / "verdict.json"))
        return json.loads((self.workdir / "verdict.json").read_text())

    def batch(self, size: int = BATCH) -> dict:
        point = self.officer["point"]
        items = [{"client_id": str(uuid.uuid4()), "kind": "checkin", "recorded_at": datetime.now(timezone.utc).isoformat(),
                  "data": {"lat": point["lat"], "lon": point["lon"], "accuracy": 10, "point_id": point["id"]}}
                 for _ in range(size)]
        self.sent.update(item["client_id"] for item in items)
        return {"device_id": "faults", "items": items}


def login(base_url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=60)
    for _ in range(20):  # the database may just be coming back
        page = client.get("/auth/login")
        response = client.post("/auth/login", data={"login": username, "password": measure.DEMO_PASSWORD,
                                                     "csrf_token": measure.csrf_token(page.text)})
        if response.status_code in (302, 303):
            return client
        time.sleep(1)
    raise SystemExit(f"cannot log in as {username}")


def post_sync(client: httpx.Client, base_url: str, body: dict) -> httpx.Response:
    return client.post("/api/sync", json=body, headers={**load.SYNC_HEADERS, "Origin": base_url})


def resend_until_acknowledged(client, base_url, body, attempts: int = 30) -> tuple[httpx.Response, list[int]]:
    """The outbox: send again (after Retry-After, or 1 s after a dropped connection) until a 200."""
    statuses = []
    for _ in range(attempts):
        try:
            response = post_sync(client, base_url, body)
        except httpx.TransportError:
            statuses.append(0)
            time.sleep(1)
            continue
        statuses.append(response.status_code)
        if response.status_code == 200:
            return response, statuses
        time.sleep(float(response.headers.get("Retry-After", 1)))
    raise SystemExit(f"batch never acknowledged: {statuses}")


def serving_worker(server: serve.Gunicorn, timeout: float = 10.0) -> int | None:
    """The worker holding an established connection on the server's port (sync workers hold one)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in server.worker_pids():
            try:
                connections = psutil.Process(pid).net_connections(kind="tcp")
            except psutil.Error:
                continue
            if any(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == server.port for c in connections):
                return pid
        time.sleep(0.002)
    return None


def wait_workers(server: serve.Gunicorn, count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(server.worker_pids()) >= count:
            try:
                if httpx.get(server.base_url + "/healthz", timeout=10).status_code == 200:
                    return
            except httpx.TransportError:
                pass
        time.sleep(0.2)


def worker_kill(station: Station, checks: Checks, out: list[str]) -> None:
    log = station.workdir / "gunicorn-kill.log"
    with serve.Gunicorn(station.env, log, workers=2) as server:
        client = login(server.base_url, station.officer["username"])
        normal = []
        for _ in range(3):
            started = time.perf_counter()
            resend_until_acknowledged(client, server.base_url, station.batch())
            normal.append(time.perf_counter() - started)
        batch_s = statistics.median(normal)
        out += [f"Normal 100-item batch: {batch_s * 1000:.0f} ms (median of 3).", "",
                "| kill at | killed worker | first send | resend statuses | resend result |", "|---|---|---|---|---|"]
        for fraction in KILL_AT:
            body, result = station.batch(), {}

            def send():
                try:
                    result["response"] = post_sync(client, server.base_url, body)
                except httpx.TransportError as error:
                    result["error"] = type(error).__name__

            thread = threading.Thread(target=send)
            thread.start()
            pid = serving_worker(server)
            time.sleep(fraction * batch_s)
            killed = pid is not None and thread.is_alive()
            if killed:
                os.kill(pid, signal.SIGKILL)  # a worker of the gunicorn this script started
            thread.join(timeout=120)
            first = result.get("error") or f"HTTP {result['response'].status_code}"
            wait_workers(server, 2)
            response, statuses = resend_until_acknowledged(client, server.base_url, body)
            counts = {}
            for item in response.json()["results"]:
                counts[item["status"]] = counts.get(item["status"], 0) + 1
            all_or_nothing = set(counts) in ({"created"}, {"duplicate"})
            out.append(f"| {fraction:.0%} of {batch_s * 1000:.0f} ms | {'pid ' + str(pid) if killed else 'no (done)'} "
                       f"| {first} | {statuses} | {counts} |")
            checks.check(f"{station.kind}: kill at {fraction:.0%}: resend acknowledged, batch all-or-nothing",
                         all_or_nothing, str(counts))
        client.close()
    verdict = station.verify()
    checks.check(f"{station.kind}: worker-kill: every client_id exactly once", verdict["ok"],
                 f"{verdict['sent']} sent, {verdict['receipts']} receipts, {verdict['check_ins']} check-ins")


def sqlite_lock(station: Station, checks: Checks, out: list[str]) -> None:
    log = station.workdir / "gunicorn-lock.log"
    with serve.Gunicorn(station.env, log, workers=2) as server:
        client = login(server.base_url, station.officer["username"])
        token = measure.csrf_token(client.get("/patrol/check-in").text)
        body = station.batch(20)
        point = station.officer["point"]
        form = {"csrf_token": token, "client_id": str(uuid.uuid4()), "recorded_at": datetime.now(timezone.utc).isoformat(),
                "lat": point["lat"], "lon": point["lon"], "accuracy": 10, "point_id": point["id"]}
        station.sent.add(form["client_id"])
        holder = sqlite3.connect(station.url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            started = time.perf_counter()
            synced = post_sync(client, server.base_url, body)
            sync_s = time.perf_counter() - started
            started = time.perf_counter()
            online = client.post("/patrol/check-ins", data=form, headers={"HX-Request": "true", "X-CSRFToken": token})
            online_s = time.perf_counter() - started
            saved_while_locked = holder.execute("SELECT count(*) FROM check_ins WHERE client_id IN (%s)" % ",".join(
                "?" * (len(body["items"]) + 1)), [i["client_id"] for i in body["items"]] + [form["client_id"]]).fetchone()[0]
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        out += [f"Write lock held by another process for up to {LOCK_HELD_S:.0f} s (released after both answers):",
                f"- `/api/sync` (20 items): HTTP {synced.status_code}, Retry-After {synced.headers.get('Retry-After')}, "
                f"after {sync_s:.1f} s",
                f"- online check-in POST (htmx): HTTP {online.status_code}, Retry-After {online.headers.get('Retry-After')}, "
                f"after {online_s:.1f} s",
                f"- rows of these records in the database while locked: {saved_while_locked}"]
        checks.check("sqlite: sync on a locked file is 503 + Retry-After",
                     synced.status_code == 503 and bool(synced.headers.get("Retry-After")))
        checks.check("sqlite: online POST on a locked file is 503 + Retry-After",
                     online.status_code == 503 and bool(online.headers.get("Retry-After")))
        resent, statuses = resend_until_acknowledged(client, server.base_url, body)
        again = client.post("/patrol/check-ins", data=form, headers={"HX-Request": "true", "X-CSRFToken": token})
        out.append(f"- after the lock: sync resend {statuses} → {resent.json()['results'][0]['status']} ×20, "
                   f"online resend HTTP {again.status_code}")
        checks.check("sqlite: after the lock both are saved", again.status_code == 200 and resent.status_code == 200)
        client.close()
    verdict = station.verify()
    checks.check("sqlite-lock: every client_id exactly once", verdict["ok"],
                 f"{verdict['sent']} sent, {verdict['receipts']} receipts")


def allow_connections(allowed: bool) -> None:
    statements = [f"ALTER DATABASE pingan_faults ALLOW_CONNECTIONS {'true' if allowed else 'false'}"]
    if not allowed:
        statements.append("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = 'pingan_faults' AND pid <> pg_backend_pid()")
    load.postgres_admin(PG_URL, *statements)


def db_down(station: Station, checks: Checks, out: list[str]) -> None:
    log = station.workdir / "gunicorn-down.log"
    allow_connections(False)
    with LenientGunicorn(station.env, log, workers=2) as server:
        at_start = httpx.get(server.base_url + "/healthz", timeout=30)
        login_page = httpx.get(server.base_url + "/auth/login", timeout=30)
        allow_connections(True)
        started, healthy = time.monotonic(), None
        for _ in range(100):
            if httpx.get(server.base_url + "/healthz", timeout=30).status_code == 200:
                healthy = time.monotonic() - started
                break
            time.sleep(0.1)
        out += [f"Down at start: `/healthz` HTTP {at_start.status_code} {at_start.text.strip()}, "
                f"`/auth/login` HTTP {login_page.status_code}; connections allowed again → `/healthz` 200 after "
                f"{healthy if healthy is None else f'{healthy:.1f} s'} (no restart)."]
        checks.check("postgres: down at start: /healthz 503", at_start.status_code == 503)
        checks.check("postgres: recovers after start without a restart", healthy is not None)

        client = login(server.base_url, station.officer["username"])
        statuses: dict[str, dict[int, int]] = {"healthz": {}, "sync": {}, "page": {}}
        pending: list[dict] = []
        began, outage_at, back_at, recovered = time.monotonic(), 3.0, 3.0 + OUTAGE_S, None
        state = "up"
        while time.monotonic() - began < back_at + 10:
            elapsed = time.monotonic() - began
            if state == "up" and elapsed >= outage_at:
                allow_connections(False)
                state = "down"
            elif state == "down" and elapsed >= back_at:
                allow_connections(True)
                state = "back"
            for name, call in (("healthz", lambda: client.get("/healthz")),
                               ("page", lambda: client.get("/patrol/check-in"))):
                code = call().status_code
                statuses[name][code] = statuses[name].get(code, 0) + 1
                if state == "back" and name == "healthz" and code == 200 and recovered is None:
                    recovered = time.monotonic() - began - back_at
            pending.append(station.batch(5))
            still = []
            for body in pending:  # the outbox: everything not acknowledged is sent again
                code = post_sync(client, server.base_url, body).status_code
                statuses["sync"][code] = statuses["sync"].get(code, 0) + 1
                if code != 200:
                    still.append(body)
            pending = still
            time.sleep(0.5)
        client.close()
    seen = ", ".join(f"{name} {dict(sorted(codes.items()))}" for name, codes in statuses.items())
    out += [f"Down mid-run for {OUTAGE_S:.0f} s (a logged-in officer polling every 0.5 s and syncing 5 items each "
            f"time): statuses seen: {seen}; `/healthz` back to 200 {recovered if recovered is None else f'{recovered:.1f} s'} "
            f"after connections were allowed; {len(pending)} batches still queued at the end."]
    no_500 = all(500 not in codes for codes in statuses.values())
    checks.check("postgres: mid-run outage answers 503, never 500", no_500 and 503 in statuses["healthz"], seen)
    checks.check("postgres: recovers mid-run by itself", recovered is not None and not pending)
    verdict = station.verify()
    checks.check("postgres: db-down: every client_id exactly once", verdict["ok"],
                 f"{verdict['sent']} sent, {verdict['receipts']} receipts")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--out", type=Path, default=load.OUT_DIR / "faults.md")
    args = parser.parse_args(argv)
    checks, out = Checks(), [f"# Pingan faults — {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}", "",
                             f"Load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}", ""]
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for kind in kinds:
        scenarios = [("worker-kill", worker_kill)]
        scenarios.append(("sqlite-lock", sqlite_lock) if kind == "sqlite" else ("db-down", db_down))
        for name, scenario in scenarios:
            print(f"{kind}: {name} ...", flush=True)
            with tempfile.TemporaryDirectory(prefix="pingan-faults-") as tmp:
                station = Station(kind, Path(tmp))
                try:
                    out += [f"## {name} ({kind})", ""]
                    scenario(station, checks, out)
                    out.append("")
                finally:
                    station.drop()
    out += ["## Checks", "", *checks.lines, ""]
    text = "\n".join(out)
    print(text)
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(text)
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
