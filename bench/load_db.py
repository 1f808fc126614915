"""The load test's database side, run as a child process with the app's environment.

    python bench/load_db.py setup N_OFFICERS N_COMMAND OUT.json
        Adds N community officers (load-officer-01 ...) spread over the demo station's grids and N
        command-room users (load-command-01 ...), all with the demo password, and writes who they
        are and one active patrol point of each officer's grid to OUT.json.
    python bench/load_db.py verify SENT.json OUT.json
        Reads every client_id the load test sent and checks, in the database, that each exists
        exactly once as a SyncReceipt and once as a CheckIn (and that they point at each other),
        and that nothing else was created for the load users. Writes the verdict to OUT.json.
"""
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from extensions import db  # noqa: E402
from models import CheckIn, Grid, PatrolPoint, Station, SyncReceipt, User  # noqa: E402
from models.users import COMMAND, COMMUNITY  # noqa: E402

OFFICER_PREFIX, COMMAND_PREFIX = "load-officer-", "load-command-"


def setup(officers: int, commanders: int, out: Path) -> None:
    station = db.session.scalars(select(Station).order_by(Station.id)).first()
    template = db.session.scalars(select(User).where(User.username == "demo-officer")).one()
    grids = list(db.session.scalars(select(Grid).where(Grid.station_id == station.id).order_by(Grid.code)))
    points = {}
    for point in db.session.scalars(select(PatrolPoint).where(PatrolPoint.station_id == station.id,
                                                              PatrolPoint.active.is_(True)).order_by(PatrolPoint.id)):
        points.setdefault(point.grid_id, point)
    users = []
    for i in range(officers):
        grid = grids[i % len(grids)]
        user = User(station_id=station.id, username=f"{OFFICER_PREFIX}{i + 1:02d}", name=f"压测警员{i + 1}",
                    badge_no=f"L{i + 1:04d}", role=COMMUNITY, password_hash=template.password_hash,
                    session_version=1, active=True)
        user.grids = [grid]
        users.append((user, points.get(grid.id)))
    for i in range(commanders):
        user = User(station_id=station.id, username=f"{COMMAND_PREFIX}{i + 1:02d}", name=f"压测指挥{i + 1}",
                    badge_no=f"LC{i + 1:03d}", role=COMMAND, password_hash=template.password_hash,
                    session_version=1, active=True)
        users.append((user, None))
    db.session.add_all(user for user, _point in users)
    db.session.commit()
    out.write_text(json.dumps({
        "officers": [{"username": u.username, "id": u.id,
                      "point": None if p is None else {"id": p.id, "lat": p.lat, "lon": p.lon}}
                     for u, p in users if u.role == COMMUNITY],
        "commanders": [{"username": u.username, "id": u.id} for u, _p in users if u.role == COMMAND],
        "dialect": db.engine.dialect.name,
        "version": db.session.execute(select(func.sqlite_version()) if db.engine.dialect.name == "sqlite"
                                      else select(func.version())).scalar_one().split(" on ")[0],
    }))


def verify(sent_path: Path, out: Path) -> None:
    sent = set(json.loads(sent_path.read_text())["client_ids"])
    load_users = select(User.id).where(User.username.like(OFFICER_PREFIX + "%"))
    receipts = db.session.execute(
        select(SyncReceipt.client_id, SyncReceipt.record_id)
        .where(SyncReceipt.kind == "checkin", SyncReceipt.user_id.in_(load_users))).all()
    check_ins = db.session.execute(
        select(CheckIn.client_id, CheckIn.id).where(CheckIn.officer_id.in_(load_users))).all()
    receipt_counts = Counter(client_id for client_id, _ in receipts)
    check_in_counts = Counter(client_id for client_id, _ in check_ins)
    check_in_ids = {client_id: record_id for client_id, record_id in check_ins}
    mismatched = [client_id for client_id, record_id in receipts if check_in_ids.get(client_id) != record_id]
    result = {
        "sent": len(sent),
        "receipts": len(receipts),
        "check_ins": len(check_ins),
        "missing_receipt": sorted(sent - set(receipt_counts))[:20],
        "missing_check_in": sorted(sent - set(check_in_counts))[:20],
        "duplicate_receipt": sorted(c for c, n in receipt_counts.items() if n > 1)[:20],
        "duplicate_check_in": sorted(c for c, n in check_in_counts.items() if n > 1)[:20],
        "unexpected": sorted((set(receipt_counts) | set(check_in_counts)) - sent)[:20],
        "receipt_not_pointing_at_its_check_in": mismatched[:20],
    }
    result["ok"] = (len(receipts) == len(check_ins) == len(sent)
                    and not any(result[k] for k in result if k not in ("sent", "receipts", "check_ins")))
    out.write_text(json.dumps(result))


def main(argv: list[str]) -> int:
    app = create_app()
    with app.app_context():
        if argv[0] == "setup":
            setup(int(argv[1]), int(argv[2]), Path(argv[3]))
        elif argv[0] == "verify":
            verify(Path(argv[1]), Path(argv[2]))
        else:
            raise SystemExit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
