"""Measurements against the running server, with a real HTTP client (httpx) on 127.0.0.1.

Page timings, the online check-in POST and the /api/sync batch, a phone's first-load weight, and the
workers' memory. Every loop is bounded by a count given by the caller.
"""
import gzip
import math
import re
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')
DEMO_PASSWORD = "pingan-demo"
HTTP_TIMEOUT_S = 30
WARMUP_ROUNDS = 5  # let each worker import templates and fill its caches before timing
GZIP_LEVEL = 6  # the level a typical nginx `gzip_comp_level` is set to for text
# Formats already compressed: a server sends them as they are, so they count at their raw size.
PRECOMPRESSED = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".woff2")


@dataclass
class Page:
    """One page to time: who asks for it, and how (extra headers, e.g. an htmx poll)."""

    role: str  # a key of ROLE_LOGINS in run.py; "anonymous" for no session
    path: str
    headers: dict = field(default_factory=dict)
    expect: int = 200  # the status a healthy answer has (204 for an htmx poll with no news)
    also: tuple = ()  # other statuses that are right now and then (a 200 when the data really changed)
    # Send If-None-Match with the ETag of a first answer: the poll of a client whose copy is current.
    revalidate: bool = False
    budget_ratio: float = 4.0  # median <= budget_ratio x /healthz median
    budget_ms: float | None = None  # and/or an absolute median budget (a slow report), in ms
    max_requests: int | None = None  # time only the first N rounds (a page far slower than the rest)

    @property
    def label(self) -> str:
        suffix = " (htmx)" if self.headers.get("HX-Request") else ""
        if self.revalidate:
            suffix += " (If-None-Match)"
        return f"{self.path}{suffix}"


@dataclass
class Timing:
    """Latencies of one page in milliseconds, and the status codes it answered."""

    samples_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms) if self.samples_ms else math.nan

    @property
    def p95(self) -> float:
        return percentile(self.samples_ms, 95)


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: a value that was really measured)."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def csrf_token(html: str) -> str:
    """The CSRF token a page carries in its <meta name="csrf-token">."""
    match = CSRF_RE.search(html)
    if not match:
        raise RuntimeError("page has no csrf-token meta")
    return match.group(1)


def new_client(base_url: str) -> httpx.Client:
    """A client that keeps cookies and does not follow redirects (a redirect is a failure here)."""
    return httpx.Client(base_url=base_url, timeout=HTTP_TIMEOUT_S, follow_redirects=False)


def login(base_url: str, username: str | None) -> httpx.Client:
    """A client logged in through the real form (GET the token, POST the credentials)."""
    client = new_client(base_url)
    if username is None:
        return client
    page = client.get("/auth/login")
    response = client.post("/auth/login", data={"login": username, "password": DEMO_PASSWORD,
                                                 "csrf_token": csrf_token(page.text)})
    if response.status_code not in (302, 303):
        raise SystemExit(f"login as {username} failed: HTTP {response.status_code}")
    return client


def request_headers(client: httpx.Client, page: Page) -> dict:
    """The page's headers, plus If-None-Match with the ETag of a first answer when it revalidates."""
    if not page.revalidate:
        return page.headers
    etag = client.get(page.path, headers=page.headers).headers.get("ETag")
    if not etag:
        raise RuntimeError(f"{page.path} answered without an ETag: cannot revalidate")
    return {**page.headers, "If-None-Match": etag}


def time_pages(clients: dict[str, httpx.Client], pages: list[Page], rounds: int) -> dict[str, Timing]:
    """Time every page `rounds` times (or its max_requests), round-robin, so drift and noise hit all
    pages alike."""
    timings = {page.label + "|" + page.role: Timing() for page in pages}
    headers = {id(page): request_headers(clients[page.role], page) for page in pages}
    for _ in range(WARMUP_ROUNDS):
        for page in pages:
            clients[page.role].get(page.path, headers=headers[id(page)])
    for index in range(rounds):
        for page in pages:
            if page.max_requests is not None and index >= page.max_requests:
                continue
            timing = timings[page.label + "|" + page.role]
            started = time.perf_counter()
            response = clients[page.role].get(page.path, headers=headers[id(page)])
            timing.samples_ms.append((time.perf_counter() - started) * 1000)
            timing.statuses[response.status_code] = timing.statuses.get(response.status_code, 0) + 1
    return timings


