"""The driver contract: every driver answers the same questions the same way (base.FailoverClusterDriver).

Each test runs with the simulator's JSON driver and with the PowerShell-remoting driver, against a simulated
failover cluster (the seed's CI1: HYPERVCLLOUD13 and HYPERVCLLOUD17, Cluster Disk 1 at
C:\\ClusterStorage\\Volume1). Waiting is bounded and never timed: a condition either comes or the test fails.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from clusterstack.hypervisor.base import (
    AlreadyExists,
    CursorExpired,
    DriverError,
    InvalidState,
    NodeUnreachable,
    NotFound,
    RoleReport,
    VhdSpec,
    VmSpec,
)
from clusterstack.server.orchestration.tcp_liveness import unreachable

from .conftest import DriverUnderTest

GB = 1024**3
CSV = "C:\\ClusterStorage\\Volume1"
T = TypeVar("T")


def eventually(ask: Callable[[], T], done: Callable[[T], bool], timeout: float = 60.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = ask()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached; last seen: {value!r}")
        time.sleep(0.05)


def vm_spec(name: str, node: str = "HYPERVCLLOUD13", priority: int = 2000, start: bool = True) -> VmSpec:
    return VmSpec(name=name, cpus=2, memory_mb=512, priority=priority, node=node, start=start,
                  vhds=(VhdSpec(f"{CSV}\\{name}\\ROOT.vhdx", 8 * GB),))


def running(driver: Any, name: str) -> RoleReport:
    return eventually(lambda: driver.role(name), lambda r: r is not None and r.vm_state == "Running")


def test_the_report_is_the_cluster(under_test: DriverUnderTest) -> None:
    report = under_test.driver.report()
    assert report.name == "CI1"
    assert [(n.name, n.state, n.assigned_vote) for n in report.nodes] == [
        ("HYPERVCLLOUD13", "Up", 1), ("HYPERVCLLOUD17", "Up", 1)]
    assert all(n.memory_mb > 0 and n.cpus > 0 and n.address for n in report.nodes)
    assert report.quorum.state == "Up" and report.quorum.votes >= report.quorum.votes_needed
    disk = report.csv(CSV)
    assert disk is not None and disk.name == "ClusterDisk1" and disk.state == "Online"
    assert disk.capacity_bytes >= disk.free_bytes > 0 and disk.owner_node in ("HYPERVCLLOUD13", "HYPERVCLLOUD17")
    assert (disk.disk_number, disk.assigned_to, disk.redirected_nodes) == (1, "Cluster Shared Volume", ())
    witness = next(d for d in report.disks if d.assigned_to == "Disk Witness in Quorum")
    assert (witness.name, witness.disk_number, witness.path) == ("ClusterDisk2", 2, None)
    assert under_test.driver.node("HYPERVCLLOUD17").state == "Up"
    assert under_test.driver.node("HYPERVCLLOUD99") is None
    assert under_test.driver.features() == {"Failover-Clustering": True, "Hyper-V": True}


def test_a_vm_is_created_as_a_role_started_and_adopted_when_made_again(under_test: DriverUnderTest) -> None:
    driver = under_test.driver
    made = driver.create_vm(vm_spec("i-2-3-VM", node="HYPERVCLLOUD17"))
    assert made.name == "i-2-3-VM" and made.owner_node == "HYPERVCLLOUD17" and made.priority == 2000
    role = running(driver, "i-2-3-VM")
    assert (role.state, role.cpus, role.memory_mb) == ("Online", 2, 512)
    assert [(v.path, v.size_bytes, v.disk) for v in role.vhds] == [(f"{CSV}\\i-2-3-VM\\ROOT.vhdx", 8 * GB,
                                                                     "ClusterDisk1")]
    in_report = driver.report().role("i-2-3-VM")
    assert in_report is not None and in_report.vm_state == "Running" and in_report.owner_node == "HYPERVCLLOUD17"
    with pytest.raises(AlreadyExists) as again:
        driver.create_vm(vm_spec("i-2-3-VM"))
    assert again.value.role is not None and again.value.role.owner_node == "HYPERVCLLOUD17"
    assert [r.name for r in driver.report().roles] == ["i-2-3-VM"]


def test_no_auto_start_priority_and_a_priority_change(under_test: DriverUnderTest) -> None:
    driver = under_test.driver
    made = driver.create_vm(vm_spec("i-2-4-VM", priority=0, start=False))
    assert (made.priority, made.vm_state) == (0, "Off")
    assert driver.set_priority("i-2-4-VM", 3000).priority == 3000
    assert driver.report().role("i-2-4-VM").priority == 3000


def test_stop_start_turn_off_and_reboot(under_test: DriverUnderTest) -> None:
    driver = under_test.driver
    driver.create_vm(vm_spec("i-2-5-VM"))
    running(driver, "i-2-5-VM")
    stopping = driver.stop_vm("i-2-5-VM")
    eventually(lambda: driver.wait_for_role_change(stopping, 5.0), lambda r: r is not None and r.vm_state == "Off")
    driver.start_vm("i-2-5-VM")
    running(driver, "i-2-5-VM")
    driver.reboot_vm("i-2-5-VM")
    running(driver, "i-2-5-VM")
    driver.stop_vm("i-2-5-VM", force=True)
    eventually(lambda: driver.role("i-2-5-VM"), lambda r: r is not None and r.vm_state == "Off")


def test_live_and_quick_migration(under_test: DriverUnderTest) -> None:
    driver = under_test.driver
    driver.create_vm(vm_spec("i-2-6-VM", node="HYPERVCLLOUD13"))
    running(driver, "i-2-6-VM")
    driver.move_vm("i-2-6-VM", "HYPERVCLLOUD17", "live")
    eventually(lambda: driver.role("i-2-6-VM"),
               lambda r: r is not None and r.owner_node == "HYPERVCLLOUD17" and r.vm_state == "Running")
    driver.move_vm("i-2-6-VM", "HYPERVCLLOUD13", "quick")
    eventually(lambda: driver.role("i-2-6-VM"),
               lambda r: r is not None and r.owner_node == "HYPERVCLLOUD13" and r.vm_state == "Running")
    with pytest.raises(NotFound):
        driver.move_vm("i-2-6-VM", "HYPERVCLLOUD99", "live")


def test_resources_and_data_disks(under_test: DriverUnderTest) -> None:
    driver = under_test.driver
    driver.create_vm(vm_spec("i-2-7-VM", start=False))
    role = driver.set_resources("i-2-7-VM", 4, 1024)
    assert (role.cpus, role.memory_mb) == (4, 1024)
    data = f"{CSV}\\i-2-7-VM\\DATA-8.vhdx"
    created = driver.create_vhd(VhdSpec(data, 2 * GB))
    assert (created.path, created.size_bytes, created.disk) == (data, 2 * GB, "ClusterDisk1")
    attached = driver.attach_vhd("i-2-7-VM", data)
    assert attached.attached_to == "i-2-7-VM"
    assert data in [v.path for v in driver.role("i-2-7-VM").vhds]
    assert driver.resize_vhd(data, 4 * GB).size_bytes == 4 * GB
    driver.detach_vhd("i-2-7-VM", data)
    assert data not in [v.path for v in driver.role("i-2-7-VM").vhds]
    free = driver.report().csv(CSV).free_bytes
    driver.delete_vhd(data)
    assert driver.report().csv(CSV).free_bytes > free


def test_remove_takes_the_role_and_its_disks(under_test: DriverUnderTest) -> None:
    driver = under_test.driver
    free = driver.report().csv(CSV).free_bytes
    driver.create_vm(vm_spec("i-2-8-VM"))
    running(driver, "i-2-8-VM")
    driver.stop_vm("i-2-8-VM", force=True)
    eventually(lambda: driver.role("i-2-8-VM"), lambda r: r is not None and r.vm_state == "Off")
    driver.remove_vm("i-2-8-VM")
    assert driver.role("i-2-8-VM") is None
    assert driver.report().csv(CSV).free_bytes == free
    with pytest.raises(NotFound):
        driver.remove_vm("i-2-8-VM")


def test_drain_and_resume(under_test: DriverUnderTest) -> None:
    driver = under_test.driver
    driver.create_vm(vm_spec("i-2-9-VM", node="HYPERVCLLOUD17"))
    running(driver, "i-2-9-VM")
    driver.drain_node("HYPERVCLLOUD17")
    eventually(lambda: driver.node("HYPERVCLLOUD17"),
               lambda n: n is not None and n.state == "Paused" and n.drain_status == "Completed")
    assert driver.role("i-2-9-VM").owner_node == "HYPERVCLLOUD13"
    driver.resume_node("HYPERVCLLOUD17", failback=True)
    eventually(lambda: driver.role("i-2-9-VM"),
               lambda r: r is not None and r.owner_node == "HYPERVCLLOUD17" and r.vm_state == "Running")
    assert driver.node("HYPERVCLLOUD17").state == "Up"


def test_events_continue_from_an_opaque_cursor(under_test: DriverUnderTest) -> None:
    driver = under_test.driver
    first = driver.read_events()
    driver.create_vm(vm_spec("i-2-10-VM"))
    running(driver, "i-2-10-VM")
    later = eventually(lambda: driver.read_events(first.cursor), lambda page: len(page.events) > 0)
    assert all(e.time >= first.events[-1].time for e in later.events) if first.events else True
    assert any("i-2-10-VM" in e.message for e in later.events)
    assert all(e.node in ("HYPERVCLLOUD13", "HYPERVCLLOUD17") for e in later.events)
    assert driver.read_events(later.cursor).events == ()
    with pytest.raises(CursorExpired):
        driver.read_events("not-a-cursor")


def test_a_crashed_node_stops_answering_and_the_cluster_fails_over(under_test: DriverUnderTest) -> None:
    driver = under_test.driver
    driver.create_vm(vm_spec("i-2-11-VM", node="HYPERVCLLOUD17"))
    running(driver, "i-2-11-VM")
    assert driver.ping_node("HYPERVCLLOUD17").name == "HYPERVCLLOUD17"
    cursor = driver.report().cursor
    under_test.sim.fault("node-down", node="HYPERVCLLOUD17")
    with pytest.raises(NodeUnreachable):
        driver.ping_node("HYPERVCLLOUD17")
    assert eventually(lambda: driver.wait_for_change(cursor, 5.0), lambda c: c != cursor) != cursor
    eventually(lambda: driver.report(),
               lambda r: r.node("HYPERVCLLOUD17").state == "Down" and r.role("i-2-11-VM").owner_node ==
               "HYPERVCLLOUD13" and r.role("i-2-11-VM").vm_state == "Running")
    assert any(e.id == 1135 for e in driver.read_events().events)


def test_liveness_endpoints_answer_while_a_node_runs_and_refuse_once_it_crashed(
        under_test: DriverUnderTest) -> None:
    """liveness_endpoint (seam v2): where a TCP connect, with nothing sent, tells a running node from a dead one."""
    driver = under_test.driver
    driver.report()  # (teaches the driver the nodes' addresses)
    endpoints = {node: driver.liveness_endpoint(node) for node in ("HYPERVCLLOUD13", "HYPERVCLLOUD17")}
    assert all(endpoint is not None for endpoint in endpoints.values()), endpoints
    assert unreachable(endpoints.values(), timeout=5.0) == {}
    under_test.sim.fault("node-down", node="HYPERVCLLOUD17")
    assert set(unreachable(endpoints.values(), timeout=5.0)) == {endpoints["HYPERVCLLOUD17"]}


def test_await_change_sees_what_wait_for_change_sees(under_test: DriverUnderTest) -> None:
    """await_change (seam v2) is the asynchronous twin of wait_for_change, or says it has none."""
    driver = under_test.driver
    cursor = driver.report().cursor

    async def ask() -> int | None:
        try:
            return await driver.await_change(cursor, 5.0)
        except NotImplementedError:
            return None
        finally:
            await driver.aclose()

    driver.create_vm(vm_spec("i-2-12-VM", node="HYPERVCLLOUD13"))
    answer = asyncio.run(ask())
    if answer is not None:
        assert answer != cursor
        assert driver.wait_for_change(answer, 0) == answer  # the same cursor both ways


def test_a_quarantined_node_is_cleared_and_rejoins(under_test: DriverUnderTest) -> None:
    """Three crashes within an hour quarantine a node (each noticed after 10 s: 1 s at 10x); Start-ClusterNode
    -ClearQuarantine lets it rejoin at once once its machine runs."""
    driver, name = under_test.driver, "HYPERVCLLOUD17"
    with pytest.raises(InvalidState):
        driver.clear_quarantine(name)  # Up: nothing to clear
    with pytest.raises(NotFound):
        driver.clear_quarantine("HYPERVCLLOUD99")
    for crash in range(3):
        under_test.sim.fault("node-down", node=name)
        state = "Quarantined" if crash == 2 else "Down"
        eventually(lambda: driver.report().node(name), lambda n, s=state: n is not None and n.state == s)
        if crash < 2:
            under_test.sim.fault("node-up", node=name)
            eventually(lambda: driver.node(name), lambda n: n is not None and n.state == "Up")
    with pytest.raises(DriverError):
        driver.clear_quarantine(name)  # its machine is off: nothing runs Start-ClusterNode there
    under_test.sim.fault("node-up", node=name)
    assert driver.node(name).state == "Quarantined"
    cleared = driver.clear_quarantine(name)
    assert cleared.name == name and cleared.state in ("Joining", "Down", "Up")
    up = eventually(lambda: driver.node(name), lambda n: n is not None and n.state == "Up")
    assert up.current_vote == 1
    assert any(e.id == 1683 and name in e.message for e in driver.read_events().events)


def test_quorum_loss_is_reported_and_refuses_work(under_test: DriverUnderTest) -> None:
    driver = under_test.driver
    driver.report()
    under_test.sim.fault("disk-fail", disk="ClusterDisk2")  # the witness
    under_test.sim.fault("node-down", node="HYPERVCLLOUD17")
    under_test.sim.fault("node-down", node="HYPERVCLLOUD13")
    under_test.sim.fault("node-up", node="HYPERVCLLOUD13")  # one vote of three: no quorum, but it answers
    report = eventually(driver.report, lambda r: r.quorum.state == "Lost")
    assert report.quorum.votes < report.quorum.votes_needed
    assert report.node("HYPERVCLLOUD17").state == "Down"
    with pytest.raises(DriverError):
        driver.create_vm(vm_spec("i-2-12-VM"))


def test_names_are_data(under_test: DriverUnderTest) -> None:
    """Quotes, $, backticks, semicolons and newlines in a name reach the cluster as the name, nothing more."""
    driver = under_test.driver
    hostile = "i-2-13-VM'; Remove-ClusterGroup -Name * `$(Stop-Computer)\"\nGet-VM"
    made = driver.create_vm(VmSpec(name=hostile, cpus=1, memory_mb=256, priority=1000, node="HYPERVCLLOUD13",
                                   start=False))
    assert made.name == hostile
    assert [r.name for r in driver.report().roles] == [hostile]
    assert driver.set_priority(hostile, 3000).priority == 3000
    driver.remove_vm(hostile)
    assert driver.report().roles == ()
    assert [n.state for n in driver.report().nodes] == ["Up", "Up"]


def test_redirected_access_to_a_csv(under_test: DriverUnderTest) -> None:
    under_test.sim.fault("storage-path-lost", node="HYPERVCLLOUD17", disk="ClusterDisk1")
    disk = eventually(lambda: under_test.driver.report().csv(CSV), lambda d: d is not None and d.redirected_nodes)
    assert disk.redirected_nodes == ("HYPERVCLLOUD17",)
    under_test.sim.fault("storage-path-restored", node="HYPERVCLLOUD17", disk="ClusterDisk1")
    eventually(lambda: under_test.driver.report().csv(CSV), lambda d: d is not None and not d.redirected_nodes)


def test_network_adapters_on_their_switch_and_vlan(under_test: DriverUnderTest) -> None:
    from clusterstack.hypervisor.base import NicSpec

    spec = VmSpec(name="i-2-14-VM", cpus=1, memory_mb=256, priority=2000, node="HYPERVCLLOUD13", start=False,
                  nics=(NicSpec("nic0", "00155D010203", "External", 100), NicSpec("nic1", None, "External")))
    made = under_test.driver.create_vm(spec)
    assert made.name == "i-2-14-VM"
    if under_test.kind == "winrm":  # the NICs as Hyper-V has them (the JSON API keeps them as given)
        from clusterstack.hypervisor.hyperv.commands import Cmdlet
        from clusterstack.hypervisor.hyperv.objects import prop, text

        adapters = under_test.driver._objects(Cmdlet.of("Get-VMNetworkAdapter", VMName="i-2-14-VM",
                                                         ComputerName=["HYPERVCLLOUD13"]))
        assert sorted((text(prop(a, "Name")), text(prop(a, "SwitchName"))) for a in adapters) == [
            ("nic0", "External"), ("nic1", "External")]
        assert text(prop(adapters[0], "MacAddress")) in ("00155D010203", text(prop(adapters[1], "MacAddress")))
    else:
        nics = under_test.sim.report()["roles"][0]["nics"]
        assert [n["name"] for n in nics] == ["nic0", "nic1"]
