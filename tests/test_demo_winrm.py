"""`clusterstack demo --driver winrm`: the seed's cloud over PowerShell remoting, as a new user runs it."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from clusterstack.demo import SIM_PASSWORD
from tests.ui.demo_process import DemoProcess, free_port_block


def _until(predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


def test_demo_over_winrm_runs_the_seed_story(tmp_path: Path) -> None:
    prefix = f"127.{random.randint(100, 250)}.{random.randint(0, 250)}"
    demo = DemoProcess(tmp_path / "demo", speed=10.0, winrm=(prefix, free_port_block(1))).start()
    try:
        api = demo.admin()
        # the banner's hint works as printed: the simulator's real address, a command this shell can run
        [hint] = [line for line in demo.log.read_text().splitlines() if line.startswith("fail a node:")]
        command = hint.split()[3]
        assert f"sim node-down HYPERVCLLOUD17 --sim {demo.sim_url}" in hint
        assert command == "clusterstack" or Path(command).exists()
        [summary] = api.items("listFailoverClusters", "failovercluster")
        assert summary["address"] == f"https://{prefix}.10:{demo.winrm[1]}/wsman" and summary["quorumstate"] == "Up"
        hosts = {h["name"]: h for h in api.items("listHosts", "host", type="Routing")}
        assert {h["ipaddress"] for h in hosts.values()} == {f"{prefix}.11", f"{prefix}.12"}
        ids = demo.seed_ids(api)
        vm = api("deployVirtualMachine", zoneid=ids["zone"], serviceofferingid=ids["ha"], templateid=ids["template"],
                 hostid=hosts["HYPERVCLLOUD17"]["id"], name="HAVM1")["virtualmachine"]  # (waits for the job)
        assert (vm["state"], vm["hostname"]) == ("Running", "HYPERVCLLOUD17")
        demo.sim("node-down", "HYPERVCLLOUD17")

        def failed_over() -> bool:
            [now] = api.items("listVirtualMachines", "virtualmachine", id=vm["id"])
            return bool(now.get("hostname") == "HYPERVCLLOUD13" and now["state"] == "Running")

        _until(failed_over)
        assert SIM_PASSWORD not in (demo.data_dir / "logs" / "management-server.log").read_text()
    finally:
        demo.stop()
