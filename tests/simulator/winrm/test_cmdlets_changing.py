"""The simulated node's changing cmdlets: the driver's create flow, moves, drains, stops, removal, the event
logs, quorum loss, a down node, and names that look like code but are only data."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from clusterstack.failover import events as ev
from clusterstack.simulator.service import SimulatedCluster
from tests.simulator.winrm.test_cmdlets_reading import (
    CSV,
    GiB,
    cmd,
    failure,
    out,
    run,
    seed_with_roles,
    text,
    three_nodes,
    with_sim,
)

NODE1, NODE2 = "HYPERVCLLOUD13", "HYPERVCLLOUD17"


async def wait_until(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def create(sim: SimulatedCluster, name: str, node: str = NODE1, priority: int = 3000) -> None:
    """The driver's deploy: New-VHD, New-VM, Set-VMProcessor, Add-ClusterVirtualMachineRole, the priority, and a
    start it follows itself."""
    vhd = f"{CSV}\\{name}\\{name}.vhdx"
    [disk] = await out(sim, cmd("New-VHD", Path=vhd, SizeBytes=8 * GiB, Dynamic=True), endpoint=node)
    assert (disk.Path, int(disk.Size), text(disk.VhdType), disk.Attached) == (vhd, 8 * GiB, "Dynamic", False)
    [vm] = await out(sim, cmd("New-VM", Name=name, MemoryStartupBytes=2 * GiB, Generation=2, Path=CSV, VHDPath=vhd),
                     endpoint=node)
    assert (vm.Name, text(vm.State), vm.IsClustered, vm.ComputerName, vm.Path) == (
        name, "Off", False, node, f"{CSV}\\{name}")
    assert await out(sim, cmd("Set-VMProcessor", VMName=[name], Count=4), endpoint=node) == []
    [group] = await out(sim, cmd("Add-ClusterVirtualMachineRole", VMName=name), endpoint="CI1")
    assert (group.Name, text(group.State), int(group.Priority), str(group.OwnerNode)) == (
        name, "Offline", 2000, node)
    filter_ = "Name='" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"
    assert await out(sim, cmd("Get-CimInstance", Namespace="root/MSCluster", ClassName="MSCluster_ResourceGroup",
                              Filter=filter_),
                     cmd("Set-CimInstance", Property={"Priority": priority}), endpoint="CI1") == []
    [pending] = await out(sim, cmd("Start-ClusterGroup", Name=name, Wait=0), endpoint="CI1")
    assert text(pending.State) in ("Pending", "Online")


def test_create_flow_makes_a_running_clustered_vm() -> None:
    async def check(sim: SimulatedCluster) -> None:
        await create(sim, "i-2-10-VM")
        role = sim.cluster.roles["i-2-10-VM"]
        assert (role.memory_mb, role.cpus, role.disk, role.priority, role.owner) == (
            2048, 4, "ClusterDisk1", 3000, NODE1)
        assert list(role.vhds) == [f"{CSV}\\i-2-10-VM\\i-2-10-VM.vhdx"]
        await wait_until(lambda: role.state == "Online")
        [vm] = await out(sim, cmd("Get-VM", Name="i-2-10-VM"))
        assert (text(vm.State), vm.IsClustered, int(vm.ProcessorCount), int(vm.MemoryAssigned)) == (
            "Running", True, 4, 2 * GiB)
        [adapter] = await out(sim, cmd("Get-VMNetworkAdapter", VMName="i-2-10-VM"))
        assert adapter.Name == "Network Adapter" and len(adapter.MacAddress) == 12  # New-VM's own adapter
        again = await failure(sim, cmd("Add-ClusterVirtualMachineRole", VMName="i-2-10-VM"))
        assert again.message == "The specified virtual machine 'i-2-10-VM' is already clustered."
        assert again.category == 20  # ResourceExists
        exists = await run(sim, cmd("New-VHD", Path=f"{CSV}\\i-2-10-VM\\i-2-10-VM.vhdx", SizeBytes=GiB))
        assert [e.message for e in exists.errors] == ["Failed to create the virtual hard disk.\nThe file exists."]
        off_csv = await run(sim, cmd("New-VHD", Path="D:\\x.vhdx", SizeBytes=GiB, Fixed=True))
        assert off_csv.errors[0].message.startswith("Failed to create the virtual hard disk.")
        assert off_csv.errors[0].category == 5  # InvalidArgument

    with_sim(check)


def test_start_without_wait_returns_once_online_and_cim_priority_round_trips() -> None:
    async def check(sim: SimulatedCluster) -> None:
        [group] = await out(sim, cmd("Start-ClusterGroup", Name="db1"))
        assert text(group.State) == "Online"
        [cim] = await out(sim, cmd("Get-CimInstance", Namespace="root\\MSCluster", ClassName="MSCluster_ResourceGroup",
                                   Filter="Name = 'db1'"), cmd("Set-CimInstance", Property={"priority": 1000},
                                                              PassThru=True))
        assert int(cim.Priority) == 1000 and str(cim) == 'MSCluster_ResourceGroup (Name = "db1")'
        bad = await run(sim, cmd("Get-CimInstance", Namespace="root/MSCluster", ClassName="MSCluster_ResourceGroup",
                                 Filter="Name='db1'"), cmd("Set-CimInstance", Property={"Priority": 1234}))
        assert [e.message for e in bad.errors] == ["Invalid parameter "]
        assert sim.cluster.roles["db1"].priority == 1000

    with_sim(check)


def test_live_and_quick_moves_are_followed() -> None:
    async def check(sim: SimulatedCluster) -> None:
        [group] = await out(sim, cmd("Move-ClusterVirtualMachineRole", Name="web1", Node=NODE2, MigrationType="Live",
                                     Wait=0))
        assert group.Name == "web1"
        [vm] = await out(sim, cmd("Get-VM", Name="web1"))
        assert vm.Status.startswith("Migrating - ") and vm.Status.endswith("% completed")
        assert text(vm.State) == "Running"
        await wait_until(lambda: sim.cluster.roles["web1"].owner == NODE2)
        [moved] = await out(sim, cmd("Move-ClusterVirtualMachineRole", Name="web1", Node=NODE1,
                                     MigrationType="Quick"))  # without -Wait: returns once it is there
        assert str(moved.OwnerNode) == NODE1 and text(moved.State) == "Online"
        [vm] = await out(sim, cmd("Get-VM", Name="web1"))
        assert vm.Status == "Operating normally"

    with_sim(check, speed=1.0)


def test_drain_and_resume_with_failback() -> None:
    async def check(sim: SimulatedCluster) -> None:
        [node] = await out(sim, cmd("Suspend-ClusterNode", Name=NODE1, Drain=True))
        assert (text(node.State), text(node.DrainStatus)) == ("Paused", "InProgress")
        await wait_until(lambda: sim.cluster.nodes[NODE1].drain_status == "Completed")
        [node] = await out(sim, cmd("Get-ClusterNode", Name=NODE1))
        assert text(node.DrainStatus) == "Completed"
        assert sim.cluster.roles["web1"].owner == NODE2
        [node] = await out(sim, cmd("Resume-ClusterNode", Name=NODE1, Failback="Immediate"))
        assert text(node.State) == "Up"
        await wait_until(lambda: sim.cluster.roles["web1"].owner == NODE1 and
                         sim.cluster.roles["web1"].vm_state == "Running")

    with_sim(check)


def test_stop_turn_off_restart_and_remove() -> None:
    async def check(sim: SimulatedCluster) -> None:
        restarted = await run(sim, cmd("Restart-VM", Name="web1", Force=True))
        assert restarted.errors == []
        assert await out(sim, cmd("Stop-VM", Name="web1", TurnOff=True, Force=True)) == []
        assert sim.cluster.roles["web1"].state == "Offline"
        [vm] = await out(sim, cmd("Get-VM", Name="web1"))
        assert text(vm.State) == "Off"
        not_running = await run(sim, cmd("Restart-VM", Name="web1", Force=True))
        assert not_running.errors[0].category == 7  # InvalidOperation
        clustered = await run(sim, cmd("Remove-VM", Name="web1", Force=True))
        assert "clustered" in clustered.errors[0].message
        vhd = f"{CSV}\\web1\\web1.vhdx"
        assert await out(sim, cmd("Remove-ClusterGroup", Name="web1", RemoveResources=True, Force=True)) == []
        assert "web1" not in sim.cluster.roles
        [vm] = await out(sim, cmd("Get-VM", Name="web1"))  # the VM stays, not clustered, on its node
        assert (vm.IsClustered, vm.ComputerName, int(vm.MemoryStartup)) == (False, NODE1, 2 * GiB)
        [drive] = await out(sim, cmd("Get-VMHardDiskDrive", VMName="web1"))
        assert drive.Path == vhd
        in_use = await run(sim, cmd("Remove-Item", Path=vhd))
        assert "being used by another process" in in_use.errors[0].message
        assert await out(sim, cmd("Remove-VMHardDiskDrive", VMName="web1", ControllerType="SCSI", ControllerNumber=0,
                                  ControllerLocation=0)) == []
        assert await out(sim, cmd("Remove-VM", Name="web1", Force=True)) == []
        assert await out(sim, cmd("Get-VM")) == []
        assert await out(sim, cmd("Remove-Item", Path=vhd)) == []
        gone = await run(sim, cmd("Get-VHD", Path=[vhd]))
        assert [e.message for e in gone.errors] == ["The system cannot find the file specified."]
        missing = await run(sim, cmd("Remove-Item", Path=vhd))
        assert missing.errors[0].message == f"Cannot find path '{vhd}' because it does not exist."

    with_sim(check)


def test_hard_drives_nics_and_vlan() -> None:
    async def check(sim: SimulatedCluster) -> None:
        data = f"{CSV}\\web1\\data.vhdx"
        await out(sim, cmd("New-VHD", Path=data, SizeBytes=GiB, Fixed=True))
        [drive] = await out(sim, cmd("Add-VMHardDiskDrive", VMName=["web1"], Path=data, Passthru=True))
        assert (int(drive.ControllerLocation), drive.Path) == (1, data)
        assert data in sim.cluster.roles["web1"].vhds
        [grown] = await out(sim, cmd("Resize-VHD", Path=[data], SizeBytes=2 * GiB, Passthru=True))
        assert int(grown.Size) == 2 * GiB and text(grown.VhdType) == "Fixed"
        await out(sim, cmd("Add-VMNetworkAdapter", VMName=["web1"], Name="nic1", SwitchName="vSwitch",
                           StaticMacAddress="02-00-00-00-00-01"))
        await out(sim, cmd("Set-VMNetworkAdapterVlan", VMName=["web1"], VMNetworkAdapterName="nic1", Access=True,
                           VlanId=42))
        [nic] = await out(sim, cmd("Get-VMNetworkAdapter", VMName="web1"))
        assert (nic.Name, nic.SwitchName, nic.MacAddress, int(nic.VlanSetting.AccessVlanId)) == (
            "nic1", "vSwitch", "020000000001", 42)
        await out(sim, cmd("Remove-VMNetworkAdapter", VMName=["web1"], Name="nic1"))
        assert await out(sim, cmd("Get-VMNetworkAdapter", VMName="web1")) == []
        await out(sim, cmd("Get-VMHardDiskDrive", VMName="web1", ControllerLocation=1),
                  cmd("Remove-VMHardDiskDrive"))
        assert data not in sim.cluster.roles["web1"].vhds

    with_sim(check)


def test_event_logs_number_records_per_node_and_filter_by_record_id() -> None:
    async def check(sim: SimulatedCluster) -> None:
        await out(sim, cmd("Move-ClusterVirtualMachineRole", Name="web1", Node=NODE2, MigrationType="Live"))
        system1 = await out(sim, cmd("Get-WinEvent", LogName=["System"], Oldest=True))
        system2 = await out(sim, cmd("Get-WinEvent", LogName=["System"], Oldest=True), endpoint=NODE2)
        vmms1 = await out(sim, cmd("Get-WinEvent", LogName=["Microsoft-Windows-Hyper-V-VMMS-Admin"], Oldest=True))
        vmms2 = await out(sim, cmd("Get-WinEvent", LogName=["Microsoft-Windows-Hyper-V-VMMS-Admin"], Oldest=True),
                          endpoint=NODE2)
        assert [int(e.RecordId) for e in system1] == [1]  # 1641: the move, on the core group's owner
        assert [int(e.Id) for e in system1] == [1641]
        assert [int(e.RecordId) for e in system2] == [1]  # 1201: online on the destination
        assert [int(e.Id) for e in vmms1] == [20413, 20415]
        assert [int(e.RecordId) for e in vmms1] == [1, 2]
        assert [int(e.Id) for e in vmms2] == [20418]
        event = vmms1[0]
        assert (event.LogName, event.ProviderName, event.MachineName, int(event.Level), event.LevelDisplayName) == (
            "Microsoft-Windows-Hyper-V-VMMS-Admin", "Microsoft-Windows-Hyper-V-VMMS",
            f"{NODE1}.clusterstack.local", 4, "Information")
        assert event.RecordId.PSObject.type_names[0] == "System.Int64"
        newest_first = await out(sim, cmd("Get-WinEvent", LogName=["Microsoft-Windows-Hyper-V-VMMS-Admin"]))
        assert [int(e.RecordId) for e in newest_first] == [2, 1]
        after = await out(sim, cmd("Get-WinEvent", LogName=["Microsoft-Windows-Hyper-V-VMMS-Admin"],
                                   FilterXPath="*[System[EventRecordID>1]]"))
        assert [int(e.RecordId) for e in after] == [2]
        one = await out(sim, cmd("Get-WinEvent", LogName=["Microsoft-Windows-Hyper-V-VMMS-Admin"], MaxEvents=1,
                                 Oldest=True))
        assert [int(e.RecordId) for e in one] == [1]
        none = await run(sim, cmd("Get-WinEvent", LogName=["System"], FilterXPath="*[System[EventRecordID>99]]"))
        assert none.output == []
        assert [e.fully_qualified_error_id for e in none.errors] == [
            "NoMatchingEventsFound,Microsoft.PowerShell.Commands.GetWinEventCommand"]
        invalid = await failure(sim, cmd("Get-WinEvent", LogName=["System"], FilterXPath="*[System[Foo>1]]"))
        assert invalid.message == "The specified query is invalid"

    with_sim(check)


def test_record_ids_survive_a_restart_with_state_and_start_afresh_without(tmp_path: Path) -> None:
    state = tmp_path / "sim.pickle"

    async def check() -> None:
        sim = SimulatedCluster(seed_with_roles(), speed=500, state_file=state)
        sim._schedule_endpoint_sync = lambda: None  # type: ignore[method-assign]
        sim.apply(ev.StopRole("web1"))
        sim.apply(ev.StartRole("web1"))
        sim._save()
        ids = dict(sim.event_record_ids)
        again = SimulatedCluster(seed_with_roles(), speed=500, state_file=state)
        assert again.event_record_ids == ids and again.event_logs == sim.event_logs
        again._schedule_endpoint_sync = lambda: None  # type: ignore[method-assign]
        again.apply(ev.StopRole("web1"))
        key = (NODE1, "Microsoft-Windows-Hyper-V-VMMS-Admin")
        assert again.event_logs[key][-1][0] == ids[key] + 1
        fresh = SimulatedCluster(seed_with_roles(), speed=500)
        assert fresh.event_logs == {}

    asyncio.run(check())


def test_without_quorum_cluster_cmdlets_fail_and_hyperv_answers() -> None:
    async def check(sim: SimulatedCluster) -> None:
        sim.apply(ev.NodeCrash("N2"))
        sim.apply(ev.NodeCrash("N3"))
        await wait_until(lambda: not sim.cluster.cluster_up, timeout=10)
        for name in ("Get-ClusterNode", "Get-ClusterGroup", "Start-ClusterGroup"):
            record = await failure(sim, cmd(name), endpoint="N1")
            assert record.message == ("The cluster service is not running.  Make sure that the service is running "
                                      "on all nodes in the cluster.")
            assert record.category == 27  # ConnectionError
            assert record.fully_qualified_error_id.startswith("ClusterServiceNotRunning,")
        assert await out(sim, cmd("Get-VM"), endpoint="N1") == []
        [host] = await out(sim, cmd("Get-VMHost"), endpoint="N1")
        assert host.ComputerName == "N1"

    with_sim(check, spec=three_nodes())


def test_a_down_node_answers_an_error_while_the_others_answer() -> None:
    async def check(sim: SimulatedCluster) -> None:
        sim.apply(ev.NodeCrash("N3"))
        result = await run(sim, cmd("Get-VM", ComputerName=["N3", "N2"]), endpoint="N1")
        assert [(v.Name, v.ComputerName) for v in result.output] == [("vm-a", "N2")]
        [error] = result.errors
        assert error.message.startswith("The operation on computer 'N3' failed: WinRM cannot complete the operation.")
        assert error.target == "N3"
        assert error.fully_qualified_error_id == "Unspecified,Microsoft.HyperV.PowerShell.Commands.GetVM"

    with_sim(check, spec=three_nodes())


@pytest.mark.parametrize("name", ["x'; Remove-VM -Name * -Force; '", "$(Stop-Computer)", "a`b\"c", "line1\nline2",
                                  "back\\slash'quote", "semi;colon|pipe&amp"])
def test_names_that_look_like_code_are_only_names(name: str) -> None:
    async def check(sim: SimulatedCluster) -> None:
        before = set(sim.cluster.roles)
        await create(sim, name)
        assert set(sim.cluster.roles) == before | {name}
        assert sim.cluster.roles[name].priority == 3000  # the WQL filter found exactly this group
        [vm] = await out(sim, cmd("Get-VM", Name=name))
        assert vm.Name == name
        [group] = await out(sim, cmd("Get-ClusterGroup", Name=name))
        assert group.Name == name
        [resource] = await out(sim, cmd("Get-ClusterResource", Name=f"Virtual Machine {name}"))
        assert str(resource.OwnerGroup) == name
        assert sorted(v.Name for v in await out(sim, cmd("Get-VM", ComputerName=[NODE1, NODE2]))) == sorted(
            ["web1", "db1", name])

    with_sim(check)