def throughput(client: httpx.Client, page: Page, threads: int, per_thread: int) -> tuple[float, dict[int, int]]:
    """Requests per second answered for `page` by `threads` clients at once (each a copy of the
    logged-in client, requesting back to back `per_thread` times), and the statuses."""
    import threading

    headers = request_headers(client, page)
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def hammer():
        with httpx.Client(base_url=client.base_url, cookies=client.cookies, timeout=HTTP_TIMEOUT_S,
                          follow_redirects=False) as own:
            for _ in range(per_thread):
                code = own.get(page.path, headers=headers).status_code
                with lock:
                    statuses[code] = statuses.get(code, 0) + 1

    workers = [threading.Thread(target=hammer) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return threads * per_thread / (time.perf_counter() - started), statuses


# --- writes: the online check-in and the offline batch ------------------------------------------

def now_iso() -> str:
    """The device clock as a phone would send it (ISO-8601, UTC)."""
    return datetime.now(timezone.utc).isoformat()


def checkin_fields(point: dict | None) -> dict:
    """A check-in at the point's own position (inside its geofence), with a fresh client_id."""
    lat, lon = (point["lat"], point["lon"]) if point else (35.7986, 112.9237)
    data = {"client_id": str(uuid.uuid4()), "recorded_at": now_iso(), "lat": lat, "lon": lon,
            "accuracy": 12.0}  # 12 m: a good outdoor phone fix
    if point:
        data["point_id"] = point["id"]
    return data


def time_form_posts(client: httpx.Client, url: str, make_fields, count: int, what: str) -> Timing:
    """POST an online field form `count` times as htmx does (token in header and form), each with
    fresh fields from make_fields() (a new client_id); the first POST warms up and is not counted."""
    token = csrf_token(client.get("/me").text)
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    timing = Timing()
    for index in range(count + 1):
        form = {**make_fields(), "csrf_token": token}
        started = time.perf_counter()
        response = client.post(url, data=form, headers=headers)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if response.status_code >= 400:
            raise RuntimeError(f"{what} POST answered {response.status_code}: {response.text[:300]}")
        if index:
            timing.samples_ms.append(elapsed_ms)
            timing.statuses[response.status_code] = timing.statuses.get(response.status_code, 0) + 1
        follow_hx_redirect(client, response)
    return timing


def follow_hx_redirect(client, response) -> None:
    """Load the page an htmx answer sends the browser to (HX-Redirect), untimed, as the phone does.
    It shows (and so takes out of the session cookie) the answer's flash messages: without it they
    pile up, and every later request signs and sends a bigger cookie."""
    target = response.headers.get("HX-Redirect")
    if target:
        client.get(target)


def time_checkin_posts(client: httpx.Client, url: str, point: dict | None, count: int) -> Timing:
    """The online check-in at the officer's patrol point, `count` times."""
    return time_form_posts(client, url, lambda: checkin_fields(point), count, "check-in")


def visit_fields(subject: dict | None) -> dict:
    """A resident visit (met, routine) at the resident's address, with a fresh client_id."""
    data = {"client_id": str(uuid.uuid4()), "recorded_at": now_iso(), "subject_type": "resident",
            "purpose": "routine", "outcome": "met", "notes": "bench"}
    if subject:
        data.update(subject_id=subject["id"], lat=subject["lat"], lon=subject["lon"], accuracy=15.0)
    return data


def time_visit_posts(client: httpx.Client, url: str, subject: dict | None, count: int) -> Timing:
    """The online visit form for one resident of the officer's grids, `count` times."""
    return time_form_posts(client, url, lambda: visit_fields(subject), count, "visit")


def sync_batch(point: dict | None, size: int) -> dict:
    """One /api/sync envelope of `size` queued check-ins."""
    items = []
    for _ in range(size):
        fields = checkin_fields(point)
        client_id, recorded_at = fields.pop("client_id"), fields.pop("recorded_at")
        items.append({"client_id": client_id, "kind": "checkin", "recorded_at": recorded_at, "data": fields})
    return {"device_id": "bench-" + uuid.uuid4().hex[:8], "items": items}


def time_sync_batches(client: httpx.Client, base_url: str, point: dict | None, batches: int,
                      size: int) -> tuple[Timing, dict[str, int]]:
    """POST `batches` batches of `size` check-ins to /api/sync; time each, tally item results."""
    headers = {"X-Requested-With": "pingan-sync", "Origin": base_url}
    timing, results = Timing(), {}
    for index in range(batches + 1):  # the first batch warms up and is not counted
        body = sync_batch(point, size)
        started = time.perf_counter()
        response = client.post("/api/sync", json=body, headers=headers)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"/api/sync answered {response.status_code}: {response.text[:300]}")
        if index:
            timing.samples_ms.append(elapsed_ms)
            for item in response.json().get("results", []):
                results[item.get("status")] = results.get(item.get("status"), 0) + 1
    return timing, results


