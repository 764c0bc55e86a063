"""A host's allocated CPU and memory follow its instances through deploy, stop, start and live migration."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from .seed_cloud import wait_until
from .test_instances import _deploy, seed  # noqa: F401 - the fixture

MB = 1024 * 1024


def _allocated(world: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {h["name"]: (h["cpuallocatedvalue"], h["memoryallocated"]) for h in world["cs"].listHosts()["host"]}


def test_allocation_follows_the_instances(seed: dict[str, Any]) -> None:  # noqa: F811
    client = seed["cs"]
    assert _allocated(seed) == {"HYPERVCLLOUD13": (0, 0), "HYPERVCLLOUD17": (0, 0)}
    first = _deploy(seed, "alloc1", "HA Offering", "HYPERVCLLOUD13")
    _deploy(seed, "alloc2", "Small Instance", "HYPERVCLLOUD13")
    assert _allocated(seed) == {"HYPERVCLLOUD13": (2 * 500, 2 * 512 * MB), "HYPERVCLLOUD17": (0, 0)}
    client.stopVirtualMachine(id=first["id"])
    assert _allocated(seed) == {"HYPERVCLLOUD13": (500, 512 * MB), "HYPERVCLLOUD17": (0, 0)}
    client.startVirtualMachine(id=first["id"])
    client.migrateVirtualMachine(virtualmachineid=first["id"], hostid=seed["hosts"]["HYPERVCLLOUD17"])
    assert _allocated(seed) == {"HYPERVCLLOUD13": (500, 512 * MB), "HYPERVCLLOUD17": (500, 512 * MB)}


def _placed(world: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """What listVirtualMachines says each host runs, as the CPU and memory those instances hold."""
    held = {name: (0, 0) for name in world["hosts"]}
    for vm in world["cs"].listVirtualMachines(listall=True)["virtualmachine"]:
        if vm["state"] == "Running":
            cpu, memory = held[vm["hostname"]]
            held[vm["hostname"]] = (cpu + vm["cpunumber"] * vm["cpuspeed"], memory + vm["memory"] * MB)
    return held


def test_allocation_follows_moves_the_cluster_makes_by_itself(seed: dict[str, Any],  # noqa: F811
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """Live migrations made in Failover Cluster Manager and failovers after a crash move the allocation too:
    each host holds what listVirtualMachines says runs on it, after every one of 20 out-of-band moves."""
    caplog.set_level(logging.INFO, logger="clusterstack")
    client, sim = seed["cs"], seed["sim"]
    vms = [_deploy(seed, f"oob{i}", "HA Offering", "HYPERVCLLOUD13") for i in range(3)]
    for move in range(20):
        vm = vms[move % len(vms)]
        current = client.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["hostname"]
        target = "HYPERVCLLOUD17" if current == "HYPERVCLLOUD13" else "HYPERVCLLOUD13"
        httpx.post(f"{sim.url}/roles/{vm['instancename']}/move", json={"node": target, "type": "live"},
                   timeout=30).raise_for_status()
        wait_until(lambda v=vm, t=target: client.listVirtualMachines(id=v["id"])["virtualmachine"][0]["hostname"]
                   == t)
        assert _allocated(seed) == _placed(seed)
    # the management log names the instance it saw move, as CloudStack's does
    assert any(f"Detected out of band VM migration of VM oob0 ({vms[0]['instancename']}) from host" in r.getMessage()
               for r in caplog.records)
    # a failover: every HA instance ends up on the survivor, and so does all of the allocation
    sim.fault("node-down", node="HYPERVCLLOUD17")
    wait_until(lambda: all(v["hostname"] == "HYPERVCLLOUD13" and v["state"] == "Running"
                           for v in client.listVirtualMachines(listall=True)["virtualmachine"]))
    assert _allocated(seed) == {"HYPERVCLLOUD13": (3 * 500, 3 * 512 * MB), "HYPERVCLLOUD17": (0, 0)}
