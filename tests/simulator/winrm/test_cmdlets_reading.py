"""The simulated node's reading cmdlets: nodes, groups, resources, CSVs, quorum, networks, VMs, features, and
PowerShell's own errors (unknown cmdlet, unknown or missing parameter)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from xml.etree import ElementTree

import pytest
from psrpcore.types import serialize

from clusterstack.failover import ClusterSpec, DiskSpec, NodeSpec, RoleSpec
from clusterstack.simulator.cli import seed_topology
from clusterstack.simulator.scenario import load_topology
from clusterstack.simulator.service import SimulatedCluster
from clusterstack.simulator.winrm.cmdlets import host_factory
from clusterstack.simulator.winrm.cmdlets.objects import to_string
from clusterstack.simulator.winrm.commands import CmdletFailure, CommandInvocation, PipelineResult

USER = "CLUSTERSTACK\\Administrator"
CSV = "C:\\ClusterStorage\\Volume1"
GiB = 1024**3


def seed_with_roles() -> ClusterSpec:
    spec = load_topology(seed_topology())
    spec.roles = [RoleSpec("web1", memory_mb=2048, cpus=2, disk="ClusterDisk1", disk_gb=10, owner="HYPERVCLLOUD13"),
                  RoleSpec("db1", memory_mb=4096, cpus=4, disk="ClusterDisk1", disk_gb=20, owner="HYPERVCLLOUD17",
                           priority=3000, state="Off")]
    return spec


def three_nodes() -> ClusterSpec:
    return ClusterSpec(name="CI3", witness="none",
                       nodes=[NodeSpec("N1"), NodeSpec("N2"), NodeSpec("N3")],
                       disks=[DiskSpec("ClusterDisk1", capacity_gb=100, csv=CSV, owner="N1")],
                       roles=[RoleSpec("vm-a", disk="ClusterDisk1", disk_gb=1, owner="N2")])


async def start_sim(spec: ClusterSpec | None = None, speed: float = 500.0) -> SimulatedCluster:
    """A simulated cluster on this loop with its timers running (no HTTP node endpoints)."""
    sim = SimulatedCluster(spec or seed_with_roles(), speed=speed)
    sim._schedule_endpoint_sync = lambda: None  # type: ignore[method-assign]
    sim._timer_task = asyncio.create_task(sim._run_timers())
    return sim


def with_sim(test: Callable[[SimulatedCluster], Awaitable[None]], spec: ClusterSpec | None = None,
             speed: float = 500.0) -> None:
    async def main() -> None:
        sim = await start_sim(spec, speed)
        try:
            await test(sim)
        finally:
            assert sim._timer_task is not None
            sim._timer_task.cancel()

    asyncio.run(main())


def cmd(name: str, /, *arguments: Any, **parameters: Any) -> CommandInvocation:
    return CommandInvocation(name, dict(parameters), tuple(arguments))


async def run(sim: SimulatedCluster, *pipeline: CommandInvocation, endpoint: str = "HYPERVCLLOUD13") -> PipelineResult:
    return await host_factory(sim)(endpoint, USER).run([list(pipeline)])


async def out(sim: SimulatedCluster, *pipeline: CommandInvocation, endpoint: str = "HYPERVCLLOUD13") -> list[Any]:
    result = await run(sim, *pipeline, endpoint=endpoint)
    assert result.errors == [], result.errors
    return result.output


async def failure(sim: SimulatedCluster, *pipeline: CommandInvocation, endpoint: str = "HYPERVCLLOUD13") -> Any:
    with pytest.raises(CmdletFailure) as caught:
        await run(sim, *pipeline, endpoint=endpoint)
    return caught.value.record


def text(value: Any) -> str:
    """What the value's ToString() gives (as it travels)."""
    return to_string(value)


def enum(value: Any) -> tuple[int, str, str]:
    return int(value), text(value), value.PSObject.type_names[0]


def serialized(obj: Any) -> str:
    return ElementTree.tostring(serialize(obj, None)).decode()


# ---- nodes, groups, resources ----------------------------------------------------------------------------------


