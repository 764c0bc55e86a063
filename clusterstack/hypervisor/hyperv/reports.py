"""Typed reports from the objects the FailoverClusters and Hyper-V cmdlets answer (docs/hyperv-cmdlets.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pypsrp.complex_objects import GenericComplexObject

from clusterstack.hypervisor.base import DiskReport, NodeReport, RoleReport, VhdReport
from clusterstack.hypervisor.hyperv.objects import enum_name, flags, number, prop, text

MB = 1024 * 1024
VIRTUAL_MACHINE_GROUP = "VirtualMachine"


def node_state(obj: Any) -> str:
    """Up, Down, Paused, Joining, Isolated or Quarantined: a node's State, refined by its StatusInformation."""
    info = flags(prop(obj, "StatusInformation"))
    if "Quarantined" in info:
        return "Quarantined"
    if "Isolated" in info:
        return "Isolated"
    return enum_name(prop(obj, "State"))


@dataclass(frozen=True)
class HostFacts:
    """What Get-VMHost and Get-VMHostNumaNode say of a node's processors and memory."""

    cpus: int = 0
    memory_mb: int = 0
    free_mb: int = 0


def host_facts(hosts: list[Any], numa_nodes: list[Any]) -> dict[str, HostFacts]:
    free: dict[str, int] = {}
    for numa in numa_nodes:
        key = text(prop(numa, "ComputerName")).lower()
        free[key] = free.get(key, 0) + number(prop(numa, "MemoryAvailable"))
    facts = {}
    for host in hosts:
        key = text(prop(host, "ComputerName")).lower()
        memory_mb = number(prop(host, "MemoryCapacity")) // MB
        facts[key] = HostFacts(number(prop(host, "LogicalProcessorCount")), memory_mb, free.get(key, memory_mb))
    return facts


def node_report(obj: Any, facts: HostFacts | None, address: str | None) -> NodeReport:
    facts = facts or HostFacts()
    return NodeReport(
        name=text(prop(obj, "Name")),
        state=node_state(obj),
        assigned_vote=number(prop(obj, "NodeWeight")),
        current_vote=number(prop(obj, "DynamicWeight")),
        memory_mb=facts.memory_mb,
        memory_used_mb=max(0, facts.memory_mb - facts.free_mb),
        cpus=facts.cpus,
        address=address,
        drain_status=enum_name(prop(obj, "DrainStatus"), "NotInitiated"),
    )


def is_vm_group(obj: Any) -> bool:
    return enum_name(prop(obj, "GroupType")) == VIRTUAL_MACHINE_GROUP


@dataclass(frozen=True)
class VmFacts:
    state: str  # the role's VM state: Running, Off, Saved, Paused, Starting, Stopping, Migrating
    memory_mb: int
    cpus: int


def vm_facts(obj: Any) -> VmFacts:
    state = enum_name(prop(obj, "State"), "Off")
    status = text(prop(obj, "Status"))
    if state == "Running" and status.startswith("Migrating"):
        state = "Migrating"
    elif state == "Running" and status.startswith("Unmonitored"):
        state = "Unmonitored"
    memory = number(prop(obj, "MemoryStartup")) // MB
    return VmFacts(state, memory, number(prop(obj, "ProcessorCount")))


# A VM's state as the cluster implies it when its node does not answer Hyper-V (a node that just crashed, before
# the cluster noticed): the group's state is the cluster's last word on it.
VM_STATE_OF_GROUP = {"Online": "Running", "PartialOnline": "Running", "Pending": "Starting"}


def role_report(group: Any, vm: VmFacts | None, vhds: tuple[VhdReport, ...],
                last: RoleReport | None = None) -> RoleReport:
    """A role from its group and its VM; without the VM (its node does not answer) the group's state says what
    the VM is, and the last report what it had."""
    name = text(prop(group, "Name"))
    owner = text(prop(group, "OwnerNode")) or None
    state = enum_name(prop(group, "State"), "Offline")
    if vm is None and last is not None and last.owner_node == owner:
        vm = VmFacts(VM_STATE_OF_GROUP.get(state, "Off"), last.memory_mb, last.cpus)
        vhds = vhds or last.vhds
    return RoleReport(
        name=name,
        state=state,
        vm_state=vm.state if vm is not None else VM_STATE_OF_GROUP.get(state, "Off"),
        owner_node=owner,
        priority=number(prop(group, "Priority")),
        memory_mb=vm.memory_mb if vm is not None else 0,
        cpus=vm.cpus if vm is not None else 0,
        vhds=vhds,
        anti_affinity=tuple(strings(prop(group, "AntiAffinityClassNames"))),
        failover_threshold=_threshold(prop(group, "FailoverThreshold")),
        failover_period_hours=float(number(prop(group, "FailoverPeriod"), 6)),
    )


