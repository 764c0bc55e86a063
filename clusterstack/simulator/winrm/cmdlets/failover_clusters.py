"""The FailoverClusters module's cmdlets over the simulated cluster: reading nodes, groups, resources, CSVs,
quorum and networks, and changing roles and nodes through the failover engine's events."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Any

from psrpcore.types import ErrorCategory, PSObject

from clusterstack.failover import ClusterError, InvalidState, RoleSpec
from clusterstack.failover import events as ev
from clusterstack.failover.model import (
    GROUP_FAILED,
    GROUP_OFFLINE,
    GROUP_ONLINE,
    GROUP_PENDING,
    NODE_ISOLATED,
    NODE_QUARANTINED,
    VM_CONSUMING,
    VM_MIGRATING,
)
from clusterstack.simulator.winrm.cmdlets import errors, objects
from clusterstack.simulator.winrm.cmdlets import hyperv as hv
from clusterstack.simulator.winrm.cmdlets.binding import Call, Param, cmdlet, is_object
from clusterstack.simulator.winrm.cmdlets.host import FAILOVER_CLUSTERS, core_group_owner
from clusterstack.simulator.winrm.cmdlets.objects import build, i64, u32, u64

NS = "Microsoft.FailoverClusters.PowerShell"
DOMAIN = "clusterstack.local"
CLUSTER_GROUP = "Cluster Group"
AVAILABLE_STORAGE = "Available Storage"
NO_LIMIT = 4294967295
MiB = 1024 * 1024

GROUP_STATES = {GROUP_ONLINE: objects.ClusterGroupState.Online, GROUP_OFFLINE: objects.ClusterGroupState.Offline,
                GROUP_FAILED: objects.ClusterGroupState.Failed, GROUP_PENDING: objects.ClusterGroupState.Pending}
RESOURCE_STATES = {"Online": objects.ClusterResourceState.Online, "Offline": objects.ClusterResourceState.Offline,
                   "Failed": objects.ClusterResourceState.Failed}
NODE_STATES = {"Up": objects.ClusterNodeState.Up, "Down": objects.ClusterNodeState.Down,
               "Paused": objects.ClusterNodeState.Paused, "Joining": objects.ClusterNodeState.Joining,
               NODE_ISOLATED: objects.ClusterNodeState.Down, NODE_QUARANTINED: objects.ClusterNodeState.Down}
UNTIL_DONE = 3600.0  # how long a cmdlet without -Wait waits at most


def stable_guid(*parts: str) -> str:
    return str(uuid.UUID(bytes=hashlib.sha1("\0".join(parts).encode()).digest()[:16]))


def command_class(verb_noun: str) -> str:
    return f"{NS}.{verb_noun.replace('-', '')}Command"


def fc(name: str, *params: Param) -> Any:
    return cmdlet(name, command_class(name), FAILOVER_CLUSTERS, *params)


# ---- objects ---------------------------------------------------------------------------------------------------


def cluster_object(sim: Any) -> PSObject:
    c = sim.cluster
    profile = c.profile
    lower = c.nodes.get(c.lower_quorum_priority_node or "")
    return build(objects.Cluster, c.name, Name=c.name, Domain=DOMAIN, Id=stable_guid("cluster", c.name),
                 Description="", DynamicQuorum=u32(1 if c.dynamic_quorum else 0),
                 WitnessDynamicWeight=u32(c.witness_vote), QuarantineThreshold=u32(profile.quarantine_threshold or 0),
                 QuarantineDuration=u32(int(profile.quarantine_duration)),
                 ResiliencyDefaultPeriod=u32(int(profile.resiliency_period or 0)), ResiliencyLevel=u32(2),
                 SameSubnetDelay=u32(int(profile.same_subnet_delay * 1000)),
                 SameSubnetThreshold=u32(profile.same_subnet_threshold),
                 CrossSubnetDelay=u32(int(profile.cross_subnet_delay * 1000)),
                 CrossSubnetThreshold=u32(profile.cross_subnet_threshold),
                 LowerQuorumPriorityNodeID=u32(lower.index + 1 if lower else 0),
                 ClusterFunctionalLevel=u32(9 if profile.name == "2016" else 8), S2DEnabled=u32(0),
                 SharedVolumesRoot="C:\\ClusterStorage")


def node_object(sim: Any, name: str, cluster: PSObject | None = None) -> PSObject:
    node = sim.cluster.nodes[name]
    status = objects.ClusterNodeStatusInfo.Normal
    if node.state == NODE_ISOLATED:
        status = objects.ClusterNodeStatusInfo.Isolated
    elif node.state == NODE_QUARANTINED:
        status = objects.ClusterNodeStatusInfo.Quarantined
    return build(objects.ClusterNode, node.name, Cluster=cluster or cluster_object(sim),
                 State=NODE_STATES.get(node.state, objects.ClusterNodeState.Unknown), Name=node.name,
                 NodeName=node.name, Id=str(node.index + 1), NodeWeight=u32(node.assigned_vote),
                 DynamicWeight=u32(node.current_vote), DrainStatus=objects.NodeDrainStatus[node.drain_status],
                 DrainTarget=u32(NO_LIMIT), StatusInformation=status, BuildNumber=u32(14393), MajorVersion=u32(10),
                 MinorVersion=u32(0), CSDVersion="", Description="",
                 NodeInstanceID=stable_guid("node", node.name), Manufacturer="Microsoft Corporation",
                 Model="Virtual Machine", SerialNumber=stable_guid("serial", node.name)[:13].upper(), FaultDomain=[])


def _core_group(sim: Any, name: str, cluster: PSObject) -> PSObject:
    c = sim.cluster
    owner = core_group_owner(sim)
    storage = [d for d in c.disks.values() if not d.csv_path and not d.witness]
    if name == CLUSTER_GROUP:
        state, kind = objects.ClusterGroupState.Online, objects.GroupType.Cluster
    else:
        state = (objects.ClusterGroupState.Online if storage and all(d.state == "Online" for d in storage) else
                 objects.ClusterGroupState.Failed if storage else objects.ClusterGroupState.Offline)
        kind = objects.GroupType.AvailableStorage
    return build(objects.ClusterGroup, name, Cluster=cluster, IsCoreGroup=True,
                 OwnerNode=node_object(sim, owner, cluster), State=state, Name=name, Description="",
                 PersistentState=u32(1), FailoverThreshold=u32(NO_LIMIT), FailoverPeriod=u32(6),
                 AutoFailbackType=u32(0), FailbackWindowStart=u32(NO_LIMIT), FailbackWindowEnd=u32(NO_LIMIT),
                 Priority=u32(0), DefaultOwner=u32(NO_LIMIT), AntiAffinityClassNames=[], GroupType=kind,
                 StatusInformation=u64(0), Id=stable_guid("group", name))


def group_object(sim: Any, name: str, cluster: PSObject | None = None) -> PSObject:
    cluster = cluster or cluster_object(sim)
    if name in (CLUSTER_GROUP, AVAILABLE_STORAGE):
        return _core_group(sim, name, cluster)
    role = sim.cluster.roles[name]
    threshold = role.failover_threshold if role.failover_threshold is not None else NO_LIMIT
    return build(objects.ClusterGroup, role.name, Cluster=cluster, IsCoreGroup=False,
                 OwnerNode=node_object(sim, role.owner, cluster) if role.owner else None,
                 State=GROUP_STATES.get(role.state, objects.ClusterGroupState.Unknown), Name=role.name,
                 Description="", PersistentState=u32(1 if role.state == GROUP_ONLINE else 0),
                 FailoverThreshold=u32(threshold), FailoverPeriod=u32(int(role.failover_period // 3600)),
                 AutoFailbackType=u32(1 if role.failback else 0), FailbackWindowStart=u32(NO_LIMIT),
                 FailbackWindowEnd=u32(NO_LIMIT), Priority=u32(role.priority), DefaultOwner=u32(NO_LIMIT),
                 AntiAffinityClassNames=list(role.anti_affinity), GroupType=objects.GroupType.VirtualMachine,
                 StatusInformation=u64(0), Id=stable_guid("group", role.name))


def group_names(sim: Any) -> list[str]:
    return [AVAILABLE_STORAGE, CLUSTER_GROUP, *sorted(sim.cluster.roles)]


def _resource(sim: Any, cluster: PSObject, name: str, kind: str, group: str, owner: str | None, state: Any,
              core: bool = False, network: bool = False, storage: bool = False) -> PSObject:
    return build(objects.ClusterResource, name, Cluster=cluster, IsCoreResource=core,
                 IsNetworkClassResource=network, IsStorageClassResource=storage,
                 OwnerGroup=group_object(sim, group, cluster), ResourceType=kind, State=state,
                 OwnerNode=node_object(sim, owner, cluster) if owner else None, Name=name, Description="",
                 PersistentState=u32(1 if state == objects.ClusterResourceState.Online else 0),
                 StatusInformation=u64(0), Id=stable_guid("resource", name))


def resources(sim: Any, cluster: PSObject, names: set[str] | None = None) -> list[PSObject]:
    """The cluster's resources in Get-ClusterResource's order; with `names` (lower case) only those are built (a
    thousand roles make two thousand resources, and building each object is the expensive part)."""
    c = sim.cluster
    core = core_group_owner(sim)
    online = objects.ClusterResourceState.Online
    out: list[PSObject] = []

    def add(name: str, *args: Any, **kwargs: Any) -> None:
        if names is None or name.lower() in names:
            out.append(_resource(sim, cluster, name, *args, **kwargs))

    add("Cluster IP Address", "IP Address", CLUSTER_GROUP, core, online, core=True, network=True)
    add("Cluster Name", "Network Name", CLUSTER_GROUP, core, online, core=True, network=True)
    if c.witness_kind == "file-share":
        add("File Share Witness", "File Share Witness", CLUSTER_GROUP, core, online, core=True)
    elif c.witness_kind == "cloud":
        add("Cloud Witness", "Cloud Witness", CLUSTER_GROUP, core, online, core=True)
    for disk in c.disks.values():
        if disk.csv_path:
            continue  # a CSV is a cluster shared volume, not a resource of a group
        group = CLUSTER_GROUP if disk.witness else AVAILABLE_STORAGE
        add(disk.name, "Physical Disk", group, disk.owner or core,
            RESOURCE_STATES.get(disk.state, objects.ClusterResourceState.Unknown), core=disk.witness, storage=True)
    for name in sorted(c.roles):
        role = c.roles[name]
        vm_state = {GROUP_ONLINE: objects.ClusterResourceState.Online,
                    GROUP_OFFLINE: objects.ClusterResourceState.Offline,
                    GROUP_FAILED: objects.ClusterResourceState.Failed,
                    GROUP_PENDING: objects.ClusterResourceState.OnlinePending}[role.state]
        add(f"Virtual Machine {name}", "Virtual Machine", name, role.owner, vm_state)
        add(f"Virtual Machine Configuration {name}", "Virtual Machine Configuration", name, role.owner, online)
    return out


def csv_object(sim: Any, name: str, session_node: str, cluster: PSObject | None = None) -> PSObject:
    cluster = cluster or cluster_object(sim)
    disk = sim.cluster.disks[name]
    volume_guid = stable_guid("volume", disk.name)
    volume = f"\\\\?\\Volume{{{volume_guid}}}\\"
    capacity, free = disk.capacity_bytes, disk.free_bytes
    partition = build(objects.ClusterDiskPartitionInfo, None, DriveLetter="", DriveLetterMask=u32(0),
                      FileSystem="CSVFS", FileSystemFlags=u32(0), FreeSpace=i64(free), HasDriveLetter=False,
                      IsCompressed=False, IsDirty=u32(0), IsFormatted=True, IsNtfs=False,
                      IsPartitionNumberValid=True, IsPartitionSizeValid=True, MountPoints=[], Name=volume,
                      PartitionFlags=u32(0), PartitionNumber=u32(2), PercentFree=float(100.0 * free / capacity),
                      Size=i64(capacity), UsedSpace=i64(capacity - free), VolumeGuid=volume_guid,
                      VolumeLabel="", VolumeSerialNumber=u32(int(volume_guid[:8], 16)))
    info = build(objects.ClusterSharedVolumeInfo, disk.csv_path, FaultState=u32(0),
                 FriendlyVolumeName=disk.csv_path, MaintenanceMode=False, Partition=partition,
                 PartitionNumber=u32(2), RedirectedAccess=session_node in disk.redirected,
                 VolumeOffset=u64(1048576 * 129), VolumeName=volume)
    return build(objects.ClusterSharedVolume, disk.name, Cluster=cluster, Name=disk.name,
                 OwnerNode=node_object(sim, disk.owner, cluster) if disk.owner else None, SharedVolumeInfo=[info],
                 State=RESOURCE_STATES.get(disk.state, objects.ClusterResourceState.Unknown),
                 Id=stable_guid("resource", disk.name))


# ---- helpers ---------------------------------------------------------------------------------------------------


def _not_found(call: Call, what: str, name: str) -> errors.ErrorRecordInfo:
    return call.record(f"The cluster {what} '{name}' was not found.", ErrorCategory.ObjectNotFound, call.cmdlet.name,
                       errors.CLUSTER_EXCEPTION, name)


def _find_node(call: Call, name: str) -> str:
    for node in call.sim.cluster.nodes:
        if node.lower() == name.strip().lower():
            return node
    raise call.fail(_not_found(call, "node", name))


def _find_group(call: Call, name: str, roles_only: bool = False) -> str:
    candidates = sorted(call.sim.cluster.roles) if roles_only else group_names(call.sim)
    for group in candidates:
        if group == name:
            return group
    for group in candidates:
        if group.lower() == name.lower():
            return group
    raise call.fail(_not_found(call, "group", name))


def _names_from(call: Call, parameter: str, kind: str) -> list[str]:
    """Names given with -<parameter>, or the names of piped objects of `kind` (ClusterGroup, ClusterNode)."""
    given = call.get(parameter)
    if given is not None:
        return [given] if isinstance(given, str) else list(given)
    out = []
    for obj in call.input:
        if is_object(obj) and any(t.endswith(f".{kind}") for t in obj.PSObject.type_names):
            out.append(str(obj.Name))
        else:
            out.append(objects.to_string(obj))
    return out


def _apply(call: Call, event: Any, target: str, what: str = "") -> list[Any]:
    try:
        return call.sim.apply(event)
    except ClusterError as exc:
        raise call.fail(errors.cluster_error(exc, call.cmdlet.name, call.cmdlet.command_class, target, what)) from None


async def _wait(call: Call, name: str, done: Any) -> None:
    """Wait for role `name` to reach `done(role)`: at once with -Wait 0, at most -Wait seconds, else until done."""
    timeout = float(call.get("Wait")) if call.has("Wait") else UNTIL_DONE
    if timeout <= 0:
        return
    sim = call.sim
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        role = sim.cluster.roles.get(name)
        remaining = deadline - loop.time()
        if role is None or done(role) or remaining <= 0:
            return
        await sim.wait_for_role_change(name, (role.state, role.vm_state, role.owner), remaining)


def _wait_param() -> Param:
    return Param("Wait", "int32")


# ---- reading ---------------------------------------------------------------------------------------------------


@fc("Get-Cluster", Param("Name", "str", position=0), Param("Domain", "str"),
    Param("InputObject", "object", pipeline=True))
async def get_cluster(call: Call) -> None:
    call.emit(cluster_object(call.sim))


@fc("Get-ClusterNode", Param("Name", "str[]", position=0), Param("InputObject", "object", pipeline=True),
    Param("Cluster", "str"))
async def get_cluster_node(call: Call) -> None:
    sim = call.sim
    cluster = cluster_object(sim)
    if call.has("Name"):
        for name in call.get("Name"):
            call.emit(node_object(sim, _find_node(call, name), cluster))
        return
    for node in sorted(sim.cluster.nodes.values(), key=lambda n: n.index):
        call.emit(node_object(sim, node.name, cluster))


@fc("Get-ClusterQuorum", Param("InputObject", "object", pipeline=True), Param("Cluster", "str"))
async def get_cluster_quorum(call: Call) -> None:
    sim = call.sim
    cluster = cluster_object(sim)
    c = sim.cluster
    witness = None
    if c.witness_kind != "none":
        witness_name = {"file-share": "File Share Witness", "cloud": "Cloud Witness"}.get(
            c.witness_kind, c.witness_disk or "")
        witness = next(iter(resources(sim, cluster, {witness_name.lower()})), None)
    call.emit(build(objects.ClusterQuorumSettings, None, Cluster=cluster, QuorumResource=witness,
                    QuorumType=c.quorum_state()["model"]))


@fc("Get-ClusterGroup", Param("Name", "str[]", position=0), Param("InputObject", "object", pipeline=True),
    Param("VMId", "str"), Param("Cluster", "str"))
async def get_cluster_group(call: Call) -> None:
    sim = call.sim
    cluster = cluster_object(sim)
    if call.has("Name"):
        for name in call.get("Name"):
            call.emit(group_object(sim, _find_group(call, name), cluster))
        return
    nodes = {str(o.Name) for o in call.input if is_object(o) and f"{NS}.ClusterNode" in o.PSObject.type_names}
    for name in group_names(sim):
        group = group_object(sim, name, cluster)
        if not nodes or (group.OwnerNode is not None and str(group.OwnerNode) in nodes):
            call.emit(group)


@fc("Get-ClusterResource", Param("Name", "str[]", position=0), Param("InputObject", "object", pipeline=True),
    Param("VMId", "str"), Param("Cluster", "str"))
async def get_cluster_resource(call: Call) -> None:
    sim = call.sim
    if call.has("Name"):
        everything = resources(sim, cluster_object(sim), {n.lower() for n in call.get("Name")})
        for name in call.get("Name"):
            found = [r for r in everything if str(r.Name).lower() == name.lower()]
            if not found:
                raise call.fail(_not_found(call, "resource", name))
            call.emit(found[0])
        return
    groups = {str(o.Name) for o in call.input if is_object(o) and f"{NS}.ClusterGroup" in o.PSObject.type_names}
    for resource in resources(sim, cluster_object(sim)):
        if not groups or str(resource.OwnerGroup) in groups:
            call.emit(resource)


@fc("Get-ClusterSharedVolume", Param("Name", "str[]", position=0), Param("InputObject", "object", pipeline=True),
    Param("Cluster", "str"))
async def get_cluster_shared_volume(call: Call) -> None:
    sim = call.sim
    cluster = cluster_object(sim)
    csvs = [d.name for d in sim.cluster.disks.values() if d.csv_path]
    if call.has("Name"):
        for name in call.get("Name"):
            match = next((d for d in csvs if d.lower() == name.lower()), None)
            if match is None:
                raise call.fail(_not_found(call, "shared volume", name))
            call.emit(csv_object(sim, match, call.session.node, cluster))
        return
    for name in csvs:
        call.emit(csv_object(sim, name, call.session.node, cluster))


@fc("Get-ClusterSharedVolumeState", Param("Name", "str[]", position=0), Param("Node", "str[]"),
    Param("InputObject", "object", pipeline=True), Param("Cluster", "str"))
async def get_cluster_shared_volume_state(call: Call) -> None:
    """Each running member's access to each CSV: Direct, or FileSystemRedirected when it lost its own path."""
    sim = call.sim
    names = {n.lower() for n in call.get("Name") or []}
    wanted_nodes = {n.lower() for n in call.get("Node") or []}
    for disk in sim.cluster.disks.values():
        if not disk.csv_path or (names and disk.name.lower() not in names):
            continue
        for node in sorted(sim.cluster.nodes.values(), key=lambda n: n.index):
            if wanted_nodes and node.name.lower() not in wanted_nodes:
                continue
            if not (node.alive and node.member):
                state = objects.CsvStateInfo.Unavailable
            elif node.name in disk.redirected:
                state = objects.CsvStateInfo.FileSystemRedirected
            else:
                state = objects.CsvStateInfo.Direct
            reason = ("StorageSpaceNotAttached" if state == objects.CsvStateInfo.FileSystemRedirected
                      else "NotFileSystemRedirected")
            call.emit(build(objects.ClusterSharedVolumeStateInfo, disk.name, Name=disk.name, Node=node.name,
                            StateInfo=state, VolumeFriendlyName=disk.csv_path,
                            VolumeName=f"\\\\?\\Volume{{{stable_guid('volume', disk.name).lower()}}}\\",
                            FileSystemRedirectedIOReason=reason,
                            BlockRedirectedIOReason="NotBlockRedirected"))


