"""A management server killed in the middle of a deploy: the job finishes or fails cleanly, nothing half-made."""

from __future__ import annotations

import os
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

from clusterstack.demo import ApiClient, set_up_seed_cloud

from .seed_cloud import cluster_target


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(data_dir: Path, db_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "clusterstack.cli", "serve", "--port", str(port), "--data-dir", str(data_dir),
         "--db", db_url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    endpoint = f"http://127.0.0.1:{port}/client/api"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(endpoint, timeout=2)
            return process, endpoint
        except httpx.TransportError:
            assert process.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)


@pytest.mark.parametrize("driver", ["http", "winrm"])
def test_restart_in_the_middle_of_a_deploy(tmp_path: Path, simulator_factory: Any, driver: str) -> None:
    from clusterstack.server.app import open_server
    from clusterstack.server.identity.admin_keys import create_admin_keys

    # a VM takes 5 s to start: long enough to die in the middle
    sim = simulator_factory(speed=0.2, winrm=driver == "winrm")
    data_dir, db_url = tmp_path / "ms", f"sqlite:///{tmp_path / 'ms.db'}"
    state = open_server(data_dir, db_url)
    key, secret = create_admin_keys(state)
    state.database.dispose()
    first, endpoint = _serve(data_dir, db_url)
    second = None
    try:
        ids = set_up_seed_cloud(ApiClient(endpoint, key, secret), cluster_target(sim))
        client = cs.CloudStack(endpoint=endpoint, key=key, secret=secret)
        offering = next(o["id"] for o in client.listServiceOfferings()["serviceoffering"]
                        if o["name"] == "HA Offering")
        deadline = time.monotonic() + 60
        while any(h["state"] != "Up" for h in client.listHosts()["host"]):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        answer = client.deployVirtualMachine(zoneid=ids["zone"], serviceofferingid=offering,
                                             templateid=ids["template"], name="survivor")
        job_id, vm_id = answer["jobid"], answer["id"]
        while not sim.report()["roles"]:  # the role exists in the cluster, the VM is still starting
            assert time.monotonic() < deadline, "the deploy never reached the cluster"
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        second, endpoint = _serve(data_dir, db_url)
        client = cs.CloudStack(endpoint=endpoint, key=key, secret=secret)
        deadline = time.monotonic() + 120
        while (job := client.queryAsyncJobResult(jobid=job_id))["jobstatus"] == 0:
            assert time.monotonic() < deadline, "the job was lost"
            time.sleep(0.2)
        roles = sim.report()["roles"]
        if job["jobstatus"] == 1:
            [vm] = client.listVirtualMachines(id=vm_id)["virtualmachine"]
            assert vm["state"] == "Running"
            assert [r["name"] for r in roles] == [vm["instancename"]]  # adopted, not created twice
        else:
            assert "Traceback" not in job["jobresult"]["errortext"]
            assert roles == []  # nothing half-made in the cluster
            assert not client.listVirtualMachines(id=vm_id).get("virtualmachine")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
