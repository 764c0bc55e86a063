"""Windows cmdlets the driver uses besides the cluster's and Hyper-V's: Get-WindowsFeature, Remove-Item (of VHD
files), Get-CimInstance/Set-CimInstance on root/MSCluster MSCluster_ResourceGroup (a group's Priority), and
Select-Object with PowerShell's own semantics."""

from __future__ import annotations

import re
from typing import Any

from psrpcore.types import ErrorCategory, PSObject, add_note_property

from clusterstack.failover import ClusterError
from clusterstack.failover import events as ev
from clusterstack.simulator.winrm.cmdlets import failover_clusters as fcm
from clusterstack.simulator.winrm.cmdlets import hyperv as hv
from clusterstack.simulator.winrm.cmdlets import objects
from clusterstack.simulator.winrm.cmdlets.binding import Call, Param, cmdlet, is_object
from clusterstack.simulator.winrm.cmdlets.objects import build, u32

CIM = "Microsoft.Management.Infrastructure.CimCmdlets"
CIM_EXCEPTION = "Microsoft.Management.Infrastructure.CimException"
UTILITY = "Microsoft.PowerShell.Commands"

FEATURES = [
    ("Hyper-V", "Hyper-V", "Role", "Hyper-V provides the services that you can use to create and manage virtual "
     "machines and their resources."),
    ("Failover-Clustering", "Failover Clustering", "Feature", "Failover Clustering allows multiple servers to work "
     "together to provide high availability of server roles."),
    ("RSAT-Clustering-PowerShell", "Failover Cluster Module for Windows PowerShell", "Feature",
     "Includes the Failover Cluster module for Windows PowerShell."),
    ("Hyper-V-PowerShell", "Hyper-V Module for Windows PowerShell", "Feature",
     "Includes Windows PowerShell cmdlets for managing Hyper-V."),
]


def wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$",
                      re.IGNORECASE | re.DOTALL)


# ---- Get-WindowsFeature ----------------------------------------------------------------------------------------


@cmdlet("Get-WindowsFeature", "Microsoft.Windows.ServerManager.Commands.GetWindowsFeatureCommand", "ServerManager",
        Param("Name", "str[]", position=0), Param("ComputerName", "str"), Param("Vhd", "str"),
        Param("LogPath", "str"), Param("Credential", "object"))
async def get_windows_feature(call: Call) -> None:
    patterns = [wildcard(n) for n in call.get("Name") or ["*"]]
    for name, display, kind, description in FEATURES:
        if any(p.match(name) for p in patterns):
            call.emit(build(objects.WindowsFeature, name, Name=name, DisplayName=display, Description=description,
                            Installed=True, InstallState="Installed", FeatureType=kind, Path=display, Depth=1,
                            DependsOn=[], Parent=None, ServerComponentDescriptor=f"ServerComponent_{name}",
                            SubFeatures=[], SystemService=[], Notification=[], BestPracticesModelId="",
                            EventQuery=None, PostConfigurationNeeded=False, AdditionalInfo=None))


# ---- Get-Disk (the Storage module) -----------------------------------------------------------------------------


@cmdlet("Get-Disk", "Microsoft.Management.Infrastructure.CimCmdlets.GetDisk", "Storage",
        Param("Number", "int[]", position=0), Param("FriendlyName", "str[]"), Param("CimSession", "object"))
async def get_disk(call: Call) -> None:
    """The cluster's shared disks as every node sees them (shared storage), with their numbers and GUIDs."""
    numbers = set(call.get("Number") or [])
    for disk in sorted(call.sim.cluster.disks.values(), key=lambda d: d.number):
        if numbers and disk.number not in numbers:
            continue
        call.emit(build(objects.MsftDisk, str(disk.number), Number=u32(disk.number),
                        FriendlyName="Msft Virtual Disk", Guid=fcm.disk_guid(disk.name),
                        Path=f"\\\\?\\mpio#disk&ven_msft&prod_virtual_disk#{disk.number}",
                        Size=objects.u64(disk.capacity_bytes), AllocatedSize=objects.u64(disk.capacity_bytes),
                        PartitionStyle=objects.u16(2), IsClustered=True,  # 2: GPT
                        IsOffline=False, OperationalStatus="Online", HealthStatus="Healthy", BusType="SAS",
                        NumberOfPartitions=u32(1)))