def disk_guid(disk: str) -> str:
    """A cluster disk's GPT disk GUID, as its DiskIdGuid parameter and Get-Disk's Guid give it."""
    return "{" + stable_guid("disk", disk) + "}"


@fc("Get-ClusterParameter", Param("Name", "str[]", position=0), Param("InputObject", "object", pipeline=True),
    Param("Cluster", "str"))
async def get_cluster_parameter(call: Call) -> None:
    """The private properties of piped Physical Disk resources and CSVs (the ones a disk has in WSFC)."""
    sim = call.sim
    wanted = {n.lower() for n in call.get("Name") or []}
    for obj in call.input:
        name = str(getattr(obj, "Name", "")) if is_object(obj) else objects.to_string(obj)
        disk = sim.cluster.disks.get(name)
        if disk is None:
            raise call.fail(_not_found(call, "resource", name))
        values = [("DiskIdType", u32(1)), ("DiskSignature", u32(0)), ("DiskIdGuid", disk_guid(disk.name)),
                  ("DiskRunChkDsk", u32(0)), ("DiskPath", ""), ("MaintenanceMode", False)]
        for key, value in values:
            if not wanted or key.lower() in wanted:
                call.emit(build(objects.ClusterParameter, None, ClusterObject=obj, Name=key, IsReadOnly=False,
                                ParameterType="UInt32" if not isinstance(value, str | bool) else
                                ("String" if isinstance(value, str) else "Boolean"), Value=value))


