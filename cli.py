"""Command-line tools: `flask users create`, `flask demo seed`, `flask summaries rebuild`, `flask backup`,
`flask restore`."""
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from extensions import db
from models import Station
from models.users import ROLES

users_cli = AppGroup("users", help="Manage accounts.")
demo_cli = AppGroup("demo", help="Demo data.")
summaries_cli = AppGroup("summaries", help="Tables kept on write (totals, search keys).")


@users_cli.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--username", required=True)
@click.option("--name", required=True)
@click.option("--badge", "badge_no", default=None)
@click.option("--station", "station_name", default=None, help="Station name; created if new.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user(role, username, name, badge_no, station_name, password):
    """Create an account (the first leader of a production install, say)."""
    from blueprints.admin.services import AccountError
    from blueprints.admin.services import create_user as create

    station = db.session.scalars(select(Station).where(Station.name == station_name)).first() if station_name \
        else db.session.scalars(select(Station).order_by(Station.id)).first()
    if station is None:
        if not station_name:
            raise click.UsageError("No station yet: pass --station NAME to create one.")
        station = Station(name=station_name, code=station_name[:20])
        db.session.add(station)
        db.session.flush()
    try:
        user = create(station.id, {"username": username, "name": name, "badge_no": badge_no,
                                   "role": role, "password": password, "grids": []})
    except AccountError as error:
        raise click.UsageError(f"{error.field}: {error.message}") from None
    click.echo(f"Created {user.username} ({user.role}) in {station.name}.")


@demo_cli.command("seed")
@click.option("--scale", type=click.Choice(["small", "station"]), default="small")
@click.option("--seed", "seed_value", type=int, default=1)
@click.option("--if-empty", is_flag=True, help="Do nothing when a station already exists.")
def seed_demo(scale, seed_value, if_empty):
    """Seed a deterministic demo station (demo mode only)."""
    from flask import current_app

    import demo

    if not current_app.config.get("DEMO"):
        raise click.UsageError("Demo data is disabled in this configuration (PINGAN_DEMO=0 or production).")
    if not demo.is_empty():
        if if_empty:
            click.echo("Database already has a station; not seeding.")
            _print_logins()
            return
        raise click.UsageError("The database already has data; use an empty database.")
    ctx = demo.seed(scale, seed_value)
    click.echo(f"Seeded demo station ({scale}, seed {seed_value}) in {sum(ctx.timings.values()):.1f} s: "
               + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in ctx.timings.items()))
    _print_logins()


def _print_logins():
    import demo

    click.echo("Demo logins (password %s):" % demo.DEMO_PASSWORD)
    for username, name, _badge, role in demo.DEMO_USERS:
        click.echo(f"  {username:14s} {role}")


@summaries_cli.command("rebuild")
@click.option("--station", "station_id", type=int, default=None, help="One station's id (default: every station).")
@click.option("--check", is_flag=True, help="Recount without saving; exit 1 when a table was out of date.")
def rebuild_summaries(station_id, check):
    """Recount the totals, summaries and search keys the pages read (after hand-written SQL)."""
    import summaries

    station_ids = [station_id] if station_id else list(db.session.scalars(select(Station.id).order_by(Station.id)))
    stale = []
    connection = db.session.connection()
    for sid in station_ids:
        for name, changed in summaries.rebuild(connection, sid).items():
            click.echo(f"station {sid}: {name} {'recounted: it was out of date' if changed else 'up to date'}")
            if changed:
                stale.append((sid, name))
    if check:
        db.session.rollback()
        if stale:
            raise click.ClickException(f"{len(stale)} table(s) out of date (nothing saved).")
    else:
        db.session.commit()


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path):
    """Back up the database to PATH while the app keeps running (SQLite online backup, or pg_dump -Fc)."""
    import backup

    try:
        click.echo(backup.backup(db.engine.url, path))
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite a database that already exists.")
@with_appcontext
def restore_command(path, force):
    """Replace the SQLite database with the backup at PATH (stop the server first)."""
    import backup

    db.engine.dispose()  # no pooled connection of this process keeps the old file open
    try:
        click.echo(backup.restore(db.engine.url, path, force=force))
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
