"""`clusterstack serve`, `clusterstack db upgrade`, `clusterstack admin create-keys`.

The data directory (SQLite database, key file, logs) defaults to $CLUSTERSTACK_DATA_DIR, else
~/.local/share/clusterstack.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

DATA_DIR_ENV = "CLUSTERSTACK_DATA_DIR"
DB_URL_ENV = "CLUSTERSTACK_DB_URL"

log = logging.getLogger("clusterstack.server")


def default_data_dir() -> Path:
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".local" / "share" / "clusterstack"


def _data_dir_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
        help=f"Data directory (database, key file, logs). Default: ${DATA_DIR_ENV} or ~/.local/share/clusterstack.",
    )(func)


def _db_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--db", "db_url", default=None, envvar=DB_URL_ENV, metavar="URL",
        help="Database URL (sqlite:///..., postgresql://user@host/db, mysql://user@host/db). "
        f"Default: ${DB_URL_ENV}, else SQLite in the data directory.",
    )(func)


def _resolve_data_dir(data_dir: Path | None) -> Path:
    return (data_dir or default_data_dir()).expanduser().resolve()


def banner(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    return f"clusterstack management server: API {base}/client/api, console {base}/client/"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@_db_option
@_data_dir_option
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="Level of <data-dir>/logs/management-server.log.")
def serve(host: str, port: int, db_url: str | None, data_dir: Path | None, log_level: str) -> None:
    """Run the management server: CloudStack API on /client/api, console on /client/, metrics on /metrics.

    Upgrades the database schema first, so a fresh data directory or database is ready at once.
    """
    import uvicorn

    from clusterstack.server.app import create_app, open_server
    from clusterstack.server.logging_setup import configure_logging

    directory = _resolve_data_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    log_file = configure_logging(directory, level=log_level)
    state = open_server(directory, db_url)
    log.info("management server %s starting on %s:%d, database %s, data directory %s, log %s",
             state.msid, host, port, state.database.engine.url.render_as_string(hide_password=True),
             directory, log_file)
    click.echo(banner(host, port))
    app = create_app(state)
    try:
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, lifespan="on",
                    server_header=False)
    finally:
        state.database.dispose()
        log.info("management server %s stopped", state.msid)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
@_db_option
@_data_dir_option
def db_upgrade(db_url: str | None, data_dir: Path | None) -> None:
    """Bring the database schema to the newest migration (safe to run again)."""
    from clusterstack.server.db.engine import Database, default_url
    from clusterstack.server.db.schema import current_revision, head_revision, upgrade

    directory = _resolve_data_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    database = Database(db_url or default_url(directory))
    try:
        before = current_revision(database)
        upgrade(database)
        after = current_revision(database)
        target = database.engine.url.render_as_string(hide_password=True)
        if before == after:
            click.echo(f"{target}: schema already at {after}")
        else:
            head = head_revision(database)
            click.echo(f"{target}: schema upgraded from {before or 'empty'} to {after} (head {head})")
    finally:
        database.dispose()


def _existing_data_dir() -> Path:
    """The data directory whose database a command without --data-dir acts on: the server's or the demo's
    (<data dir>/demo), whichever has a database. Never a new, empty one: keys made there would be refused by the
    server that is running."""
    from clusterstack.server.db.engine import DEFAULT_DB_FILE

    base = _resolve_data_dir(None)
    candidates = [base, base / "demo"]
    found = [d for d in candidates if (d / DEFAULT_DB_FILE).is_file()]
    if len(found) == 1:
        click.echo(f"using the database in {found[0]}", err=True)
        return found[0]
    if found:
        raise click.UsageError(f"both {found[0]} (clusterstack serve) and {found[1]} (clusterstack demo) have a "
                               "database; say which with --data-dir")
    raise click.UsageError(f"no clusterstack database in {base} (clusterstack serve) or {base / 'demo'} "
                           "(clusterstack demo); give --data-dir with the directory the running server uses, or --db")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def admin() -> None:
    """Administrative tasks (API keys)."""


@admin.command("create-keys")
@_db_option
@_data_dir_option
def create_keys(db_url: str | None, data_dir: Path | None) -> None:
    """Create (or replace) the API key pair of the admin user and print it.

    Without --data-dir or --db it uses the database of `clusterstack serve` (the data directory) or of
    `clusterstack demo` (its demo/ subdirectory), whichever exists, and refuses when there is none or both.
    Use the pair with cs, CloudMonkey (`cmk set apikey ...; cmk set secretkey ...`) or Libcloud.
    """
    from clusterstack.server.app import open_server
    from clusterstack.server.identity.admin_keys import create_admin_keys

    directory = _resolve_data_dir(data_dir) if data_dir is not None or db_url else _existing_data_dir()
    state = open_server(directory, db_url)
    try:
        api_key, secret_key = create_admin_keys(state)
    finally:
        state.database.dispose()
    click.echo(f"apikey = {api_key}")
    click.echo(f"secretkey = {secret_key}")