# --- a phone's first load ----------------------------------------------------------------------

class AssetParser(HTMLParser):
    """Collects what a page makes the browser fetch: stylesheets, icons, manifest, scripts, images."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "link" and attributes.get("href"):
            rel = (attributes.get("rel") or "").lower().split()
            if {"stylesheet", "icon", "apple-touch-icon", "manifest", "preload", "modulepreload"} & set(rel):
                self.urls.append(attributes["href"])
        elif tag in ("script", "img") and attributes.get("src"):
            self.urls.append(attributes["src"])
        elif tag == "use" and (attributes.get("href") or attributes.get("xlink:href")):
            self.urls.append(attributes.get("href") or attributes.get("xlink:href"))


def transfer_bytes(url: str, body: bytes) -> int:
    """Bytes on the wire with gzip on text (level 6); images count as they are."""
    if urlsplit(url).path.lower().endswith(PRECOMPRESSED):
        return len(body)
    return len(gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0))


def first_load(client: httpx.Client, base_url: str, path: str) -> list[tuple[str, int, int]]:
    """The page and each same-origin asset it references: (url, raw bytes, transfer bytes)."""
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"first load of {path}: HTTP {response.status_code}")
    rows = [(path, len(response.content), transfer_bytes(path, response.content))]
    parser = AssetParser()
    parser.feed(response.text)
    origin = urlsplit(base_url).netloc
    seen = set()
    for href in parser.urls:
        absolute = urljoin(base_url + path, href.split("#")[0])
        parts = urlsplit(absolute)
        if parts.netloc != origin or absolute in seen:
            continue  # another origin (there should be none: no CDN) or already counted
        seen.add(absolute)
        asset = client.get(absolute)
        local = parts.path + (f"?{parts.query}" if parts.query else "")
        rows.append((local, len(asset.content), transfer_bytes(local, asset.content)))
    return rows


def worker_memory_mb(pids: list[int]) -> dict[int, float]:
    """Resident set size of each worker, in MB (10^6 bytes)."""
    import psutil

    return {pid: psutil.Process(pid).memory_info().rss / 1e6 for pid in pids}


def worker_unique_mb(pids: list[int]) -> dict[int, float]:
    """Memory only this worker holds (USS, MB): what one more worker would really cost."""
    import psutil

    return {pid: psutil.Process(pid).memory_full_info().uss / 1e6 for pid in pids}
