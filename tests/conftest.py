"""Shared fixtures: real databases (SQLite, PostgreSQL, MariaDB) and a real management server over HTTP."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import create_engine, inspect, text

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIADB_ADMIN_URL = "mysql+pymysql://root@127.0.0.1:3306/test"


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _migrate(url: str) -> None:
    from clusterstack.server.db.engine import Database
    from clusterstack.server.db.schema import upgrade

    database = Database(url)
    try:
        upgrade(database)
    finally:
        database.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating every test's database is slow)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, _sqlite_template: Path) -> str:
    target = tmp_path / "clusterstack.db"
    shutil.copyfile(_sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def fresh_sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite database (no schema yet), for tests of migrations themselves."""
    return f"sqlite:///{tmp_path / 'fresh.db'}"


def _truncate_all(url: str, statements: Callable[[list[str]], list[str]]) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
            for statement in statements(tables):
                conn.execute(text(statement))
    finally:
        engine.dispose()


@contextmanager
def _server_database(admin_url: str, create: str, drop: str, url_for: Callable[[str], str]) -> Iterator[str]:
    name = f"cstest_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(create.format(name=name)))
        yield url_for(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(drop.format(name=name)))
        admin.dispose()


def _pg_url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _maria_url(name: str) -> str:
    return f"mysql+pymysql://root@127.0.0.1:3306/{name}"


_PG_CREATE = 'CREATE DATABASE "{name}"'
_PG_DROP = 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
_MARIA_CREATE = "CREATE DATABASE `{name}` CHARACTER SET utf8mb4"
_MARIA_DROP = "DROP DATABASE IF EXISTS `{name}`"


def _require(port: int, what: str) -> None:
    """A database server the test needs: in CI (CI set) its absence fails the run, never skips it quietly; a
    developer without it sees the tests skipped and why."""
    if not _port_open(port):
        message = f"{what} is not running on 127.0.0.1:{port} (scripts/start-databases starts it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def _postgres_session_db() -> Iterator[str]:
    _require(5432, "PostgreSQL")
    with _server_database(POSTGRES_ADMIN_URL, _PG_CREATE, _PG_DROP, _pg_url) as url:
        _migrate(url)
        yield url