@fc("Get-ClusterNetworkInterface", Param("Name", "str[]", position=0), Param("Node", "str[]"),
    Param("Network", "str[]"), Param("InputObject", "object", pipeline=True), Param("Cluster", "str"))
async def get_cluster_network_interface(call: Call) -> None:
    sim = call.sim
    cluster = cluster_object(sim)
    wanted_nodes = {n.lower() for n in call.get("Node") or []}
    for node in sorted(sim.cluster.nodes.values(), key=lambda n: n.index):
        if wanted_nodes and node.name.lower() not in wanted_nodes:
            continue
        name = f"{node.name} - Ethernet"
        if call.has("Name") and name.lower() not in {n.lower() for n in call.get("Name")}:
            continue
        state = (objects.ClusterNetworkInterfaceState.Up if node.alive and node.member else
                 objects.ClusterNetworkInterfaceState.Unreachable if node.alive else
                 objects.ClusterNetworkInterfaceState.Unavailable)
        call.emit(build(objects.ClusterNetworkInterface, name, Cluster=cluster, Name=name,
                        Network="Cluster Network 1", Node=node.name, State=state, Adapter="Ethernet",
                        Address=_interface_address(sim, node.index), Description="",
                        Id=stable_guid("netinterface", name)))


def _interface_address(sim: Any, index: int) -> str:
    """A node's address on the cluster network: in the simulator, the loopback address it answers WinRM on (never
    an address outside this machine)."""
    if sim.winrm is not None:
        return str(sim.winrm.config.address(11 + index))
    return "127.0.0.1"