# ---- Remove-Item -----------------------------------------------------------------------------------------------


@cmdlet("Remove-Item", f"{UTILITY}.RemoveItemCommand", "Microsoft.PowerShell.Management",
        Param("Path", "str[]", position=0, pipeline=True), Param("LiteralPath", "str[]", aliases=("PSPath",)),
        Param("Force", "switch"), Param("Recurse", "switch"), Param("Filter", "str"), Param("Include", "str[]"),
        Param("Exclude", "str[]"), Param("Credential", "object"), Param("Stream", "str[]"))
async def remove_item(call: Call) -> None:
    sim = call.sim
    paths = [(p, True) for p in call.get("Path") or []] + [(p, False) for p in call.get("LiteralPath") or []]
    paths += [(objects.to_string(getattr(o, "Path", o)), True) for o in call.input]
    for given, with_wildcards in paths:
        if with_wildcards and re.search(r"[*?]", given):
            pattern = wildcard(given)
            matches = [p for d in sim.cluster.disks.values() for p in d.vhds if pattern.match(p)]
        else:
            found = hv.vhd_key(sim, given)
            matches = [found] if found else []
        if not matches:
            if not (with_wildcards and re.search(r"[*?]", given)):
                call.error(call.record(f"Cannot find path '{given}' because it does not exist.",
                                       ErrorCategory.ObjectNotFound, "PathNotFound",
                                       "System.Management.Automation.ItemNotFoundException", given))
            continue
        for path in matches:
            try:
                removed = hv.delete_vhd(call, path)
            except ClusterError as exc:
                call.error(call.record(f"Cannot remove item {path}: {exc}.", ErrorCategory.WriteError,
                                       "RemoveFileSystemItemIOError", "System.IO.IOException", path))
                continue
            if not removed:
                call.error(call.record(f"Cannot remove item {path}: The process cannot access the file '{path}' "
                                       "because it is being used by another process.", ErrorCategory.WriteError,
                                       "RemoveFileSystemItemIOError", "System.IO.IOException", path))


# ---- CIM: MSCluster_ResourceGroup ------------------------------------------------------------------------------


def cim_error(call: Call, message: str, hresult: str, category: ErrorCategory, target: Any = None) -> Any:
    return call.record(message, category, f"HRESULT {hresult}", CIM_EXCEPTION, target)


FILTER = re.compile(r"""^\s*Name\s*=\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*$""", re.IGNORECASE | re.DOTALL)


def wql_string(escaped: str) -> str:
    """A WQL string literal's value: `\\x` stands for x (so \\' is ' and \\\\ is \\)."""
    return re.sub(r"\\(.)", r"\1", escaped, flags=re.DOTALL)


GROUP_STATE_NUMBERS = {"Online": 0, "Offline": 1, "Failed": 2, "PartialOnline": 3, "Pending": 4}


def cim_group(sim: Any, name: str) -> PSObject:
    group = fcm.group_object(sim, name)
    owner = group.OwnerNode
    return build(objects.CimInstance, f'MSCluster_ResourceGroup (Name = "{name}")', Name=name, Id=group.Id,
                 Description="", Caption=None, Status=None, State=int(group.State), GroupType=u32(int(group.GroupType)),
                 Priority=u32(int(group.Priority)), OwnerNode=str(owner) if owner is not None else None,
                 PersistentState=bool(int(group.PersistentState)), FailoverThreshold=group.FailoverThreshold,
                 FailoverPeriod=group.FailoverPeriod, AutoFailbackType=group.AutoFailbackType,
                 AntiAffinityClassNames=list(group.AntiAffinityClassNames), IsCore=bool(group.IsCoreGroup),
                 PSComputerName=None)