def test_get_cluster_node_lists_nodes_with_votes_and_enums() -> None:
    async def check(sim: SimulatedCluster) -> None:
        nodes = await out(sim, cmd("Get-ClusterNode"))
        assert [n.Name for n in nodes] == ["HYPERVCLLOUD13", "HYPERVCLLOUD17"]
        first = nodes[0]
        assert first.PSObject.type_names[0] == "Microsoft.FailoverClusters.PowerShell.ClusterNode"
        assert str(first) == "HYPERVCLLOUD13"
        assert first.Id == "1"
        assert enum(first.State) == (0, "Up", "Microsoft.FailoverClusters.PowerShell.ClusterNodeState")
        assert enum(first.DrainStatus) == (0, "NotInitiated", "Microsoft.FailoverClusters.PowerShell.NodeDrainStatus")
        assert enum(first.StatusInformation)[:2] == (0, "Normal")
        assert int(first.NodeWeight) == 1 and first.NodeWeight.PSObject.type_names[0] == "System.UInt32"
        assert int(first.DynamicWeight) in (0, 1)
        one = await out(sim, cmd("get-clusternode", name="hypervcloud13".replace("cloud", "clloud")))
        assert [n.Name for n in one] == ["HYPERVCLLOUD13"]
        missing = await failure(sim, cmd("Get-ClusterNode", Name="NOPE"))
        assert missing.message == "The cluster node 'NOPE' was not found."
        assert missing.category == 13

    with_sim(check)


def test_quarantined_and_isolated_nodes_are_down_with_their_status_information() -> None:
    async def check(sim: SimulatedCluster) -> None:
        node = sim.cluster.nodes["HYPERVCLLOUD17"]
        node.state = "Isolated"
        [answer] = await out(sim, cmd("Get-ClusterNode", Name="HYPERVCLLOUD17"))
        assert (text(answer.State), text(answer.StatusInformation)) == ("Down", "Isolated")
        node.state = "Quarantined"
        [answer] = await out(sim, cmd("Get-ClusterNode", Name="HYPERVCLLOUD17"))
        assert (text(answer.State), text(answer.StatusInformation)) == ("Down", "Quarantined")
        assert int(answer.StatusInformation) == 2

    with_sim(check)


def test_get_cluster_group_lists_core_groups_and_roles() -> None:
    async def check(sim: SimulatedCluster) -> None:
        groups = {g.Name: g for g in await out(sim, cmd("Get-ClusterGroup"))}
        assert list(groups) == ["Available Storage", "Cluster Group", "db1", "web1"]
        web = groups["web1"]
        assert web.PSObject.type_names[0] == "Microsoft.FailoverClusters.PowerShell.ClusterGroup"
        assert str(web.OwnerNode) == "HYPERVCLLOUD13"
        assert web.OwnerNode.PSObject.type_names[0] == "Microsoft.FailoverClusters.PowerShell.ClusterNode"
        assert enum(web.State) == (0, "Online", "Microsoft.FailoverClusters.PowerShell.ClusterGroupState")
        assert enum(web.GroupType) == (111, "VirtualMachine", "Microsoft.FailoverClusters.PowerShell.GroupType")
        assert int(web.Priority) == 2000 and web.Priority.PSObject.type_names[0] == "System.UInt32"
        assert (text(groups["db1"].State), int(groups["db1"].Priority)) == ("Offline", 3000)
        assert text(groups["Cluster Group"].GroupType) == "Cluster"
        assert text(groups["Available Storage"].GroupType) == "AvailableStorage"
        missing = await failure(sim, cmd("Get-ClusterGroup", Name="nope"))
        assert missing.message == "The cluster group 'nope' was not found."
        assert missing.fully_qualified_error_id == (
            "Get-ClusterGroup,Microsoft.FailoverClusters.PowerShell.GetClusterGroupCommand")
        assert missing.exception_type == "Microsoft.FailoverClusters.PowerShell.ClusterCmdletException"
        owned = await out(sim, cmd("Get-ClusterNode", Name="HYPERVCLLOUD17"), cmd("Get-ClusterGroup"))
        assert [g.Name for g in owned] == ["db1"]

    with_sim(check)