@pytest.fixture
def postgres_url(_postgres_session_db: str) -> str:
    """A migrated, empty PostgreSQL database (one per test session, emptied before each test)."""
    def statements(tables: list[str]) -> list[str]:
        quoted = ", ".join(f'"{t}"' for t in tables)
        return [f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"] if tables else []

    _truncate_all(_postgres_session_db, statements)
    return _postgres_session_db


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """A brand-new PostgreSQL database with no schema, dropped afterwards."""
    _require(5432, "PostgreSQL")
    with _server_database(POSTGRES_ADMIN_URL, _PG_CREATE, _PG_DROP, _pg_url) as url:
        yield url


@pytest.fixture(scope="session")
def _mariadb_session_db() -> Iterator[str]:
    _require(3306, "MariaDB")
    with _server_database(MARIADB_ADMIN_URL, _MARIA_CREATE, _MARIA_DROP, _maria_url) as url:
        _migrate(url)
        yield url


@pytest.fixture
def mariadb_url(_mariadb_session_db: str) -> str:
    """A migrated, empty MariaDB database (one per test session, emptied before each test)."""
    _truncate_all(_mariadb_session_db,
                  lambda tables: ["SET FOREIGN_KEY_CHECKS=0", *[f"TRUNCATE TABLE `{t}`" for t in tables],
                                  "SET FOREIGN_KEY_CHECKS=1"])
    return _mariadb_session_db


@pytest.fixture
def fresh_mariadb_url() -> Iterator[str]:
    """A brand-new MariaDB database with no schema, dropped afterwards."""
    _require(3306, "MariaDB")
    with _server_database(MARIADB_ADMIN_URL, _MARIA_CREATE, _MARIA_DROP, _maria_url) as url:
        yield url


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


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_db_url(request: pytest.FixtureRequest) -> str:
    """An empty database with no schema, on SQLite and again on PostgreSQL (tests of migrations)."""
    return request.getfixturevalue(f"fresh_{request.param}_url")


def _free_port_block(count: int) -> int:
    """A base port with `count` consecutive free ports on 127.0.0.1 (the simulator's API and its nodes)."""
    import random

    for _ in range(200):
        # Below Linux's ephemeral range (32768-60999): a port picked there can be taken by any outgoing
        # connection between our check and the server's bind.
        base = random.randint(20000, 32700 - count)
        ok = True
        for port in range(base, base + count):
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no block of free ports")


def _winrm_prefix_and_ports(addresses: int) -> tuple[str, int, int]:
    """A random loopback prefix 127.<100-250>.<0-250> and two ports free on its first `addresses` addresses from
    .10 (the cluster name and the nodes): WinRM's HTTPS and HTTP ports."""
    import random

    for _ in range(200):
        prefix = f"127.{random.randint(100, 250)}.{random.randint(0, 250)}"
        ports = random.sample(range(20000, 32700), 2)
        ok = True
        for octet in range(10, 10 + addresses):
            for port in ports:
                with socket.socket() as sock:
                    try:
                        sock.bind((f"{prefix}.{octet}", port))
                    except OSError:
                        ok = False
        if ok:
            return prefix, ports[0], ports[1]
    raise RuntimeError("no free WinRM prefix")


class LiveSimulator:
    """A simulated failover cluster served over HTTP in this process (the seed topology by default)."""

    def __init__(self, topology: Path | None = None, speed: float = 1.0, state_file: Path | None = None,
                 winrm: bool = False, winrm_host_factory: Any = None) -> None:
        """`winrm=True`: the cluster and its nodes also answer WinRM (HTTPS and HTTP) on a random loopback
        prefix (`winrm_addresses()`), with the simulated cmdlets or `winrm_host_factory`."""
        from clusterstack.simulator.cli import seed_topology
        from clusterstack.simulator.scenario import load_topology

        self.spec = load_topology(topology or seed_topology())
        self.speed = speed
        self.state_file = state_file
        self.winrm = winrm
        self.winrm_host_factory = winrm_host_factory
        self.port = 0
        self.sim: Any = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveSimulator:
        from clusterstack.simulator.http_api import create_app
        from clusterstack.simulator.service import SimulatedCluster

        self.port = _free_port_block(len(self.spec.nodes) + 1)
        winrm = None
        if self.winrm:
            from clusterstack.simulator.winrm.endpoints import WinRMConfig

            prefix, https_port, http_port = _winrm_prefix_and_ports(len(self.spec.nodes) + 1)
            winrm = WinRMConfig(prefix=prefix, https_port=https_port, http_port=http_port,
                                host_factory=self.winrm_host_factory)
        self.sim = SimulatedCluster(self.spec, port=self.port, speed=self.speed, state_file=self.state_file,
                                    winrm=winrm)
        config = uvicorn.Config(create_app(self.sim), host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("simulator did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._server = self._thread = None

    def fault(self, kind: str, **body: Any) -> Any:
        import httpx

        response = httpx.post(f"{self.url}/faults/{kind}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def report(self) -> Any:
        import httpx

        return httpx.get(f"{self.url}/cluster", timeout=30).json()

    def winrm_addresses(self) -> Any:
        """GET /winrm: {"cluster": url, "nodes": {name: url}, "ca_file": path, "ca_pem": text, "http": {...}}."""
        import httpx

        response = httpx.get(f"{self.url}/winrm", timeout=30)
        response.raise_for_status()
        return response.json()


@pytest.fixture
def simulator_factory() -> Iterator[Any]:
    started: list[LiveSimulator] = []

    def make(**options: Any) -> LiveSimulator:
        sim = LiveSimulator(**options)
        started.append(sim)
        return sim.start()

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
def simulator(simulator_factory: Any) -> LiveSimulator:
    """The seed's failover cluster CI1, simulated at 10x speed (a crash is noticed after 1 s)."""
    return simulator_factory(speed=10.0)