@cmdlet("Get-CimInstance", f"{CIM}.GetCimInstanceCommand", "CimCmdlets",
        Param("ClassName", "str", position=0), Param("Namespace", "str"), Param("Filter", "str"),
        Param("Query", "str"), Param("QueryDialect", "str"), Param("KeyOnly", "switch"), Param("Property", "str[]"),
        Param("ComputerName", "str[]"), Param("CimSession", "object[]"), Param("OperationTimeoutSec", "uint32"),
        Param("Shallow", "switch"), Param("ResourceUri", "str"), Param("InputObject", "object", pipeline=True))
async def get_cim_instance(call: Call) -> None:
    sim = call.sim
    namespace = (call.get("Namespace") or "root/cimv2").replace("\\", "/").strip("/").lower()
    if namespace != "root/mscluster":
        raise call.fail(cim_error(call, "Invalid namespace ", "0x8004100e", ErrorCategory.MetadataError,
                                  call.get("Namespace")))
    class_name = call.get("ClassName") or ""
    if class_name.lower() != "mscluster_resourcegroup":
        raise call.fail(cim_error(call, "Invalid class ", "0x80041010", ErrorCategory.MetadataError, class_name))
    if not sim.cluster.cluster_up:
        raise call.fail(cim_error(call, "Generic failure ", "0x80041001", ErrorCategory.NotSpecified))
    names = fcm.group_names(sim)
    if call.get("Filter"):
        match = FILTER.match(call.get("Filter"))
        if match is None:
            raise call.fail(cim_error(call, "Invalid query ", "0x80041017", ErrorCategory.InvalidArgument,
                                      call.get("Filter")))
        wanted = wql_string(match.group(1) if match.group(1) is not None else match.group(2))
        names = [n for n in names if n.lower() == wanted.lower()]  # WQL compares strings case-insensitively
    for name in names:
        call.emit(cim_group(sim, name))