@fc("Get-ClusterOwnerNode", Param("Group", "str"), Param("Resource", "str"),
    Param("InputObject", "object", pipeline=True), Param("Cluster", "str"))
async def get_cluster_owner_node(call: Call) -> None:
    sim = call.sim
    cluster = cluster_object(sim)
    for name in _names_from(call, "Group", "ClusterGroup"):
        group = _find_group(call, name)
        role = sim.cluster.roles.get(group)
        owners = role.preferred_owners if role is not None else []
        call.emit(build(objects.ClusterOwnerNodeList, None, ClusterObject=group_object(sim, group, cluster),
                        OwnerNodes=[node_object(sim, n, cluster) for n in owners]))


# ---- changing --------------------------------------------------------------------------------------------------


@fc("Set-ClusterOwnerNode", Param("Owners", "str[]", mandatory=True, position=0), Param("Group", "str"),
    Param("Resource", "str"), Param("InputObject", "object", pipeline=True), Param("Cluster", "str"))
async def set_cluster_owner_node(call: Call) -> None:
    sim = call.sim
    owners = [_find_node(call, part) for given in call.get("Owners") for part in given.split(",") if part.strip()]
    for name in _names_from(call, "Group", "ClusterGroup"):
        group = _find_group(call, name)
        role = sim.cluster.roles.get(group)
        if role is None:
            continue  # a core group: its preferred owners are not the engine's
        # the engine has no event for a group's preferred owners: they are a property the cluster just keeps
        role.preferred_owners = owners
        sim._changed_now([])


