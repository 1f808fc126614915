"""`flask backup` and `flask restore`: a backup taken while officers keep syncing is one sound point in time."""
import sqlite3
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

import backup
from blueprints.sync.batch import Item, save_items
from extensions import db
from models import CheckIn, PatrolPoint, Station, SyncReceipt, User
from tests import factories

WRITER_LIMIT = 3000  # the writer thread stops by itself after this many check-ins (a bounded loop)


@pytest.fixture
def sqlite_only(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite online backup; PostgreSQL backups are pg_dump (tested with a stub below)")


class CheckInWriter(threading.Thread):
    """An officer's phone syncing one check-in after another, each in its own committed transaction."""

    def __init__(self, app, user_id: int, point_id: int):
        super().__init__(daemon=True)
        self.app, self.user_id, self.point_id = app, user_id, point_id
        self.stop = threading.Event()
        self.committed: list[str] = []  # client_ids in commit order
        self.error: BaseException | None = None

    def run(self):
        try:
            with self.app.app_context():
                user = db.session.get(User, self.user_id)
                while not self.stop.is_set() and len(self.committed) < WRITER_LIMIT:
                    client_id = str(uuid.uuid4())
                    item = Item(client_id, "checkin", "2026-11-03T21:15:00+08:00",
                                {"lat": 31.23041, "lon": 121.47372, "accuracy": 12, "point_id": self.point_id})
                    result = save_items(user, [item])[0]
                    db.session.commit()
                    assert result["status"] == "created", result
                    self.committed.append(client_id)
                db.session.remove()
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.committed) < count and time.monotonic() < deadline and self.is_alive():
            time.sleep(0.01)
        assert len(self.committed) >= count, self.error


def _writer(app, station) -> CheckInWriter:
    point = PatrolPoint(station_id=station.station.id, grid_id=station.grid_a.id, name="幸福小区东门",
                        lat=31.2304, lon=121.4737, radius_m=50)
    db.session.add(point)
    db.session.commit()
    return CheckInWriter(app, station.officer.id, point.id)


def _snapshot(path: Path) -> dict:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {
            "integrity": connection.execute("PRAGMA integrity_check").fetchall(),
            "check_ins": [row[0] for row in connection.execute("SELECT client_id FROM check_ins ORDER BY id")],
            "receipts": connection.execute("SELECT count(*) FROM sync_receipts WHERE kind = 'checkin'").fetchone()[0],
            # every CheckIn has the receipt that names it, and every receipt its CheckIn
            "orphans": connection.execute(
                "SELECT count(*) FROM check_ins c LEFT JOIN sync_receipts r ON r.record_id = c.id "
                "AND r.kind = 'checkin' AND r.client_id = c.client_id WHERE r.id IS NULL").fetchone()[0]
            + connection.execute(
                "SELECT count(*) FROM sync_receipts r LEFT JOIN check_ins c ON c.id = r.record_id "
                "WHERE r.kind = 'checkin' AND c.id IS NULL").fetchone()[0],
        }
    finally:
        connection.close()


def test_backup_during_writes_is_one_consistent_point_in_time(app, runner, station, sqlite_only, tmp_path):
    """Taken while check-ins keep arriving: integrity ok, receipts match, exactly the first N committed."""
    writer = _writer(app, station)
    writer.start()
    try:
        writer.wait_for(30)
        result = runner.invoke(args=["backup", str(tmp_path / "station.db")])
        at_backup = len(writer.committed)
        writer.wait_for(at_backup + 30)  # the writer was never blocked by the backup
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    assert writer.error is None, writer.error
    assert result.exit_code == 0, result.output
    assert "integrity ok" in result.output

    copy = _snapshot(tmp_path / "station.db")
    assert copy["integrity"] == [("ok",)]
    assert copy["orphans"] == 0
    assert len(copy["check_ins"]) == copy["receipts"]
    # A point in time: the copy holds a prefix of the commit order, nothing half-committed.
    assert 30 <= len(copy["check_ins"]) < len(writer.committed)
    assert copy["check_ins"] == writer.committed[:len(copy["check_ins"])]
    assert not (tmp_path / ".station.db.partial").exists()
    assert not Path(str(tmp_path / "station.db") + "-wal").exists()  # one self-contained file


