"""Count the SQL statements each page runs, in-process, on the bench database.

Run by bench/run.py as a child process (so each database gets a fresh app and a fresh import of the
configuration): `python bench/queries.py SPEC.json RESULT.json`, with DATABASE_URL and the rest of
the bench environment set. The spec lists the pages and the write endpoints; the result holds, per
page, whether its route exists and how many statements one warm request executed, as counted by a
SQLAlchemy `before_cursor_execute` listener on the app's engine.

SQLite's explicit "BEGIN" (emitted by app.py for SAVEPOINT support) is not counted, so the figures
compare across SQLite and PostgreSQL.
"""
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import DEMO_PASSWORD, checkin_fields, csrf_token, sync_batch, visit_fields  # noqa: E402


class QueryCounter:
    """A `before_cursor_execute` listener that counts statements (and keeps them for debugging)."""

    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if statement.strip().upper() != "BEGIN":
            self.statements.append(statement)

    def reset(self) -> None:
        self.statements.clear()

    @property
    def count(self) -> int:
        return len(self.statements)


def route_exists(app, path: str, method: str) -> bool:
    """True when the app has a rule for this path and method (query string ignored)."""
    from werkzeug.exceptions import MethodNotAllowed, NotFound
    from werkzeug.routing import RequestRedirect

    adapter = app.url_map.bind("localhost")
    try:
        adapter.match(path.split("?")[0], method=method)
    except (NotFound, MethodNotAllowed):
        return False
    except RequestRedirect:
        return True
    return True


def login(app, username: str | None):
    """A test client logged in through the real form."""
    client = app.test_client()
    if username:
        token = csrf_token(client.get("/auth/login").get_data(as_text=True))
        response = client.post("/auth/login", data={"login": username, "password": DEMO_PASSWORD,
                                                    "csrf_token": token})
        if response.status_code not in (302, 303):
            raise SystemExit(f"in-process login as {username} failed: HTTP {response.status_code}")
    return client


def officer_point(app, username: str) -> dict | None:
    """An active patrol point in one of the officer's grids (the point a check-in is made at)."""
    from sqlalchemy import select

    from extensions import db
    from models import User
    from models.patrols import PatrolPoint

    with app.app_context():
        user = db.session.scalars(select(User).where(User.username == username)).one()
        grid_ids = [grid.id for grid in user.grids]
        point = db.session.scalars(
            select(PatrolPoint).where(PatrolPoint.grid_id.in_(grid_ids), PatrolPoint.active.is_(True))
            .order_by(PatrolPoint.id)
        ).first()
        return {"id": point.id, "lat": point.lat, "lon": point.lon} if point else None


def officer_resident(app, username: str) -> dict | None:
    """A resident living in one of the officer's grids, with the address's position (the visit
    the bench records)."""
    from sqlalchemy import select

    from extensions import db
    from models import Address, Resident, User

    with app.app_context():
        user = db.session.scalars(select(User).where(User.username == username)).one()
        row = db.session.execute(
            select(Resident.id, Address.lat, Address.lon).join(Address, Resident.address_id == Address.id)
            .where(Resident.station_id == user.station_id, Address.grid_id.in_([g.id for g in user.grids]),
                   Address.lat.is_not(None))
            .order_by(Resident.id)).first()
        return {"id": row.id, "lat": row.lat, "lon": row.lon} if row else None


def database_facts(app) -> dict:
    """The database's dialect and server version, and the row counts that make the scale."""
    from sqlalchemy import func, select

    from extensions import db
    from models.patrols import CheckIn, PatrolPoint

    with app.app_context():
        version = ".".join(str(part) for part in (db.engine.dialect.server_version_info or ()))
        return {"dialect": db.engine.dialect.name, "version": version,
                "check_ins": db.session.scalar(select(func.count(CheckIn.id))),
                "patrol_points": db.session.scalar(select(func.count(PatrolPoint.id)))}


def count_pages(app, counter: QueryCounter, clients: dict, pages: list[dict]) -> list[dict]:
    """Per page: does the route exist, the status and the statements of one warm request."""
    rows = []
    for page in pages:
        row = {**page, "exists": route_exists(app, page["path"], "GET")}
        if row["exists"]:
            client = clients[page["role"]]
            headers = page["headers"]
            first = client.get(page["path"], headers=headers)  # warm: first-request work is not per-page cost
            if page.get("revalidate") and first.headers.get("ETag"):
                headers = {**headers, "If-None-Match": first.headers["ETag"]}
                client.get(page["path"], headers=headers)
            counter.reset()
            response = client.get(page["path"], headers=headers)
            row.update(status=response.status_code, queries=counter.count)
        rows.append(row)
    return rows


def count_form_post(app, counter: QueryCounter, client, url: str, make_fields) -> dict:
    """Statements of one online field-form POST (after a warm-up POST)."""
    if not route_exists(app, url, "POST"):
        return {"exists": False}
    token = csrf_token(client.get("/me").get_data(as_text=True))
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    status = None
    for _ in range(2):
        counter.reset()
        response = client.post(url, data={**make_fields(), "csrf_token": token}, headers=headers)
        status = response.status_code
    return {"exists": True, "status": status, "queries": counter.count}


def count_sync_batch(app, counter: QueryCounter, client, point: dict | None, size: int) -> dict:
    """Statements of one /api/sync batch of `size` check-ins (after a small warm-up batch)."""
    if not route_exists(app, "/api/sync", "POST"):
        return {"exists": False}
    headers = {"X-Requested-With": "pingan-sync", "Origin": "http://localhost"}
    client.post("/api/sync", json=sync_batch(point, 5), headers=headers)
    counter.reset()
    response = client.post("/api/sync", json=sync_batch(point, size), headers=headers)
    statuses: dict[str, int] = {}
    if response.status_code == 200:
        for item in response.get_json().get("results", []):
            statuses[item.get("status")] = statuses.get(item.get("status"), 0) + 1
    return {"exists": True, "status": response.status_code, "queries": counter.count, "size": size,
            "results": statuses}


def main(spec_path: str, result_path: str) -> None:
    """Build the app on DATABASE_URL, log in each role, count, write the JSON result."""
    from sqlalchemy import event

    from app import create_app
    from extensions import db

    spec = json.loads(Path(spec_path).read_text())
    app = create_app()
    counter = QueryCounter()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        clients = {"anonymous": app.test_client()}
        clients.update({role: login(app, user) for role, user in spec["logins"].items()})
        officer = spec["logins"]["officer"]
        point = officer_point(app, officer)
        subject = officer_resident(app, officer)
        result = {
            "database": database_facts(app),
            "point": point,
            "subject": subject,
            "pages": count_pages(app, counter, clients, spec["pages"]),
            "checkin_post": count_form_post(app, counter, clients["officer"], spec["checkin_url"],
                                            lambda: checkin_fields(point)),
            "visit_post": count_form_post(app, counter, clients["officer"], spec["visit_url"],
                                          lambda: visit_fields(subject)),
            "sync_batch": count_sync_batch(app, counter, clients["officer"], point, spec["batch_size"]),
        }
    finally:
        event.remove(engine, "before_cursor_execute", counter)
        engine.dispose()
    Path(result_path).write_text(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
