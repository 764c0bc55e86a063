"""Async jobs through real clients: run to completion, fail with an answer, survive a management-server restart."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import cs
import httpx
import pytest
from inventory_seed import create_zone
from libcloud.compute.drivers.cloudstack import CloudStackNodeDriver

from clusterstack.server.api.errors import param_error
from clusterstack.server.api.registry import ADMIN, api_command, find_command

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0000$")
FAILING_ASYNC = "failingJobForTest"
HERE = Path(__file__).parent


def _register_template(client: Any) -> dict[str, Any]:
    zone = create_zone(client)
    [template] = client.registerTemplate(name="win2022", displaytext="Windows Server 2022", format="VHD",
                                         hypervisor="Hyper-V", zoneid=zone["id"],
                                         url="http://127.0.0.1/templates/win2022.vhd")["template"]
    return template


def _wait_for_job(client: Any, job_id: str, seconds: float = 120) -> dict[str, Any]:
    """Poll queryAsyncJobResult until the job is no longer pending (bounded, so a lost job fails the test)."""
    deadline = time.monotonic() + seconds
    while True:
        job = client.queryAsyncJobResult(jobid=job_id)
        if job["jobstatus"] != 0:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still pending: {job}"
        time.sleep(0.1)


def test_async_job_runs_to_completion(cloud: Any) -> None:
    client = cloud.cs(fetch_result=False)
    template = _register_template(client)
    submitted = client.deleteTemplate(id=template["id"])
    assert set(submitted) >= {"jobid"}
    job = _wait_for_job(client, submitted["jobid"])
    assert job["jobstatus"] == 1 and job["jobresultcode"] == 0
    assert job["jobresulttype"] == "object"
    assert job["jobresult"]["success"] is True
    assert job["jobinstancetype"] == "Template" and job["jobinstanceid"] == template["id"]
    assert "deletetemplate" in job["cmd"].lower()
    assert DATE.match(job["created"])
    listed = client.listAsyncJobs()
    assert submitted["jobid"] in [j["jobid"] for j in listed["asyncjobs"]]


def test_cs_fetch_result_waits_for_the_job(cloud: Any) -> None:
    client = cloud.cs()  # fetch_result=True: cs polls queryAsyncJobResult itself
    template = _register_template(client)
    assert client.deleteTemplate(id=template["id"]) == {"success": True}
    assert client.listTemplates(templatefilter="all") == {}


def test_libcloud_async_request_returns_the_job_result(cloud: Any) -> None:
    template = _register_template(cloud.cs())
    key, secret = cloud.admin_keys()
    driver = CloudStackNodeDriver(key, secret, secure=False, host="127.0.0.1", port=cloud.port,
                                  path="/client/api")
    driver.connection.poll_interval = 0.1
    result = driver._async_request("deleteTemplate", params={"id": template["id"]})
    assert result["success"] is True


def test_a_failing_job_reports_status_2_with_an_error(cloud: Any) -> None:
    if find_command(FAILING_ASYNC) is None:

        @api_command(FAILING_ASYNC, description="test only: an async job that fails", isasync=True,
                     response="success", roles=ADMIN)
        def failing(ctx: Any, p: dict[str, Any]) -> dict[str, Any]:
            raise param_error("the job found something wrong")

    client = cloud.cs(fetch_result=False)
    submitted = client.failingJobForTest()
    job = _wait_for_job(client, submitted["jobid"])
    assert job["jobstatus"] == 2
    assert job["jobresultcode"] == job["jobresult"]["errorcode"] == 431
    assert job["jobresult"]["errortext"] == "the job found something wrong"
    with pytest.raises(cs.CloudStackApiException):
        cloud.cs().failingJobForTest()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_slow_server(data_dir: Path, db_url: str, markers: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(HERE / "slow_job_server.py"), str(data_dir), db_url, str(port), str(markers)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    endpoint = f"http://127.0.0.1:{port}/client/api"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(endpoint, timeout=2)
            return process, endpoint
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(process.stderr.read().decode() if process.stderr else "no output") from None
            time.sleep(0.1)


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


@pytest.mark.parametrize("command, resumable", [("slowJobForTest", False), ("slowResumableJobForTest", True)])
def test_restart_mid_job_finishes_or_fails_cleanly(tmp_path: Path, db_url: str, command: str,
                                                   resumable: bool) -> None:
    """Kill the management server while a job runs; the next one on the database runs a resumable job again to
    completion and fails any other with an answer. Either way the job ends: never lost, never stuck."""
    from clusterstack.server.app import open_server
    from clusterstack.server.identity.admin_keys import create_admin_keys

    data_dir, markers = tmp_path / "data", tmp_path / "markers"
    markers.mkdir()
    state = open_server(data_dir, db_url)
    key, secret = create_admin_keys(state)
    state.database.dispose()

    first, endpoint = _start_slow_server(data_dir, db_url, markers)
    second = None
    try:
        client = cs.CloudStack(endpoint=endpoint, key=key, secret=secret)
        job_id = client._request(command)["jobid"]
        deadline = time.monotonic() + 60
        while not list(markers.glob("started-*")):
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
        _kill(first)  # the management server dies with the job running
        (markers / "release").touch()
        second, endpoint = _start_slow_server(data_dir, db_url, markers)
        client = cs.CloudStack(endpoint=endpoint, key=key, secret=secret)
        job = _wait_for_job(client, job_id, seconds=240)
        if resumable:
            assert job["jobstatus"] == 1, job
            assert job["jobresult"] == {"success": True}
            assert len(list(markers.glob("started-*"))) == 2  # run by the first server, then the second
        else:
            assert job["jobstatus"] == 2, job
            assert job["jobresultcode"] == job["jobresult"]["errorcode"] >= 500
            assert job["jobresult"]["errortext"] and "Traceback" not in job["jobresult"]["errortext"]
    finally:
        _kill(first)
        if second is not None:
            _kill(second)


def test_metrics_count_jobs_by_state(cloud: Any) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    client = cloud.cs()
    template = _register_template(client)
    assert client.deleteTemplate(id=template["id"]) == {"success": True}
    text = httpx.get(f"{cloud.base_url}/metrics").text
    [family] = [f for f in text_string_to_metric_families(text) if f.name == "clusterstack_async_jobs"]
    by_state = {s.labels["state"]: s.value for s in family.samples}
    assert sum(by_state.values()) >= 1, by_state
