"""Shared fixtures: real databases (SQLite, PostgreSQL, MariaDB) and a real management server over HTTP."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import create_engine, text

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIADB_ADMIN_URL = "mysql+pymysql://root@127.0.0.1:3306/test"


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'clusterstack.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    if not _port_open(5432):
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432 (scripts/start-databases starts it)")
    name = f"cstest_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """A fresh MariaDB database for one test, dropped afterwards."""
    if not _port_open(3306):
        pytest.skip("MariaDB is not running on 127.0.0.1:3306 (scripts/start-databases starts it)")
    name = f"cstest_{uuid.uuid4().hex[:10]}"
    admin = create_engine(MARIADB_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        yield f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Run a test on SQLite and again on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


class LiveServer:
    """A real management server (uvicorn on an ephemeral loopback port) on a given database."""

    def __init__(self, data_dir: Path, db_url: str) -> None:
        self.data_dir = data_dir
        self.db_url = db_url
        self.state: Any = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/client/api"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        from clusterstack.server.app import create_app, open_server

        self.state = open_server(self.data_dir, self.db_url)
        app = create_app(self.state)
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not (self._server.started and self._server.servers):
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("management server did not start")
            time.sleep(0.02)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.state is not None:
            self.state.database.dispose()
        self._server = self._thread = None

    def admin_keys(self) -> tuple[str, str]:
        from clusterstack.server.identity.admin_keys import create_admin_keys

        return create_admin_keys(self.state)

    def cs(self, key: str | None = None, secret: str | None = None, **options: Any) -> Any:
        """A real `cs` client, signed with the given keys (the admin's by default)."""
        import cs

        if key is None or secret is None:
            key, secret = self.admin_keys()
        options.setdefault("fetch_result", True)
        options.setdefault("poll_interval", 0.05)
        options.setdefault("job_timeout", 60)
        return cs.CloudStack(endpoint=self.endpoint, key=key, secret=secret, **options)


@pytest.fixture
def live_server_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[LiveServer] = []

    def make(db_url: str | None = None, data_dir: Path | None = None) -> LiveServer:
        directory = data_dir or tmp_path / f"ms{len(started)}"
        server = LiveServer(directory, db_url or f"sqlite:///{tmp_path / 'clusterstack.db'}")
        started.append(server)
        return server.start()

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def live_server(live_server_factory: Any, sqlite_url: str) -> LiveServer:
    return live_server_factory(sqlite_url)
