"""The database layer for real on every backend: migrations from empty, an API flow with an async job on
SQLite, PostgreSQL and MariaDB, and two management servers sharing one PostgreSQL without ever running a job
twice."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from clusterstack.server.api.registry import ADMIN, api_command
from clusterstack.server.db.engine import Database
from clusterstack.server.db.schema import current_revision, head_revision, upgrade

EXECUTIONS_LOCK = threading.Lock()
EXECUTIONS: list[tuple[str, str]] = []  # (job uuid, msid) for every run of the test job


@api_command("countedJobForTest", description="test only: an async job that records each execution",
             isasync=True, response="success", roles=ADMIN)
def counted_job(ctx: Any, p: dict[str, Any]) -> dict[str, Any]:
    time.sleep(0.02)
    with EXECUTIONS_LOCK:
        EXECUTIONS.append((ctx.job_uuid, ctx.server.msid))
    return {"success": True}


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def any_db_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def any_fresh_db_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"fresh_{request.param}_url")


def test_migrations_run_from_empty_and_are_idempotent(any_fresh_db_url: str) -> None:
    database = Database(any_fresh_db_url)
    try:
        assert current_revision(database) is None
        upgrade(database)
        assert current_revision(database) == head_revision(database)
        upgrade(database)  # a second server starting on the same database changes nothing
        assert current_revision(database) == head_revision(database)
    finally:
        database.dispose()


def test_an_api_flow_with_an_async_job(any_db_url: str, live_server_factory: Any) -> None:
    server = live_server_factory(any_db_url)
    client = server.cs()
    zone = client.createZone(name="HVCluster", networktype="Advanced", dns1="8.8.8.8",
                             internaldns1="10.0.0.1")["zone"]
    for i in range(7):
        client.createPod(name=f"P{i}", zoneid=zone["id"], gateway="10.1.0.1", netmask="255.255.0.0",
                         startip=f"10.1.{i}.10", endip=f"10.1.{i}.20")
    pages = [client.listPods(page=n, pagesize=3).get("pod", []) for n in (1, 2, 3)]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert client.countedJobForTest() == {"success": True}


def test_two_management_servers_never_run_a_job_twice(postgres_url: str, live_server_factory: Any,
                                                      tmp_path: Path) -> None:
    first = live_server_factory(postgres_url, tmp_path / "ms1")
    second = live_server_factory(postgres_url, tmp_path / "ms2")
    client = first.cs(fetch_result=False)
    with EXECUTIONS_LOCK:
        EXECUTIONS.clear()
    jobs = [client.countedJobForTest()["jobid"] for _ in range(60)]
    deadline = time.monotonic() + 120
    while True:
        with EXECUTIONS_LOCK:
            done = len(EXECUTIONS)
        if done >= len(jobs) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    time.sleep(2)  # room for a duplicate run to show up, if there were one
    with EXECUTIONS_LOCK:
        ran = list(EXECUTIONS)
    assert sorted(uuid for uuid, _ in ran) == sorted(jobs), "every job ran exactly once"
    servers = {msid for _, msid in ran}
    assert servers <= {first.state.msid, second.state.msid}
    statuses = {client.queryAsyncJobResult(jobid=j)["jobstatus"] for j in jobs}
    assert statuses == {1}