@fc("Add-ClusterVirtualMachineRole", Param("VMName", "str", position=0), Param("Name", "str"),
    Param("VirtualMachine", "str"), Param("VMId", "str"), Param("Storage", "str[]"), Param("Cluster", "str"),
    Param("InputObject", "object", pipeline=True))
async def add_cluster_virtual_machine_role(call: Call) -> None:
    sim = call.sim
    vm_name = call.get("VMName") or call.get("VirtualMachine")
    if vm_name is None:
        for obj in call.input:
            if is_object(obj):
                vm_name = str(getattr(obj, "VMName", None) or getattr(obj, "Name", ""))
    if not vm_name:
        raise call.fail(call.record("Cannot process command because of one or more missing mandatory parameters: "
                                    "VMName.", ErrorCategory.InvalidArgument, "MissingMandatoryParameter",
                                    errors.PARAMETER_BINDING))
    group_name = call.get("Name") or vm_name
    clustered = hv.find_clustered(sim, vm_name)
    if clustered is not None:
        raise call.fail(call.record(f"The specified virtual machine '{vm_name}' is already clustered.",
                                    ErrorCategory.ResourceExists, call.cmdlet.name, errors.CLUSTER_EXCEPTION,
                                    vm_name))
    found = hv.find_unclustered(sim, vm_name, prefer=call.session.node)
    if found is None:
        raise call.fail(call.record(f"The virtual machine '{vm_name}' was not found on any node of the cluster.",
                                    ErrorCategory.ObjectNotFound, call.cmdlet.name, errors.CLUSTER_EXCEPTION,
                                    vm_name))
    name, details = found
    if group_name != name:
        raise call.fail(call.record(
            f"The clustered role of virtual machine '{name}' must have the virtual machine's name, not "
            f"'{group_name}'.", ErrorCategory.InvalidArgument, call.cmdlet.name, errors.CLUSTER_EXCEPTION, group_name))
    drives = [p for p in hv.drives_of(sim, name) if p]
    disk = hv.disk_of_vhd(sim, drives[0]) if drives else None
    spec = RoleSpec(name=name, memory_mb=details.memory_mb, cpus=details.cpus, disk=disk, owner=details.node,
                    priority=2000, state="Off")
    what = f"while adding virtual machine '{name}' to the cluster"
    _apply(call, ev.AddRole(spec), name, what)
    attached: list[str] = []
    try:
        for path in drives:
            sim.apply(ev.AttachVhd(name, path))
            attached.append(path)
    except ClusterError as exc:
        for path in attached:
            sim.apply(ev.DetachVhd(name, path))
        sim.apply(ev.RemoveRole(name))
        raise call.fail(errors.cluster_error(exc, call.cmdlet.name, call.cmdlet.command_class, name, what)) from None
    details.node = None
    details.drives = list(drives)
    call.emit(group_object(sim, name))