def test_restore_refuses_to_overwrite_without_force(app, runner, station, sqlite_only, tmp_path):
    """A database that exists is not replaced unless the operator says --force."""
    assert runner.invoke(args=["backup", str(tmp_path / "b.db")]).exit_code == 0
    factories.make_user(station.station, username="after-backup")
    result = runner.invoke(args=["restore", str(tmp_path / "b.db")])
    assert result.exit_code != 0 and "--force" in result.output
    db.session.rollback()
    assert db.session.scalar(select(User).where(User.username == "after-backup")) is not None


def test_restore_with_force_brings_back_the_backup(app, runner, station, sqlite_only, tmp_path):
    """Restore replaces the live database's content with the backup's: later rows are gone, earlier kept."""
    writer, station_id = _writer(app, station), station.station.id
    writer.start()
    try:
        writer.wait_for(20)
        assert runner.invoke(args=["backup", str(tmp_path / "b.db")]).exit_code == 0
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    in_backup = _snapshot(tmp_path / "b.db")["check_ins"]
    db.session.remove()  # a fresh snapshot: the writer committed after this session last read
    factories.make_user(db.session.get(Station, station_id), username="after-backup")
    db.session.remove()

    result = runner.invoke(args=["restore", "--force", str(tmp_path / "b.db")])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert db.session.scalar(select(User).where(User.username == "after-backup")) is None
    assert list(db.session.scalars(select(CheckIn.client_id).order_by(CheckIn.id))) == in_backup
    assert db.session.scalar(select(func.count()).select_from(SyncReceipt)) == len(in_backup)
    assert db.session.execute(db.text("PRAGMA integrity_check")).scalar() == "ok"


def test_restore_refuses_a_file_that_is_not_a_pingan_database(app, runner, station, sqlite_only, tmp_path):
    """A zip, an empty SQLite file or a missing file: refused with a message; nothing replaced."""
    (tmp_path / "photo.db").write_bytes(b"PK\x03\x04 not a database" * 100)
    sqlite3.connect(tmp_path / "other.db").execute("CREATE TABLE t (x)").connection.close()
    for name, message in (("photo.db", "not a readable SQLite database"), ("other.db", "not a Pingan database"),
                          ("missing.db", "No backup file")):
        result = runner.invoke(args=["restore", "--force", str(tmp_path / name)])
        assert result.exit_code != 0 and message in result.output, result.output
    assert db.session.get(User, station.officer.id) is not None


def test_backup_into_a_directory_or_of_memory_is_refused(app, runner, sqlite_only, tmp_path):
    result = runner.invoke(args=["backup", str(tmp_path)])
    assert result.exit_code != 0
    with pytest.raises(backup.BackupError, match="in-memory"):
        backup.backup(db.engine.url.set(database=":memory:"), tmp_path / "x.db")


def test_postgresql_backup_runs_pg_dump_custom_format(app, tmp_path, monkeypatch):
    """On PostgreSQL the CLI shells out to `pg_dump -Fc` with a libpq URL; restore names pg_restore."""
    url = db.engine.url.set(drivername="postgresql+psycopg", host="127.0.0.1", database="pingan",
                            username="postgres", password=None, port=5432)
    calls = []

    def fake_run(command, **kwargs):
        calls.append(command)
        Path(command[command.index("--file") + 1]).write_bytes(b"PGDMP")

        class Done:
            returncode, stderr = 0, ""
        return Done()

    monkeypatch.setattr(backup.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(backup.subprocess, "run", fake_run)
    message = backup.backup(url, tmp_path / "station.dump")
    assert calls[0][0] == "pg_dump" and "--format=custom" in calls[0]
    assert calls[0][-1] == "postgresql://postgres@127.0.0.1:5432/pingan"
    assert "pg_dump -Fc" in message
    with pytest.raises(backup.BackupError, match="pg_restore"):
        backup.restore(url, tmp_path / "station.dump", force=True)