def _hashtable(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    if is_object(value):
        return dict(objects.properties_of(value))
    return {}


@cmdlet("Set-CimInstance", f"{CIM}.SetCimInstanceCommand", "CimCmdlets",
        Param("InputObject", "object", pipeline=True, mandatory=True, position=0, aliases=("CimInstance",)),
        Param("Property", "hashtable", position=1), Param("PassThru", "switch"), Param("Namespace", "str"),
        Param("ComputerName", "str[]"), Param("CimSession", "object[]"), Param("OperationTimeoutSec", "uint32"),
        Param("Query", "str"), Param("QueryDialect", "str"), Param("ResourceUri", "str"))
async def set_cim_instance(call: Call) -> None:
    sim = call.sim
    instances = [call.get("InputObject")] if call.has("InputObject") else list(call.input)
    changes = _hashtable(call.get("Property"))
    for instance in instances:
        if not (is_object(instance) and any("MSCluster_ResourceGroup" in t for t in instance.PSObject.type_names)):
            call.error(cim_error(call, "Not supported ", "0x8004100c", ErrorCategory.NotImplemented,
                                 objects.to_string(instance)))
            continue
        name = str(instance.Name)
        for key, value in changes.items():
            if key.lower() != "priority":
                call.error(cim_error(call, "Not supported ", "0x8004100c", ErrorCategory.NotImplemented, key))
                continue
            try:
                priority = int(value)
            except (TypeError, ValueError):
                call.error(cim_error(call, "Type mismatch ", "0x80041005", ErrorCategory.InvalidType, value))
                continue
            if name not in sim.cluster.roles:
                call.error(cim_error(call, "Not found ", "0x80041002", ErrorCategory.ObjectNotFound, name))
                continue
            try:
                sim.apply(ev.SetRolePriority(name, priority))
            except ClusterError:
                call.error(cim_error(call, "Invalid parameter ", "0x80041008", ErrorCategory.InvalidArgument, value))
                continue
        if call.get("PassThru") and name in sim.cluster.roles:
            call.emit(cim_group(sim, name))


# ---- Select-Object ---------------------------------------------------------------------------------------------


def _property_value(obj: Any, name: str) -> tuple[bool, Any]:
    found = objects.find_property(obj, name)
    return (False, None) if found is None else (True, found[1])


def _selected(obj: Any, specs: list[str]) -> list[tuple[str, Any]]:
    """The properties -Property names, as PowerShell picks them (wildcards expand; a missing one is null)."""
    chosen: list[tuple[str, Any]] = []
    taken: set[str] = set()
    for spec in specs:
        if re.search(r"[*?]", spec):
            pattern = wildcard(spec)
            pairs = [(n, v) for n, v in objects.properties_of(obj) if pattern.match(n)]
        else:
            found = objects.find_property(obj, spec)
            pairs = [found] if found is not None else [(spec, None)]
        for name, value in pairs:
            if name.lower() not in taken:
                taken.add(name.lower())
                chosen.append((name, value))
    return chosen


@cmdlet("Select-Object", f"{UTILITY}.SelectObjectCommand", "Microsoft.PowerShell.Utility",
        Param("Property", "str[]", position=0), Param("ExpandProperty", "str"), Param("ExcludeProperty", "str[]"),
        Param("First", "int32"), Param("Last", "int32"), Param("Skip", "int32"), Param("Unique", "switch"),
        Param("Index", "int32[]"), Param("InputObject", "object", pipeline=True))
async def select_object(call: Call) -> None:
    items = [call.get("InputObject")] if call.has("InputObject") else list(call.input)
    if call.has("Skip"):
        items = items[call.get("Skip"):]
    if call.has("Index"):
        items = [items[i] for i in call.get("Index") if -len(items) <= i < len(items)]
    if call.has("First") or call.has("Last"):
        head = items[:call.get("First")] if call.has("First") else []
        tail = items[len(items) - call.get("Last"):] if call.has("Last") and call.get("Last") else []
        items = head + [t for t in tail if not any(t is h for h in head)]
    specs = [s for s in call.get("Property") or [] if s]
    excluded = [wildcard(e) for e in call.get("ExcludeProperty") or []]
    expand = call.get("ExpandProperty")
    out: list[Any] = []
    for item in items:
        selected = [(n, v) for n, v in _selected(item, specs) if not any(e.match(n) for e in excluded)]
        if expand is None:
            if not specs:
                out.append(item)
                continue
            obj = objects.custom_object(selected)
            first_type = item.PSObject.type_names[0] if is_object(item) else _net_type(item)
            obj.PSObject.type_names = [f"Selected.{first_type}", "System.Management.Automation.PSCustomObject",
                                       "System.Object"]
            out.append(obj)
            continue
        present, value = _property_value(item, expand)
        if not present:
            call.error(call.record(f"Property \"{expand}\" cannot be found.", ErrorCategory.InvalidArgument,
                                   "ExpandPropertyNotFound", "System.Management.Automation.PSArgumentException",
                                   objects.to_string(item)))
            continue
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        for element in values:
            if selected and is_object(element):
                for name, note in selected:
                    if objects.find_property(element, name) is not None:
                        call.error(call.record(f"The property cannot be processed because the property \"{name}\" "
                                               "already exists.", ErrorCategory.InvalidOperation,
                                               "AlreadyExistingUserSpecifiedPropertyExpand",
                                               "System.Management.Automation.PSArgumentException",
                                               objects.to_string(element)))
                        continue
                    add_note_property(element, name, note)
            out.append(element)
    if call.get("Unique"):
        unique: list[Any] = []
        for obj in out:
            key = objects.properties_of(obj) if is_object(obj) else obj
            if all((objects.properties_of(u) if is_object(u) else u) != key for u in unique):
                unique.append(obj)
        out = unique
    for obj in out:
        call.emit(obj)


def _net_type(value: Any) -> str:
    if isinstance(value, bool):
        return "System.Boolean"
    if isinstance(value, int):
        return "System.Int32"
    if isinstance(value, str):
        return "System.String"
    return "System.Object"