def _role(call: Call, name: str) -> str:
    return _find_group(call, name, roles_only=True) if name not in (CLUSTER_GROUP, AVAILABLE_STORAGE) else name


@fc("Start-ClusterGroup", Param("Name", "str[]", position=0), Param("InputObject", "object", pipeline=True),
    _wait_param(), Param("IgnoreLocked", "switch"), Param("ChooseBestNode", "switch"), Param("Cluster", "str"))
async def start_cluster_group(call: Call) -> None:
    sim = call.sim
    for given in _names_from(call, "Name", "ClusterGroup"):
        name = _role(call, _find_group(call, given))
        role = sim.cluster.roles.get(name)
        if role is not None and not (role.vm_state in VM_CONSUMING and role.state == GROUP_ONLINE):
            if role.vm_state not in VM_CONSUMING:
                _apply(call, ev.StartRole(name), name, f"while starting the cluster group '{name}'")
            await _wait(call, name, lambda r: r.state != GROUP_PENDING and r.vm_state != "Starting")
        call.emit(group_object(sim, name))


@fc("Stop-ClusterGroup", Param("Name", "str[]", position=0), Param("InputObject", "object", pipeline=True),
    _wait_param(), Param("IgnoreLocked", "switch"), Param("Cluster", "str"))
async def stop_cluster_group(call: Call) -> None:
    sim = call.sim
    for given in _names_from(call, "Name", "ClusterGroup"):
        name = _role(call, _find_group(call, given))
        role = sim.cluster.roles.get(name)
        if role is not None and (role.state != GROUP_OFFLINE or role.vm_state in VM_CONSUMING):
            _apply(call, ev.StopRole(name), name, f"while stopping the cluster group '{name}'")
            await _wait(call, name, lambda r: r.state == GROUP_OFFLINE)
        call.emit(group_object(sim, name))