def test_get_cluster_resource_names_vm_resources_and_the_witness() -> None:
    async def check(sim: SimulatedCluster) -> None:
        resources = {r.Name: r for r in await out(sim, cmd("Get-ClusterResource"))}
        vm = resources["Virtual Machine web1"]
        assert (vm.ResourceType, str(vm.OwnerGroup), str(vm.OwnerNode), text(vm.State)) == (
            "Virtual Machine", "web1", "HYPERVCLLOUD13", "Online")
        assert text(resources["Virtual Machine db1"].State) == "Offline"
        assert resources["ClusterDisk2"].ResourceType == "Physical Disk"
        assert str(resources["ClusterDisk2"].OwnerGroup) == "Cluster Group"
        assert "ClusterDisk1" not in resources  # a CSV is not a group's resource
        [quorum] = await out(sim, cmd("Get-ClusterQuorum"))
        assert quorum.QuorumType == "NodeAndDiskMajority"
        assert str(quorum.QuorumResource) == "ClusterDisk2"
        assert str(quorum.Cluster) == "CI1"

    with_sim(check)


def test_cluster_shared_volume_and_its_partition_through_select_object() -> None:
    async def check(sim: SimulatedCluster) -> None:
        [csv] = await out(sim, cmd("Get-ClusterSharedVolume"))
        assert (csv.Name, str(csv.OwnerNode)) == ("ClusterDisk1", "HYPERVCLLOUD13")
        assert enum(csv.State) == (2, "Online", "Microsoft.FailoverClusters.PowerShell.ClusterResourceState")
        [info] = csv.SharedVolumeInfo
        assert str(info) == CSV
        [partition] = await out(sim, cmd("Get-ClusterSharedVolume", Name="ClusterDisk1"),
                                cmd("Select-Object", ExpandProperty="SharedVolumeInfo"),
                                cmd("Select-Object", Property=["FriendlyVolumeName"], ExpandProperty="Partition"))
        assert partition.PSObject.type_names[0] == "Microsoft.FailoverClusters.PowerShell.ClusterDiskPartitionInfo"
        assert partition.FriendlyVolumeName == CSV
        assert partition.PSObject.extended_properties[0].name == "FriendlyVolumeName"
        assert int(partition.Size) == 100 * GiB
        assert int(partition.FreeSpace) == 70 * GiB  # web1's 10 GB and db1's 20 GB VHDs
        assert partition.FileSystem == "CSVFS"
        assert partition.Size.PSObject.type_names[0] == "System.Int64"
        assert '<S N="FriendlyVolumeName">C:\\ClusterStorage\\Volume1</S>' in serialized(partition)

    with_sim(check)


def test_select_object_property_and_expand_errors() -> None:
    async def check(sim: SimulatedCluster) -> None:
        [picked] = await out(sim, cmd("Get-ClusterNode", Name="HYPERVCLLOUD13"),
                             cmd("Select-Object", Property=["name", "State", "Missing"]))
        assert [p.name for p in picked.PSObject.extended_properties] == ["Name", "State", "Missing"]
        assert picked.Missing is None and picked.Name == "HYPERVCLLOUD13"
        assert picked.PSObject.type_names[0] == "Selected.Microsoft.FailoverClusters.PowerShell.ClusterNode"
        result = await run(sim, cmd("Get-ClusterNode"), cmd("Select-Object", ExpandProperty="Nope"))
        assert result.output == []
        assert [e.message for e in result.errors] == ['Property "Nope" cannot be found.'] * 2
        assert result.errors[0].fully_qualified_error_id == (
            "ExpandPropertyNotFound,Microsoft.PowerShell.Commands.SelectObjectCommand")
        names = await out(sim, cmd("Get-ClusterGroup"), cmd("Select-Object", ExpandProperty="Name", First=2))
        assert names == ["Available Storage", "Cluster Group"]

    with_sim(check)


def test_network_interfaces_and_owner_nodes() -> None:
    async def check(sim: SimulatedCluster) -> None:
        interfaces = await out(sim, cmd("Get-ClusterNetworkInterface"))
        assert [(i.Node, text(i.State)) for i in interfaces] == [("HYPERVCLLOUD13", "Up"), ("HYPERVCLLOUD17", "Up")]
        assert interfaces[0].Address.count(".") == 3
        await out(sim, cmd("Set-ClusterOwnerNode", Group="web1", Owners=["HYPERVCLLOUD17", "HYPERVCLLOUD13"]))
        [owners] = await out(sim, cmd("Get-ClusterOwnerNode", Group="web1"))
        assert str(owners.ClusterObject) == "web1"
        assert [str(n) for n in owners.OwnerNodes] == ["HYPERVCLLOUD17", "HYPERVCLLOUD13"]
        assert sim.cluster.roles["web1"].preferred_owners == ["HYPERVCLLOUD17", "HYPERVCLLOUD13"]

    with_sim(check)


