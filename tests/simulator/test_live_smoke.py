"""The live simulator over HTTP: a VM as a role, a crash, the feed, the node endpoint going dark."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from clusterstack.hypervisor.base import NodeUnreachable, NotEnoughMemory, NotFound, VhdSpec, VmSpec
from clusterstack.hypervisor.simulator import SimulatorDriver


def _wait(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def test_driver_sees_a_crash_through_the_feed_and_the_node_endpoint(simulator: Any) -> None:
    driver = SimulatorDriver(simulator.url)
    vm = driver.create_vm(VmSpec(name="i-2-5-VM", cpus=1, memory_mb=512, priority=2000, node="HYPERVCLLOUD17",
                                 vhds=(VhdSpec(r"C:\ClusterStorage\Volume1\i-2-5-VM\ROOT-5.vhdx", 8 * 1024**3),)))
    assert vm.owner_node == "HYPERVCLLOUD17"
    _wait(lambda: driver.report().role("i-2-5-VM").vm_state == "Running")
    report = driver.report()
    assert driver.ping_node("HYPERVCLLOUD17").name == "HYPERVCLLOUD17"
    assert report.csv(r"C:\ClusterStorage\Volume1").free_bytes == 92 * 1024**3

    simulator.fault("node-down", node="HYPERVCLLOUD17")
    with pytest.raises(NodeUnreachable):
        driver.ping_node("HYPERVCLLOUD17")
    cursor = driver.report().cursor
    assert driver.wait_for_change(cursor, 10.0) > cursor  # the removal (1 s at 10x) wakes the feed
    _wait(lambda: driver.report().role("i-2-5-VM").owner_node == "HYPERVCLLOUD13"
          and driver.report().role("i-2-5-VM").vm_state == "Running")
    assert driver.report().node("HYPERVCLLOUD17").state == "Down"
    assert any(e.id == 1135 for e in driver.read_events().events)


def test_errors_come_back_typed_and_change_nothing(simulator: Any) -> None:
    driver = SimulatorDriver(simulator.url)
    response = httpx.post(f"{simulator.url}/roles", json={"name": "big", "cpus": 1}, timeout=10)
    assert response.status_code == 400 and response.json()["error"] == "bad_request"
    driver.create_vm(VmSpec(name="a", cpus=1, memory_mb=60000, priority=2000))
    driver.create_vm(VmSpec(name="b", cpus=1, memory_mb=60000, priority=2000))
    before = driver.report()
    with pytest.raises(NotEnoughMemory):
        driver.create_vm(VmSpec(name="c", cpus=1, memory_mb=60000, priority=2000,
                                vhds=(VhdSpec(r"C:\ClusterStorage\Volume1\c\ROOT.vhdx", 1024**3),)))
    after = driver.report()
    assert [r.name for r in after.roles] == ["a", "b"]
    assert after.csv(r"C:\ClusterStorage\Volume1").free_bytes == before.csv(r"C:\ClusterStorage\Volume1").free_bytes
    with pytest.raises(NotFound):
        driver.start_vm("nope")