@fc("Move-ClusterVirtualMachineRole", Param("Name", "str", position=0), Param("Node", "str", position=1),
    Param("MigrationType", "enum", choices=("TurnOff", "Shutdown", "ShutdownForce", "Quick", "Live"),
          enum_type=f"{NS}.VmMigrationType"),
    Param("InputObject", "object", pipeline=True), _wait_param(), Param("VMId", "str"), Param("Cluster", "str"),
    Param("IgnoreLocked", "switch"))
async def move_cluster_virtual_machine_role(call: Call) -> None:
    sim = call.sim
    kind = (call.get("MigrationType") or "Live").lower()
    for given in _names_from(call, "Name", "ClusterGroup"):
        name = _find_group(call, given, roles_only=True)
        role = sim.cluster.roles[name]
        what = f"while moving the virtual machine role '{name}'"
        if call.has("Node"):
            target = _find_node(call, call.get("Node"))
        else:
            chosen = sim.cluster._choose_node(role, exclude=role.owner)
            if chosen is None:
                raise call.fail(errors.cluster_error(InvalidState("no other node can host the role"),
                                                     call.cmdlet.name, call.cmdlet.command_class, name, what))
            target = chosen.name
        if kind not in ("live", "quick"):
            raise call.fail(call.record(
                f"An error occurred {what}.\nMigration type {call.get('MigrationType')} is not supported by this "
                "cluster; use Live or Quick.", ErrorCategory.InvalidArgument, call.cmdlet.name,
                errors.CLUSTER_EXCEPTION, name))
        if role.owner == target and role.vm_state != VM_MIGRATING:
            call.emit(group_object(sim, name))  # already there: Windows answers the group as it is
            continue
        _apply(call, ev.MoveRole(name, target, kind), name, f"{what} to node '{target}'")
        await _wait(call, name, lambda r: r.vm_state != VM_MIGRATING)
        call.emit(group_object(sim, name))


@fc("Remove-ClusterGroup", Param("Name", "str[]", position=0), Param("InputObject", "object", pipeline=True),
    Param("RemoveResources", "switch"), Param("Force", "switch"), Param("VMId", "str"), Param("Cluster", "str"))