def test_get_vm_answers_the_session_node_s_vms() -> None:
    async def check(sim: SimulatedCluster) -> None:
        [web] = await out(sim, cmd("Get-VM"))
        assert web.PSObject.type_names[0] == "Microsoft.HyperV.PowerShell.VirtualMachine"
        assert (web.Name, web.ComputerName, web.IsClustered, web.Status) == (
            "web1", "HYPERVCLLOUD13", True, "Operating normally")
        assert enum(web.State) == (2, "Running", "Microsoft.HyperV.PowerShell.VMState")
        assert (int(web.ProcessorCount), int(web.MemoryStartup), int(web.MemoryAssigned)) == (2, 2 * GiB, 2 * GiB)
        assert web.ProcessorCount.PSObject.type_names[0] == "System.Int64"
        [db] = await out(sim, cmd("Get-VM"), endpoint="HYPERVCLLOUD17")
        assert (db.Name, text(db.State), int(db.MemoryAssigned)) == ("db1", "Off", 0)
        both = await out(sim, cmd("Get-VM", ComputerName=["HYPERVCLLOUD13", "HYPERVCLLOUD17"]))
        assert [(v.Name, v.ComputerName) for v in both] == [("web1", "HYPERVCLLOUD13"), ("db1", "HYPERVCLLOUD17")]
        on_cluster_name = await out(sim, cmd("Get-VM"), endpoint="CI1")  # runs on the core group's owner
        assert [v.Name for v in on_cluster_name] == ["web1"]
        result = await run(sim, cmd("Get-VM", Name="db1"))  # db1 is on the other node
        assert result.output == []
        [error] = result.errors
        assert error.message == 'Hyper-V was unable to find a virtual machine with name "db1".'
        assert error.category == 13
        assert error.fully_qualified_error_id == "InvalidParameter,Microsoft.HyperV.PowerShell.Commands.GetVM"
        assert error.exception_type == "Microsoft.HyperV.PowerShell.VirtualizationException"
        assert [v.Name for v in await out(sim, cmd("Get-VM", Name="W*"))] == ["web1"]
        [drive] = await out(sim, cmd("Get-VMHardDiskDrive", VMName="web1"))
        assert (drive.Path, text(drive.ControllerType), int(drive.ControllerNumber), int(drive.ControllerLocation)) == (
            f"{CSV}\\web1\\web1.vhdx", "SCSI", 0, 0)
        [vhd] = await out(sim, cmd("Get-VHD", Path=[f"{CSV}\\web1\\web1.vhdx"]))
        assert (int(vhd.Size), vhd.Attached, text(vhd.VhdType)) == (10 * GiB, True, "Dynamic")

    with_sim(check)


def test_host_numa_and_features() -> None:
    async def check(sim: SimulatedCluster) -> None:
        [host] = await out(sim, cmd("Get-VMHost"))
        assert (host.ComputerName, int(host.LogicalProcessorCount), int(host.MemoryCapacity)) == (
            "HYPERVCLLOUD13", 16, 64 * GiB)
        [numa] = await out(sim, cmd("Get-VMHostNumaNode", ComputerName=["HYPERVCLLOUD13"]))
        assert (int(numa.MemoryTotal), int(numa.MemoryAvailable)) == (65536, 65536 - 2048)
        features = await out(sim, cmd("Get-WindowsFeature", Name=["Failover-Clustering", "Hyper-V"]))
        assert [(f.Name, f.Installed, f.InstallState) for f in features] == [
            ("Hyper-V", True, "Installed"), ("Failover-Clustering", True, "Installed")]

    with_sim(check)


# ---- PowerShell's own errors -----------------------------------------------------------------------------------


