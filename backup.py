"""Backups of the station's database: `flask backup PATH` and `flask restore PATH [--force]`.

SQLite: the online backup API (sqlite3.Connection.backup) copies the database in one step from a
read transaction, so the copy is one consistent point in time while officers keep writing (WAL lets
writers go on beside a reader). The copy is written next to PATH, checked with
`PRAGMA integrity_check`, then renamed into place, so PATH is never a half-written file.
PostgreSQL: `pg_dump -Fc` (custom format, consistent snapshot, restored with pg_restore); the CLI
runs it when pg_dump is installed, and prints the command otherwise.

Photos live on disk under UPLOAD_FOLDER, not in the database: copy that folder too (README.md).
"""
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL

REQUIRED_TABLES = {"stations", "users", "sync_receipts"}  # what makes a file a Pingan database


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


def sqlite_path(url: URL) -> Path:
    """The database file of a SQLite URL (an in-memory database cannot be backed up)."""
    if not url.database or url.database == ":memory:":
        raise BackupError("This is an in-memory SQLite database: there is nothing on disk to back up.")
    return Path(url.database)


def libpq_url(url: URL) -> str:
    """The URL as pg_dump/pg_restore understand it (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def pg_dump_command(url: URL, path: Path) -> list[str]:
    """pg_dump in custom format (-Fc): compressed, and pg_restore can pick tables or run in parallel."""
    return ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(path), libpq_url(url)]


def pg_restore_command(url: URL, path: Path) -> list[str]:
    return ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
            "--dbname", libpq_url(url), str(path)]


def check_sqlite_file(path: Path) -> None:
    """Refuse a file that is not a sound Pingan SQLite database."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = connection.execute("PRAGMA integrity_check").fetchall()
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a readable SQLite database ({error}).") from None
    if result != [("ok",)]:
        raise BackupError(f"{path} fails the integrity check: {result[:3]}")
    if not REQUIRED_TABLES <= tables:
        raise BackupError(f"{path} is not a Pingan database (tables {sorted(REQUIRED_TABLES - tables)} missing).")


def backup_sqlite(source: Path, path: Path) -> None:
    """Copy the live database to `path` in one consistent step, checked before it is put in place."""
    if not source.exists():
        raise BackupError(f"The database file {source} does not exist.")
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        dest = sqlite3.connect(partial)
        try:
            # pages=-1: everything in one step, i.e. one read transaction and one point in time.
            # (In steps, a write by another connection between two steps restarts the copy.)
            src.backup(dest, pages=-1)
            dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            dest.close()
    finally:
        src.close()
    try:
        check_sqlite_file(partial)
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)


def backup(url: URL, path: Path) -> str:
    """Back up the configured database to `path`; returns a line for the operator."""
    path = path.resolve()
    if path.exists() and path.is_dir():
        raise BackupError(f"{path} is a directory: give a file name.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        backup_sqlite(sqlite_path(url), path)
        return f"SQLite backup written to {path} ({path.stat().st_size} bytes, integrity ok)."
    if url.get_backend_name() == "postgresql":
        command = pg_dump_command(url, path)
        if shutil.which("pg_dump") is None:
            raise BackupError("pg_dump is not installed (apt-get install postgresql-client); run: "
                              + " ".join(command))
        completed = subprocess.run(command, capture_output=True, text=True)
        if completed.returncode != 0:
            raise BackupError(f"pg_dump failed: {completed.stderr.strip()}")
        return f"PostgreSQL backup (pg_dump -Fc) written to {path} ({path.stat().st_size} bytes)."
    raise BackupError(f"No backup method for {url.get_backend_name()}.")


def has_data(path: Path) -> bool:
    """Whether a database file exists with any table in it (restoring over it needs --force)."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] > 0
    finally:
        connection.close()


def restore(url: URL, path: Path, *, force: bool) -> str:
    """Replace the configured SQLite database with the backup at `path` (stop the server first)."""
    path = path.resolve()
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    if url.get_backend_name() == "postgresql":
        raise BackupError("Restore a PostgreSQL backup with pg_restore (stop the server first): "
                          + " ".join(pg_restore_command(url, path)))
    if url.get_backend_name() != "sqlite":
        raise BackupError(f"No restore method for {url.get_backend_name()}.")
    target = sqlite_path(url)
    check_sqlite_file(path)
    if has_data(target) and not force:
        raise BackupError(f"{target} already holds a database: restoring would overwrite it. "
                          "Stop the server, keep a backup of it, and run again with --force.")
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        dest = sqlite3.connect(target, timeout=30)
        try:
            # The backup API writes through SQLite's own locking and WAL, unlike copying the file
            # over a live database (its -wal and -shm files would no longer match).
            src.backup(dest, pages=-1)
        finally:
            dest.close()
    finally:
        src.close()
    check_sqlite_file(target)
    return f"Restored {target} from {path} (integrity ok). Run `flask db upgrade` if the backup is older."