async def remove_cluster_group(call: Call) -> None:
    sim = call.sim
    for given in _names_from(call, "Name", "ClusterGroup"):
        group = _find_group(call, given)
        what = f"while removing the cluster group '{group}'"
        if group in (CLUSTER_GROUP, AVAILABLE_STORAGE):
            raise call.fail(call.record(f"An error occurred {what}.\nThe cluster group is a core group and cannot "
                                        "be removed.", ErrorCategory.InvalidOperation, call.cmdlet.name,
                                        errors.CLUSTER_EXCEPTION, group))
        if not call.get("RemoveResources"):
            raise call.fail(call.record(f"An error occurred {what}.\nThe cluster group is not empty. Specify "
                                        "-RemoveResources to remove its resources with it.",
                                        ErrorCategory.InvalidOperation, call.cmdlet.name, errors.CLUSTER_EXCEPTION,
                                        group))
        role = sim.cluster.roles[group]
        if role.state != GROUP_OFFLINE or role.vm_state in VM_CONSUMING:
            _apply(call, ev.StopRole(group), group, what)  # resources go offline before they are deleted
        role = sim.cluster.roles[group]
        node = role.owner or core_group_owner(sim)
        drives = [p for p in hv.drives_of(sim, group) if p]
        for path in list(role.vhds):
            _apply(call, ev.DetachVhd(group, path), group, what)
        memory, cpus = role.memory_mb, role.cpus
        _apply(call, ev.RemoveRole(group), group, what)
        details = hv.details_of(sim, group)
        details.node, details.memory_mb, details.cpus, details.drives = node, memory, cpus, drives


@fc("Suspend-ClusterNode", Param("Name", "str[]", position=0), Param("InputObject", "object", pipeline=True),
    Param("Drain", "switch"), Param("ForceDrain", "switch"), _wait_param(), Param("TargetNode", "str"),
    Param("Cluster", "str"))
async def suspend_cluster_node(call: Call) -> None:
    sim = call.sim
    for given in _names_from(call, "Name", "ClusterNode"):
        name = _find_node(call, given)
        node = sim.cluster.nodes[name]
        what = f"while suspending the cluster node '{name}'"
        if call.get("Drain"):
            _apply(call, ev.Drain(name), name, what)
            if call.has("Wait"):
                await _wait_drain(call, name, float(call.get("Wait")))
        elif not node.paused:
            if not (node.alive and node.member and node.state == "Up"):
                raise call.fail(errors.cluster_error(InvalidState(f"node {name} is {node.state}"), call.cmdlet.name,
                                                     call.cmdlet.command_class, name, what))
            # a pause without a drain: the node stops taking roles and keeps its own (no engine event does this)
            node.paused = True
            node.state = "Paused"
            sim._changed_now([])
        call.emit(node_object(sim, name))


@fc("Start-ClusterNode", Param("Name", "str[]", position=0), Param("InputObject", "object", pipeline=True),
    Param("ClearQuarantine", "switch"), _wait_param(), Param("Cluster", "str"))
async def start_cluster_node(call: Call) -> None:
    """Starts the Cluster service on a node whose machine runs: a Down node joins; a quarantined one only with
    -ClearQuarantine (without it the service starts and the node stays quarantined, as Windows does)."""
    sim = call.sim
    for given in _names_from(call, "Name", "ClusterNode"):
        name = _find_node(call, given)
        node = sim.cluster.nodes[name]
        what = f"while starting the cluster node '{name}'"
        if not node.alive:
            call.error(call.record(f"An error occurred {what}.\nThe RPC server is unavailable.",
                                   ErrorCategory.ConnectionError, f"Start-ClusterNode,{call.cmdlet.command_class}",
                                   errors.CLUSTER_EXCEPTION, name))
            continue
        if node.state == NODE_QUARANTINED:
            if not call.get("ClearQuarantine"):
                call.error(errors.cluster_error(
                    InvalidState(f"node {name} is quarantined; start it with -ClearQuarantine to let it rejoin"),
                    call.cmdlet.name, call.cmdlet.command_class, name, what))
                continue
            _apply(call, ev.ClearQuarantine(name), name, what)
        elif node.state == "Down":
            _apply(call, ev.NodeStart(name), name, what)
        call.emit(node_object(sim, name))


async def _wait_drain(call: Call, name: str, timeout: float) -> None:
    sim = call.sim
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while sim.cluster.nodes[name].drain_status == "InProgress" and loop.time() < deadline:
        await sim.wait_for_change(sim.cursor, deadline - loop.time())


@fc("Resume-ClusterNode", Param("Name", "str[]", position=0), Param("InputObject", "object", pipeline=True),
    Param("Failback", "enum", choices=("Immediate", "NoFailback", "Policy"),
          enum_type=f"{NS}.ResumeClusterNodeFailbackType"), Param("Cluster", "str"))
async def resume_cluster_node(call: Call) -> None:
    sim = call.sim
    failback = call.get("Failback") == "Immediate"
    for given in _names_from(call, "Name", "ClusterNode"):
        name = _find_node(call, given)
        if sim.cluster.nodes[name].paused:
            _apply(call, ev.Resume(name, failback), name, f"while resuming the cluster node '{name}'")
        call.emit(node_object(sim, name))