def test_unknown_cmdlet_and_parameters_fail_as_powershell_does() -> None:
    async def check(sim: SimulatedCluster) -> None:
        unknown = await failure(sim, cmd("Get-Nothing"))
        assert unknown.message.startswith("The term 'Get-Nothing' is not recognized as the name of a cmdlet, "
                                          "function, script file, or operable program.")
        assert (unknown.category, unknown.fully_qualified_error_id, unknown.exception_type) == (
            13, "CommandNotFoundException", "System.Management.Automation.CommandNotFoundException")
        bad = await failure(sim, cmd("Get-ClusterGroup", Bogus="x"))
        assert bad.message == "A parameter cannot be found that matches parameter name 'Bogus'."
        assert (bad.category, bad.fully_qualified_error_id, bad.exception_type) == (
            5, "NamedParameterNotFound,Microsoft.FailoverClusters.PowerShell.GetClusterGroupCommand",
            "System.Management.Automation.ParameterBindingException")
        missing = await failure(sim, cmd("New-VHD", SizeBytes=1))
        assert missing.message == "Cannot process command because of one or more missing mandatory parameters: Path."
        assert missing.exception_type == "System.Management.Automation.ParameterBindingException"
        wrong = await failure(sim, cmd("Move-ClusterVirtualMachineRole", Name="web1", Node="HYPERVCLLOUD17",
                                       MigrationType="Teleport"))
        assert wrong.fully_qualified_error_id.startswith("CannotConvertArgumentNoMessage,")
        # names are matched case-insensitively and by unique prefix; common parameters are accepted
        [group] = await out(sim, cmd("Get-ClusterGroup", NAM="web1", ErrorAction="Stop"))
        assert group.Name == "web1"
        positional = await out(sim, cmd("Get-ClusterGroup", "web1"))
        assert [g.Name for g in positional] == ["web1"]
        too_many = await failure(sim, cmd("Get-ClusterGroup", "web1", "extra"))
        assert too_many.fully_qualified_error_id.startswith("PositionalParameterNotFound,")

    with_sim(check)


def test_error_action_stop_makes_an_error_terminating() -> None:
    async def check(sim: SimulatedCluster) -> None:
        stopped = await failure(sim, cmd("Get-VM", Name="ghost", ErrorAction="Stop"))
        assert stopped.message == 'Hyper-V was unable to find a virtual machine with name "ghost".'
        quiet = await run(sim, cmd("Get-VM", Name="ghost", ErrorAction="SilentlyContinue"))
        assert (quiet.output, quiet.errors) == ([], [])

    with_sim(check)


# ---- serialization ---------------------------------------------------------------------------------------------


def test_every_kind_of_object_serializes() -> None:
    async def check(sim: SimulatedCluster) -> None:
        statements = [
            [cmd("Get-Cluster")], [cmd("Get-ClusterNode")], [cmd("Get-ClusterQuorum")], [cmd("Get-ClusterGroup")],
            [cmd("Get-ClusterResource")], [cmd("Get-ClusterSharedVolume")], [cmd("Get-ClusterNetworkInterface")],
            [cmd("Get-ClusterOwnerNode", Group="web1")], [cmd("Get-VM")], [cmd("Get-VMHardDiskDrive", VMName="web1")],
            [cmd("Get-VHD", Path=[f"{CSV}\\web1\\web1.vhdx"])], [cmd("Get-VMNetworkAdapter", VMName="web1")],
            [cmd("Get-VMHost")], [cmd("Get-VMHostNumaNode")], [cmd("Get-WindowsFeature", Name=["Hyper-V"])],
            [cmd("Get-WinEvent", LogName=["System"])],
            [cmd("Get-CimInstance", Namespace="root/MSCluster", ClassName="MSCluster_ResourceGroup")],
            [cmd("Get-ClusterNode"), cmd("Select-Object", Property=["Name", "State"])],
        ]
        await out(sim, cmd("Add-VMNetworkAdapter", VMName=["web1"], Name="nic0", SwitchName="vSwitch"))
        await out(sim, cmd("Stop-ClusterGroup", "web1"))
        [started] = await out(sim, cmd("Start-ClusterGroup", "web1"))  # waits until the role is online
        assert text(started.State) == "Online"
        kinds = set()
        for statement in statements:
            result = await run(sim, *statement)
            assert result.errors == [], (statement, result.errors)
            assert result.output, statement
            for obj in result.output:
                xml = serialized(obj)
                kinds.add(obj.PSObject.type_names[0])
                assert "<ToString>" in xml or "PSCustomObject" in xml
        assert len(kinds) == len(statements)
        [group] = await out(sim, cmd("Get-ClusterGroup", Name="web1"))
        assert "<ToString>HYPERVCLLOUD13</ToString>" in serialized(group)
        assert "<ToString>Online</ToString>" in serialized(group)

    with_sim(check)