NO_LIMIT = 4294967295  # a UInt32 property left at its default ("the cluster decides")


def _threshold(value: Any) -> int | None:
    found = number(value, NO_LIMIT) if value is not None else NO_LIMIT
    return None if found >= NO_LIMIT else found


def strings(value: Any) -> list[str]:
    """A string collection property (AntiAffinityClassNames): a list, or past remoting's depth one string."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [text(v) for v in value if text(v)]
    if isinstance(value, GenericComplexObject):
        items = value.property_sets
        if items:
            return [text(v) for v in items if text(v)]
    found = text(value)
    return [found] if found else []


def profile_of(cluster: Any) -> str:
    """The failover timings in force: 2016 when the cluster has VM compute resiliency, else 2012R2."""
    return "2016" if number(prop(cluster, "ResiliencyDefaultPeriod")) > 0 else "2012R2"


def redirected_nodes(states: list[Any]) -> dict[str, tuple[str, ...]]:
    """CSV name -> the nodes whose access to it is redirected (Get-ClusterSharedVolumeState: StateInfo
    FileSystemRedirected or BlockRedirected rather than Direct)."""
    out: dict[str, list[str]] = {}
    for state in states:
        if enum_name(prop(state, "StateInfo"), "Direct").endswith("Redirected"):
            out.setdefault(text(prop(state, "Name")), []).append(text(prop(state, "Node")))
    return {name: tuple(sorted(nodes)) for name, nodes in out.items()}


def disk_numbers(parameters: list[Any], disks: list[Any]) -> dict[str, int]:
    """Cluster disk name -> the disk's number: its DiskIdGuid (Get-ClusterParameter) is a Get-Disk Guid."""
    number_of = {text(prop(d, "Guid")).strip("{}").lower(): number(prop(d, "Number")) for d in disks}
    out = {}
    for parameter in parameters:
        if text(prop(parameter, "Name")) == "DiskIdGuid":
            guid = text(prop(parameter, "Value")).strip("{}").lower()
            if guid in number_of:
                out[text(prop(parameter, "ClusterObject"))] = number_of[guid]
    return out


def witness_report(resource: Any, disk_number: int = 0) -> DiskReport:
    """The disk witness: a Physical Disk resource of the core cluster group (its size is the storage's business,
    not the cluster's, and is not read)."""
    return DiskReport(
        name=text(prop(resource, "Name")),
        state=enum_name(prop(resource, "State"), "Offline"),
        assigned_to="Disk Witness in Quorum",
        owner_node=text(prop(resource, "OwnerNode")) or None,
        disk_number=disk_number,
        capacity_bytes=0,
        free_bytes=0,
    )


def csv_report(volume: Any, partition: Any | None, redirected: tuple[str, ...] = (),
               disk_number: int = 0) -> DiskReport:
    return DiskReport(
        name=text(prop(volume, "Name")),
        state=enum_name(prop(volume, "State"), "Offline"),
        assigned_to="Cluster Shared Volume",
        owner_node=text(prop(volume, "OwnerNode")) or None,
        disk_number=disk_number,
        capacity_bytes=number(prop(partition, "Size")) if partition is not None else 0,
        free_bytes=number(prop(partition, "FreeSpace")) if partition is not None else 0,
        path=text(prop(partition, "FriendlyVolumeName")) or None if partition is not None else None,
        redirected_nodes=redirected,
    )


def disk_of_path(disks: tuple[DiskReport, ...], path: str) -> str | None:
    lowered = path.lower()
    for disk in disks:
        if disk.path and lowered.startswith(disk.path.rstrip("\\").lower() + "\\"):
            return disk.name
    return None
