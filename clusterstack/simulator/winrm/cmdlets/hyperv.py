"""The Hyper-V module's cmdlets (and the Hyper-V VHD cmdlets) on a simulated node.

A VM is either clustered (a role of the failover engine: its node is the role's owner, its memory and
processors the role's) or not (New-VM made it, or its role was removed: SimulatedCluster.vms holds its node,
memory, processors and drives). Cmdlets act on the session's node, or with -ComputerName on each node named; a
node whose machine is down answers with a non-terminating error while the others answer.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Iterator
from typing import Any

from psrpcore.types import ErrorCategory, PSObject

from clusterstack.failover import ClusterError, InvalidState, NotFound
from clusterstack.failover import events as ev
from clusterstack.failover.log import vm_id
from clusterstack.failover.model import VM_CONSUMING, VM_MIGRATING
from clusterstack.simulator.service import VmDetails
from clusterstack.simulator.winrm.cmdlets import errors, objects
from clusterstack.simulator.winrm.cmdlets.binding import Call, Param, cmdlet, is_object
from clusterstack.simulator.winrm.cmdlets.objects import build, i32, i64, u32, u64

HV_COMMANDS = "Microsoft.HyperV.PowerShell.Commands"
VHD_COMMANDS = "Microsoft.Vhd.PowerShell.Cmdlets"
MiB = 1024 * 1024
VHDX_OVERHEAD = 4 * MiB
DEFAULT_VM_PATH = "C:\\ProgramData\\Microsoft\\Windows\\Hyper-V"
VM_STATES = {"Running": objects.VMState.Running, "Off": objects.VMState.Off, "Saved": objects.VMState.Saved,
             "Starting": objects.VMState.Starting, "Migrating": objects.VMState.Running,
             "Unmonitored": objects.VMState.Running, "Paused": objects.VMState.Paused,
             "Stopping": objects.VMState.Stopping}
WILDCARD = re.compile(r"[*?]")


def hv(name: str, *params: Param) -> Any:
    return cmdlet(name, f"{HV_COMMANDS}.{name.replace('-', '')}", "Hyper-V", *params)


def vhd_cmdlet(name: str, *params: Param) -> Any:
    return cmdlet(name, f"{VHD_COMMANDS}.{name.replace('-', '')}", "Hyper-V", *params)


def computer_param() -> Param:
    return Param("ComputerName", "str[]", aliases=("PSComputerName",))


# ---- the Hyper-V view of the simulated cluster ---------------------------------------------------------------


def details_of(sim: Any, name: str) -> VmDetails:
    details = sim.vms.get(name)
    if details is None:
        details = sim.vms[name] = VmDetails()
    if not hasattr(details, "drives"):  # saved by an older simulator
        details.drives = []
    return details


def find_clustered(sim: Any, name: str) -> str | None:
    return name if name in sim.cluster.roles else None


def find_unclustered(sim: Any, name: str, prefer: str | None = None) -> tuple[str, VmDetails] | None:
    found = [(n, d) for n, d in sim.vms.items()
             if n.lower() == name.lower() and n not in sim.cluster.roles and getattr(d, "node", None)]
    found.sort(key=lambda item: item[1].node != prefer)
    return found[0] if found else None


def node_of_vm(sim: Any, name: str) -> str | None:
    role = sim.cluster.roles.get(name)
    if role is not None:
        return role.owner
    details = sim.vms.get(name)
    return getattr(details, "node", None) if details is not None else None


def vms_on(sim: Any, node: str) -> list[str]:
    names = [n for n, r in sim.cluster.roles.items() if r.owner == node]
    names += [n for n, d in sim.vms.items() if n not in sim.cluster.roles and getattr(d, "node", None) == node]
    return sorted(names, key=str.lower)


def _vm_named(sim: Any, name: str) -> str | None:
    """The VM's name as stored (Hyper-V names match case-insensitively)."""
    if name in sim.cluster.roles or name in sim.vms:
        return name
    lowered = name.lower()
    return next((n for n in [*sim.cluster.roles, *sim.vms] if n.lower() == lowered), None)


def _is_on(sim: Any, name: str, node: str) -> bool:
    """Whether VM `name` is on `node` (without listing the node's VMs: a piped thousand asked one by one)."""
    role = sim.cluster.roles.get(name)
    if role is not None:
        return bool(role.owner == node)
    details = sim.vms.get(name)
    return details is not None and getattr(details, "node", None) == node


def drives_of(sim: Any, name: str) -> list[str]:
    """The VM's hard drive slots in controller order ("" for a slot whose drive was removed)."""
    details = details_of(sim, name)
    role = sim.cluster.roles.get(name)
    if role is None:
        return list(details.drives)
    slots = [p if p in role.vhds else "" for p in details.drives]
    slots += [p for p in role.vhds if p not in slots]
    while slots and not slots[-1]:
        slots.pop()
    details.drives = slots
    return list(slots)


def disk_of_vhd(sim: Any, path: str) -> str | None:
    for disk in sim.cluster.disks.values():
        if path in disk.vhds:
            return disk.name
    return None


def vhd_size(sim: Any, path: str) -> int | None:
    for disk in sim.cluster.disks.values():
        if path in disk.vhds:
            return disk.vhds[path]
    return None


def vhd_key(sim: Any, path: str) -> str | None:
    """The stored spelling of a VHD path (Windows paths are case-insensitive)."""
    lowered = path.lower()
    for disk in sim.cluster.disks.values():
        for stored in disk.vhds:
            if stored.lower() == lowered:
                return stored
    return None


def free_vhd(call: Call, given: str, failed: str) -> str | None:
    """The stored path of a VHD that exists and no VM uses, or None after Hyper-V's error led by `failed`."""
    path = vhd_key(call.sim, given)
    if path is None:
        call.error(call.record(f"{failed}\nThe system cannot find the file specified: '{given}'.",
                               ErrorCategory.ObjectNotFound, "ObjectNotFound", errors.VIRTUALIZATION, given))
        return None
    if vhd_user(call.sim, path) is not None:
        call.error(call.record(f"{failed}\nThe process cannot access the file '{path}' because it is being used by "
                               "another process.", ErrorCategory.ResourceBusy, "ObjectInUse", errors.VIRTUALIZATION,
                               path))
        return None
    return path


def vhd_index(sim: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Every VHD path's stored spelling (by its lower case) and the VM using each: one pass for a cmdlet that asks
    about many paths (Get-VHD -Path of a thousand disks), where a scan per path was quadratic."""
    keys = {stored.lower(): stored for disk in sim.cluster.disks.values() for stored in disk.vhds}
    users = {path: name for name, role in sim.cluster.roles.items() for path in role.vhds}
    for name, details in sim.vms.items():
        if name not in sim.cluster.roles and getattr(details, "node", None):
            users.update((path, name) for path in details.drives if path not in users)
    return keys, users


def vhd_user(sim: Any, path: str) -> str | None:
    """The VM whose drive `path` is, if any."""
    for name, role in sim.cluster.roles.items():
        if path in role.vhds:
            return name
    for name, details in sim.vms.items():
        if name not in sim.cluster.roles and getattr(details, "node", None) and path in details.drives:
            return name
    return None


def slot(generation: int, index: int) -> tuple[objects.ControllerType, int, int]:
    if generation == 1 and index < 4:
        return objects.ControllerType.IDE, index // 2, index % 2
    return objects.ControllerType.SCSI, 0, index - 4 if generation == 1 else index


def mac_for(name: str, nic: str) -> str:
    digest = hashlib.sha1(f"{name}\0{nic}".encode()).hexdigest().upper()
    return f"00155D{digest[:6]}"


def migration_percent(sim: Any, name: str) -> int:
    role = sim.cluster.roles[name]
    for at, _, kind, args in sim.cluster._timers:
        if kind == "moved" and args[0] == name and args[1] == role.migration_token:
            seconds = args[3]
            left = max(0.0, at - sim.now())
            return max(0, min(99, int(100 * (1 - left / seconds)))) if seconds else 0
    return 0


# ---- objects ---------------------------------------------------------------------------------------------------


def drive_objects(sim: Any, name: str, node: str) -> list[PSObject]:
    details = details_of(sim, name)
    out = []
    for index, path in enumerate(drives_of(sim, name)):
        if not path:
            continue
        kind, number, location = slot(details.generation, index)
        title = f"Hard Drive on {kind.name} controller number {number} at location {location}"
        vmid = vm_id(name)
        device = f"Microsoft:{vmid}\\{stable(name, 'controller', str(number))}\\{number}\\{location}\\D"
        out.append(build(objects.HardDiskDrive, f"HardDiskDrive (Name = '{title}', VMName = '{name}') "
                         f"[Id = '{device}', VMId = '{vmid.lower()}']", Path=path, DiskNumber=None,
                         MaximumIOPS=u64(0), MinimumIOPS=u64(0), QoSPolicyID="00000000-0000-0000-0000-000000000000",
                         SupportPersistentReservations=False, WriteHardeningMethod=i32(0),
                         ControllerLocation=i32(location), ControllerNumber=i32(number), ControllerType=kind,
                         Name=title, PoolName="Primordial", Id=device, VMId=objects.guid(vmid), VMName=name,
                         VMSnapshotId=objects.guid("00000000-0000-0000-0000-000000000000"), VMSnapshotName="",
                         ComputerName=node, IsDeleted=False))
    return out


def nic_objects(sim: Any, name: str, node: str, running: bool) -> list[PSObject]:
    out = []
    vmid = vm_id(name)
    for nic in details_of(sim, name).nics:
        nic_name = str(nic.get("name") or "Network Adapter")
        device = f"Microsoft:{vmid}\\{stable(name, 'nic', nic_name)}"
        vlan = nic.get("vlan")
        setting = build(objects.VMNetworkAdapterVlanSetting, f"VMNetworkAdapterVlanSetting (VMName = '{name}')",
                        OperationMode="Access" if vlan else "Untagged", AccessVlanId=i32(vlan or 0),
                        NativeVlanId=i32(0), ParentAdapter=nic_name)
        switch = nic.get("switch")
        out.append(build(objects.VMNetworkAdapter, f"VMNetworkAdapter (Name = '{nic_name}', VMName = '{name}') "
                         f"[VMId = '{vmid.lower()}']", Name=nic_name, Id=device, IsLegacy=False,
                         IsManagementOs=False, ComputerName=node, VMName=name, VMId=objects.guid(vmid),
                         SwitchName=switch, SwitchId=stable(str(switch), "switch") if switch else None,
                         Connected=bool(switch), MacAddress=str(nic.get("mac_address") or mac_for(name, nic_name)),
                         DynamicMacAddressEnabled=not nic.get("static_mac"), IPAddresses=[],
                         Status=["Ok"] if running else [], VlanSetting=setting))
    return out


def stable(*parts: str) -> str:
    digest = hashlib.sha1("\0".join(parts).encode()).hexdigest().upper()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def vm_object(sim: Any, name: str, node: str) -> PSObject:
    details = details_of(sim, name)
    role = sim.cluster.roles.get(name)
    if role is not None:
        vm_state, memory_mb, cpus = role.vm_state, role.memory_mb, role.cpus
    else:
        vm_state, memory_mb, cpus = "Off", details.memory_mb, details.cpus
    state = VM_STATES.get(vm_state, objects.VMState.Other)
    status = "Operating normally"
    if vm_state == VM_MIGRATING:
        status = f"Migrating - {migration_percent(sim, name)}% completed"
    running = vm_state in VM_CONSUMING
    path = details.path or _default_path(sim, name)
    vmid = vm_id(name)
    return build(objects.VirtualMachine, f"VirtualMachine (Name = '{name}') [Id = '{vmid.lower()}']", VMName=name,
                 VMId=objects.guid(vmid), Id=objects.guid(vmid), Name=name, State=state, Status=status,
                 ComputerName=node, IsClustered=role is not None, Generation=i32(details.generation), Version="8.0",
                 Path=path, ConfigurationLocation=path, ProcessorCount=i64(cpus), MemoryStartup=i64(memory_mb * MiB),
                 MemoryAssigned=i64(memory_mb * MiB if running else 0), MemoryMinimum=i64(512 * MiB),
                 MemoryMaximum=i64(1048576 * MiB), DynamicMemoryEnabled=False, CPUUsage=i32(1 if running else 0),
                 Uptime=datetime.timedelta(0), Notes="", HardDrives=drive_objects(sim, name, node),
                 NetworkAdapters=nic_objects(sim, name, node, running), ReplicationState="Disabled",
                 CheckpointType="Production")


def _default_path(sim: Any, name: str) -> str:
    role = sim.cluster.roles.get(name)
    disk = sim.cluster.disks.get(role.disk) if role is not None and role.disk else None
    if disk is not None and disk.csv_path:
        return f"{disk.csv_path}\\{name}"
    return DEFAULT_VM_PATH


def vhd_object(sim: Any, path: str, node: str, user: str | None = None) -> PSObject:
    """A VirtualHardDisk; `user` is the VM using it when the caller knows (vhd_index), else it is looked up."""
    size = vhd_size(sim, path) or 0
    kind, parent = sim.vhd_types.get(path, ("Dynamic", None))
    vhd_type = objects.VhdType[kind]
    file_size = size + VHDX_OVERHEAD if vhd_type == objects.VhdType.Fixed else VHDX_OVERHEAD
    vhd_format = objects.VhdFormat.VHD if path.lower().endswith(".vhd") else objects.VhdFormat.VHDX
    return build(objects.VirtualHardDisk, "Microsoft.Vhd.PowerShell.VirtualHardDisk", ComputerName=node, Path=path,
                 VhdFormat=vhd_format, VhdType=vhd_type, FileSize=u64(file_size), Size=u64(size),
                 MinimumSize=u64(size), LogicalSectorSize=u32(512), PhysicalSectorSize=u32(4096),
                 BlockSize=u32(0 if vhd_type == objects.VhdType.Fixed else 33554432), ParentPath=parent or "",
                 DiskIdentifier=stable(path.lower(), "vhd"), FragmentationPercentage=u32(0), Alignment=u32(1),
                 Attached=(user or vhd_user(sim, path)) is not None, DiskNumber=None, IsPMEMCompatible=False,
                 AddressAbstractionType=u32(0), Number=None)


# ---- targets ---------------------------------------------------------------------------------------------------


def down_error(call: Call, computer: str) -> errors.ErrorRecordInfo:
    return call.record(f"The operation on computer '{computer}' failed: WinRM cannot complete the operation. Verify "
                       "that the specified computer name is valid, that the computer is accessible over the network, "
                       "and that a firewall exception for the WinRM service is enabled and allows access from this "
                       "computer. By default, the WinRM firewall exception for public profiles limits access to "
                       "remote computers within the same local subnet.", ErrorCategory.NotSpecified, "Unspecified",
                       errors.VIRTUALIZATION, computer)


def computers(call: Call, parameter: str = "ComputerName") -> Iterator[str]:
    """The nodes the cmdlet acts on: the session's, or each one -ComputerName names whose machine runs (the others
    answer with an error)."""
    given = call.get(parameter)
    if given is None:
        yield call.session.node
        return
    for computer in [given] if isinstance(given, str) else given:
        node = call.session.node_of(computer)
        if node is None or not call.sim.cluster.nodes[node].alive:
            call.error(down_error(call, computer))
            continue
        yield node


def not_found_vm(call: Call, name: str, node: str) -> errors.ErrorRecordInfo:
    return call.record(f"Hyper-V was unable to find a virtual machine with name \"{name}\".",
                       ErrorCategory.ObjectNotFound, "InvalidParameter", errors.VIRTUALIZATION, name)


def matching_vms(call: Call, node: str, patterns: list[str] | None) -> list[str]:
    """VMs on `node` whose names match; a name without wildcards that matches none is an error."""
    if patterns and not any(WILDCARD.search(p) for p in patterns):
        # plain names: look each one up instead of listing the node's VMs (a thousand roles, asked one by one)
        exact: list[str] = []
        for pattern in patterns:
            name = _vm_named(call.sim, pattern)
            if name is not None and _is_on(call.sim, name, node):
                exact.append(name)
            else:
                call.error(not_found_vm(call, pattern, node))
        return exact
    on_node = vms_on(call.sim, node)
    if not patterns:
        return on_node
    out: list[str] = []
    for pattern in patterns:
        if WILDCARD.search(pattern):
            regex = re.compile("^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$",
                               re.IGNORECASE | re.DOTALL)
            hits = [n for n in on_node if regex.match(n)]
        else:
            hits = [n for n in on_node if n.lower() == pattern.lower()]
            if not hits:
                call.error(not_found_vm(call, pattern, node))
        out += [h for h in hits if h not in out]
    return out


def vm_names_from(call: Call, parameter: str) -> list[str] | None:
    given = call.get(parameter)
    if given is not None:
        return [given] if isinstance(given, str) else list(given)
    piped = [str(o.Name) for o in call.input if is_object(o) and "Microsoft.HyperV.PowerShell.VirtualMachine"
             in o.PSObject.type_names]
    return piped or None


def each_vm(call: Call, parameter: str = "VMName") -> Iterator[tuple[str, str]]:
    """(vm, node) for each VM named (no wildcards needed) on the target nodes; a VM piped in is on the node it
    names (its ComputerName), as Hyper-V's cmdlets bind a piped VM object."""
    if call.get(parameter) is None and call.get("ComputerName") is None:
        piped = [o for o in call.input if is_object(o) and "Microsoft.HyperV.PowerShell.VirtualMachine"
                 in o.PSObject.type_names]
        if piped:
            for vm in piped:
                node = call.session.node_of(str(vm.ComputerName)) or call.session.node
                name = str(vm.Name)
                if _is_on(call.sim, name, node):
                    yield name, node
                else:
                    call.error(not_found_vm(call, name, node))
            return
    names = vm_names_from(call, parameter) or []
    for node in computers(call):
        yield from ((name, node) for name in matching_vms(call, node, names))


def hyperv_failure(call: Call, exc: ClusterError, name: str, action: str) -> errors.ErrorRecordInfo:
    """An engine refusal as Hyper-V words it."""
    if isinstance(exc, NotFound):
        category, reason = ErrorCategory.ObjectNotFound, "ObjectNotFound"
    elif isinstance(exc, InvalidState):
        category, reason = ErrorCategory.InvalidOperation, "InvalidState"
    else:
        category, reason = ErrorCategory.InvalidOperation, "OperationFailed"
    return call.record(f"'{name}' failed to {action}.\n{str(exc)[0].upper()}{str(exc)[1:]}.", category, reason,
                       errors.VIRTUALIZATION, name)


def apply_for(call: Call, event: Any, name: str, action: str) -> bool:
    try:
        call.sim.apply(event)
    except ClusterError as exc:
        call.error(hyperv_failure(call, exc, name, action))
        return False
    return True


# ---- VMs -------------------------------------------------------------------------------------------------------


@hv("Get-VM", Param("Name", "str[]", position=0, aliases=("VMName",)), computer_param(), Param("Id", "str"),
    Param("ClusterObject", "object", pipeline=True))
async def get_vm(call: Call) -> None:
    for node in computers(call):
        for name in matching_vms(call, node, call.get("Name")):
            call.emit(vm_object(call.sim, name, node))


@hv("New-VM", Param("Name", "str", position=0, aliases=("VMName",)), Param("MemoryStartupBytes", "int64", position=1),
    Param("Generation", "int16", position=2), Param("Path", "str"), Param("VHDPath", "str"),
    Param("NewVHDPath", "str"), Param("NewVHDSizeBytes", "uint64"), Param("NoVHD", "switch"),
    Param("SwitchName", "str"), Param("BootDevice", "str"), Param("Version", "str"), Param("Prerelease", "switch"),
    Param("Force", "switch"), Param("ComputerName", "str[]"), Param("AsJob", "switch"))
async def new_vm(call: Call) -> None:
    sim = call.sim
    name = call.get("Name") or "New Virtual Machine"
    generation = call.get("Generation", 1)
    if generation not in (1, 2):
        raise call.fail(call.record(f"Cannot validate argument on parameter 'Generation'. The {generation} argument "
                                    "is greater than the maximum allowed range of 2. Supply an argument that is less "
                                    "than or equal to 2 and then try the command again.", ErrorCategory.InvalidData,
                                    "ParameterArgumentValidationError", errors.PARAMETER_BINDING, generation))
    memory = call.get("MemoryStartupBytes", 1024 * MiB if generation == 2 else 512 * MiB)
    if call.has("NewVHDPath"):
        raise call.fail(call.record("New-VM -NewVHDPath is not supported by this node; create the disk with New-VHD "
                                    "and attach it with -VHDPath.", ErrorCategory.NotImplemented, "NotSupported",
                                    errors.VIRTUALIZATION, name))
    for node in computers(call):
        taken = [n for n in sim.vms if n.lower() == name.lower() and node_of_vm(sim, n)]
        if name in sim.cluster.roles or taken:
            call.error(call.record(f"Failed to create a new virtual machine.\nThe virtual machine name '{name}' is "
                                   "already in use in this cluster.", ErrorCategory.ResourceExists, "ObjectInUse",
                                   errors.VIRTUALIZATION, name))
            continue
        drives: list[str] = []
        if call.has("VHDPath"):
            path = free_vhd(call, str(call.get("VHDPath")), "Failed to create a new virtual machine.")
            if path is None:
                continue
            drives.append(path)
        base = call.get("Path")
        nic = {"name": "Network Adapter", "mac_address": mac_for(name, "Network Adapter"),
               "switch": call.get("SwitchName")}
        sim.vms[name] = VmDetails(nics=[nic], node=node, memory_mb=max(1, memory // MiB), cpus=1,
                                  generation=generation, path=f"{base.rstrip(chr(92))}\\{name}" if base else "",
                                  drives=drives)
        sim._changed_now([])
        call.emit(vm_object(sim, name, node))


@hv("Remove-VM", Param("Name", "str[]", position=0, aliases=("VMName",)), computer_param(), Param("Force", "switch"),
    Param("VM", "object[]", pipeline=True), Param("Passthru", "switch"), Param("AsJob", "switch"))
async def remove_vm(call: Call) -> None:
    sim = call.sim
    for name, _node in list(each_vm(call, "Name")):
        if name in sim.cluster.roles:
            call.error(call.record(f"Failed to remove virtual machine '{name}'.\nThe operation cannot be performed "
                                   f"while the virtual machine '{name}' is clustered. Remove the clustered role "
                                   "first (Remove-ClusterGroup -RemoveResources), then try again.",
                                   ErrorCategory.InvalidOperation, "InvalidOperation", errors.VIRTUALIZATION, name))
            continue
        del sim.vms[name]
        sim._changed_now([])


@hv("Set-VMProcessor", Param("VMName", "str[]", position=0), computer_param(), Param("Count", "int64"),
    Param("VM", "object[]", pipeline=True), Param("Reserve", "int64"), Param("Maximum", "int64"),
    Param("RelativeWeight", "int32"), Param("ExposeVirtualizationExtensions", "bool"), Param("Passthru", "switch"))
async def set_vm_processor(call: Call) -> None:
    sim = call.sim
    for name, node in list(each_vm(call)):
        if not call.has("Count"):
            continue
        count = call.get("Count")
        limit = sim.cluster.nodes[node].cpus
        if not 1 <= count <= min(limit, 240):
            call.error(call.record(f"Failed to modify device 'Processor'.\nThe virtual machine '{name}' cannot have "
                                   f"{count} virtual processors: the host has {limit} logical processors.",
                                   ErrorCategory.InvalidArgument, "InvalidParameter", errors.VIRTUALIZATION, name))
            continue
        role = sim.cluster.roles.get(name)
        if role is None:
            details_of(sim, name).cpus = count
            sim._changed_now([])
        else:
            apply_for(call, ev.UpdateRoleResources(name, role.memory_mb, count), name, "modify device 'Processor'")


@hv("Set-VMMemory", Param("VMName", "str[]", position=0), computer_param(), Param("StartupBytes", "int64"),
    Param("DynamicMemoryEnabled", "bool"), Param("MinimumBytes", "int64"), Param("MaximumBytes", "int64"),
    Param("VM", "object[]", pipeline=True), Param("Passthru", "switch"))
async def set_vm_memory(call: Call) -> None:
    sim = call.sim
    if call.get("DynamicMemoryEnabled"):
        raise call.fail(call.record("Dynamic memory is not supported by this node.", ErrorCategory.NotImplemented,
                                    "NotSupported", errors.VIRTUALIZATION))
    for name, _node in list(each_vm(call)):
        if not call.has("StartupBytes"):
            continue
        startup = call.get("StartupBytes")
        if startup < 32 * MiB or startup % (2 * MiB):
            call.error(call.record(f"Failed to modify device 'Memory'.\nInvalid startup memory amount assigned for "
                                   f"'{name}'. The amount must be a multiple of 2 MB and at least 32 MB.",
                                   ErrorCategory.InvalidArgument, "InvalidParameter", errors.VIRTUALIZATION, name))
            continue
        role = sim.cluster.roles.get(name)
        if role is None:
            details_of(sim, name).memory_mb = startup // MiB
            sim._changed_now([])
        else:
            apply_for(call, ev.UpdateRoleResources(name, startup // MiB, role.cpus), name, "modify device 'Memory'")


@hv("Stop-VM", Param("Name", "str[]", position=0, aliases=("VMName",)), computer_param(), Param("TurnOff", "switch"),
    Param("Force", "switch"), Param("Save", "switch"), Param("VM", "object[]", pipeline=True),
    Param("Passthru", "switch"), Param("AsJob", "switch"))
async def stop_vm(call: Call) -> None:
    sim = call.sim
    if call.get("Save"):
        raise call.fail(call.record("Stop-VM -Save is not supported by this node.", ErrorCategory.NotImplemented,
                                    "NotSupported", errors.VIRTUALIZATION))
    for name, node in list(each_vm(call, "Name")):
        role = sim.cluster.roles.get(name)
        if role is not None and role.vm_state in VM_CONSUMING:
            apply_for(call, ev.StopRole(name, force=bool(call.get("TurnOff"))), name, "change state")
        if call.get("Passthru"):
            call.emit(vm_object(sim, name, node))


@hv("Restart-VM", Param("Name", "str[]", position=0, aliases=("VMName",)), computer_param(),
    Param("Force", "switch"), Param("Type", "enum", choices=("Reset", "Reboot")),
    Param("VM", "object[]", pipeline=True), Param("Passthru", "switch"), Param("AsJob", "switch"))
async def restart_vm(call: Call) -> None:
    sim = call.sim
    for name, node in list(each_vm(call, "Name")):
        role = sim.cluster.roles.get(name)
        if role is None or role.vm_state != "Running":
            call.error(call.record(f"'{name}' failed to change state.\nThe operation cannot be performed while the "
                                   "object is in its current state.", ErrorCategory.InvalidOperation, "InvalidState",
                                   errors.VIRTUALIZATION, name))
            continue
        if apply_for(call, ev.RestartRole(name), name, "change state") and call.get("Passthru"):
            call.emit(vm_object(sim, name, node))


# ---- hard drives -----------------------------------------------------------------------------------------------


@hv("Get-VMHardDiskDrive", Param("VMName", "str[]", position=0), computer_param(),
    Param("ControllerType", "enum", choices=("IDE", "SCSI"), enum_type="Microsoft.HyperV.PowerShell.ControllerType"),
    Param("ControllerNumber", "int32"), Param("ControllerLocation", "int32"),
    Param("VM", "object[]", pipeline=True))
async def get_vm_hard_disk_drive(call: Call) -> None:
    for name, node in list(each_vm(call)):
        for drive in drive_objects(call.sim, name, node):
            if _drive_matches(call, drive):
                call.emit(drive)


def _drive_matches(call: Call, drive: PSObject) -> bool:
    return ((not call.has("ControllerType") or drive.ControllerType.name == call.get("ControllerType"))
            and (not call.has("ControllerNumber") or drive.ControllerNumber == call.get("ControllerNumber"))
            and (not call.has("ControllerLocation") or drive.ControllerLocation == call.get("ControllerLocation")))


@hv("Add-VMHardDiskDrive", Param("VMName", "str[]", position=0), computer_param(),
    Param("Path", "str", position=4),
    Param("ControllerType", "enum", choices=("IDE", "SCSI"), enum_type="Microsoft.HyperV.PowerShell.ControllerType"),
    Param("ControllerNumber", "int32"), Param("ControllerLocation", "int32"), Param("VM", "object[]", pipeline=True),
    Param("Passthru", "switch"))
async def add_vm_hard_disk_drive(call: Call) -> None:
    sim = call.sim
    for name, node in list(each_vm(call)):
        given = call.get("Path") or ""
        path = free_vhd(call, given, "Failed to add device 'Virtual Hard Disk'.")
        if path is None:
            continue
        slots = drives_of(sim, name)
        free = slots.index("") if "" in slots else len(slots)
        if name in sim.cluster.roles and not apply_for(call, ev.AttachVhd(name, path), name,
                                                       "add device 'Virtual Hard Disk'"):
            continue
        slots[free:free + 1] = [path]
        details_of(sim, name).drives = slots
        sim._changed_now([])
        if call.get("Passthru"):
            call.emit(next(d for d in drive_objects(sim, name, node) if d.Path == path))


@hv("Remove-VMHardDiskDrive", Param("VMName", "str", position=0), computer_param(),
    Param("ControllerType", "enum", choices=("IDE", "SCSI"), enum_type="Microsoft.HyperV.PowerShell.ControllerType"),
    Param("ControllerNumber", "int32"), Param("ControllerLocation", "int32"),
    Param("VMHardDiskDrive", "object[]", pipeline=True), Param("Passthru", "switch"))
async def remove_vm_hard_disk_drive(call: Call) -> None:
    sim = call.sim
    targets: list[tuple[str, str, str]] = []  # (vm, node, path)
    if call.has("VMName"):
        for name, node in list(each_vm(call)):
            for drive in drive_objects(sim, name, node):
                if _drive_matches(call, drive):
                    targets.append((name, node, drive.Path))
    for obj in call.get("VMHardDiskDrive") or call.input:
        if is_object(obj) and getattr(obj, "VMName", None):
            targets.append((str(obj.VMName), str(obj.ComputerName), str(obj.Path)))
    for name, node, path in targets:
        slots = drives_of(sim, name)
        if path not in slots:
            continue
        if name in sim.cluster.roles and not apply_for(call, ev.DetachVhd(name, path), name,
                                                       "remove device 'Virtual Hard Disk'"):
            continue
        slots[slots.index(path)] = ""
        details_of(sim, name).drives = slots
        sim._changed_now([])
        if call.get("Passthru"):
            call.emit(vm_object(sim, name, node))


# ---- network adapters ------------------------------------------------------------------------------------------


@hv("Get-VMNetworkAdapter", Param("VMName", "str[]", position=0), Param("Name", "str[]"), computer_param(),
    Param("All", "switch"), Param("VM", "object[]", pipeline=True))
async def get_vm_network_adapter(call: Call) -> None:
    sim = call.sim
    wanted = {n.lower() for n in call.get("Name") or []}
    for name, node in list(each_vm(call)):
        role = sim.cluster.roles.get(name)
        running = role is not None and role.vm_state in VM_CONSUMING
        for nic in nic_objects(sim, name, node, running):
            if not wanted or str(nic.Name).lower() in wanted:
                call.emit(nic)


@hv("Add-VMNetworkAdapter", Param("VMName", "str[]", position=0), Param("Name", "str"),
    Param("SwitchName", "str"), Param("StaticMacAddress", "str"), Param("IsLegacy", "bool"), computer_param(),
    Param("VM", "object[]", pipeline=True), Param("Passthru", "switch"))
async def add_vm_network_adapter(call: Call) -> None:
    sim = call.sim
    nic_name = call.get("Name") or "Network Adapter"
    mac = call.get("StaticMacAddress")
    if mac is not None:
        mac = re.sub(r"[-:.]", "", mac).upper()
        if not re.fullmatch(r"[0-9A-F]{12}", mac):
            raise call.fail(call.record(f"Cannot validate argument on parameter 'StaticMacAddress'. The argument "
                                        f"\"{call.get('StaticMacAddress')}\" is not a valid MAC address.",
                                        ErrorCategory.InvalidData, "ParameterArgumentValidationError",
                                        errors.PARAMETER_BINDING))
    for name, node in list(each_vm(call)):
        details = details_of(sim, name)
        nic = {"name": nic_name, "mac_address": mac or mac_for(name, f"{nic_name}\0{len(details.nics)}"),
               "switch": call.get("SwitchName")}
        if mac:
            nic["static_mac"] = True
        details.nics = [*details.nics, nic]
        sim._changed_now([])
        if call.get("Passthru"):
            call.emit(nic_objects(sim, name, node, False)[-1])


def _nic_index(call: Call, name: str, nic_name: str) -> int | None:
    for index, nic in enumerate(details_of(call.sim, name).nics):
        if str(nic.get("name") or "Network Adapter").lower() == nic_name.lower():
            return index
    call.error(call.record(f"No network adapter is found with the given input: '{nic_name}' on virtual machine "
                           f"'{name}'.", ErrorCategory.ObjectNotFound, "ObjectNotFound", errors.VIRTUALIZATION,
                           nic_name))
    return None


@hv("Remove-VMNetworkAdapter", Param("VMName", "str[]", position=0), Param("Name", "str", position=1),
    computer_param(), Param("VMNetworkAdapter", "object[]", pipeline=True), Param("Passthru", "switch"))
async def remove_vm_network_adapter(call: Call) -> None:
    sim = call.sim
    for name, _node in list(each_vm(call)):
        index = _nic_index(call, name, call.get("Name") or "Network Adapter")
        if index is None:
            continue
        details = details_of(sim, name)
        details.nics = [n for i, n in enumerate(details.nics) if i != index]
        sim._changed_now([])


@hv("Set-VMNetworkAdapterVlan", Param("VMName", "str[]", position=0), Param("VMNetworkAdapterName", "str"),
    Param("Access", "switch"), Param("Untagged", "switch"), Param("Trunk", "switch"), Param("VlanId", "int32"),
    Param("AllowedVlanIdList", "str"), Param("NativeVlanId", "int32"), computer_param(),
    Param("VMNetworkAdapter", "object[]", pipeline=True), Param("Passthru", "switch"))
async def set_vm_network_adapter_vlan(call: Call) -> None:
    sim = call.sim
    if call.get("Trunk"):
        raise call.fail(call.record("Trunk mode is not supported by this node.", ErrorCategory.NotImplemented,
                                    "NotSupported", errors.VIRTUALIZATION))
    if call.get("Access") and not 1 <= (call.get("VlanId") or 0) <= 4094:
        raise call.fail(call.record("Cannot validate argument on parameter 'VlanId'. The VLAN identifier must be in "
                                    "the range 1 to 4094.", ErrorCategory.InvalidData,
                                    "ParameterArgumentValidationError", errors.PARAMETER_BINDING))
    for name, _node in list(each_vm(call)):
        nic_name = call.get("VMNetworkAdapterName")
        indexes = ([_nic_index(call, name, nic_name)] if nic_name else
                   list(range(len(details_of(sim, name).nics))))
        details = details_of(sim, name)
        nics = [dict(n) for n in details.nics]
        for index in indexes:
            if index is None:
                continue
            if call.get("Access"):
                nics[index]["vlan"] = call.get("VlanId")
            elif call.get("Untagged"):
                nics[index].pop("vlan", None)
        details.nics = nics
        sim._changed_now([])


# ---- VHDs ------------------------------------------------------------------------------------------------------


@vhd_cmdlet("New-VHD", Param("Path", "str", mandatory=True, position=0), Param("SizeBytes", "uint64", position=1),
            Param("Dynamic", "switch"), Param("Fixed", "switch"), Param("Differencing", "switch"),
            Param("ParentPath", "str"), Param("BlockSizeBytes", "uint32"), Param("LogicalSectorSizeBytes", "uint32"),
            Param("PhysicalSectorSizeBytes", "uint32"), Param("SourceDisk", "int32"), computer_param(),
            Param("AsJob", "switch"))
async def new_vhd(call: Call) -> None:
    sim = call.sim
    path = call.get("Path")
    failed = "Failed to create the virtual hard disk."
    parent = None
    kind = "Fixed" if call.get("Fixed") else "Differencing" if call.has("ParentPath") else "Dynamic"
    if call.has("ParentPath"):
        parent = vhd_key(sim, call.get("ParentPath"))
        if parent is None:
            raise call.fail(call.record(f"{failed}\nThe system cannot find the file specified: "
                                        f"'{call.get('ParentPath')}'.", ErrorCategory.ObjectNotFound,
                                        "ObjectNotFound", errors.VHD_EXCEPTION, call.get("ParentPath")))
        size = vhd_size(sim, parent) or 0
    elif call.has("SizeBytes"):
        size = call.get("SizeBytes")
    else:
        raise call.fail(call.record("Parameter set cannot be resolved using the specified named parameters.",
                                    ErrorCategory.InvalidArgument, "AmbiguousParameterSet", errors.PARAMETER_BINDING))
    for node in computers(call):
        if vhd_key(sim, path) is not None:
            call.error(call.record(f"{failed}\nThe file exists.", ErrorCategory.ResourceExists, "ResourceExists",
                                   errors.VHD_EXCEPTION, path))
            continue
        try:
            disk = sim.disk_of_path(path)
        except ClusterError:
            call.error(call.record(f"{failed}\nThe path '{path}' is not on a Cluster Shared Volume of this cluster.",
                                   ErrorCategory.InvalidArgument, "InvalidArgument", errors.VHD_EXCEPTION, path))
            continue
        try:
            sim.apply(ev.CreateVhd(disk, path, int(size), None))
        except ClusterError as exc:
            call.error(call.record(f"{failed}\n{str(exc)[0].upper()}{str(exc)[1:]}.", ErrorCategory.InvalidOperation,
                                   "InvalidOperation", errors.VHD_EXCEPTION, path))
            continue
        sim.vhd_types[path] = (kind, parent)
        call.emit(vhd_object(sim, path, node))


@vhd_cmdlet("Get-VHD", Param("Path", "str[]", position=0, aliases=("FullName",)), Param("DiskNumber", "uint32"),
            Param("VMId", "str"), computer_param())
async def get_vhd(call: Call) -> None:
    sim = call.sim
    paths = call.get("Path") or []
    keys, users = vhd_index(sim)
    for node in computers(call):
        for given in paths:
            path = keys.get(given.lower())
            if path is None:
                call.error(call.record("The system cannot find the file specified.", ErrorCategory.ObjectNotFound,
                                       "ObjectNotFound", errors.VHD_EXCEPTION, given))
                continue
            call.emit(vhd_object(sim, path, node, users.get(path)))


@vhd_cmdlet("Resize-VHD", Param("Path", "str[]", mandatory=True, position=0, aliases=("FullName",)),
            Param("SizeBytes", "uint64", position=1), Param("ToMinimumSize", "switch"), computer_param(),
            Param("Passthru", "switch"), Param("AsJob", "switch"))
async def resize_vhd(call: Call) -> None:
    sim = call.sim
    for node in computers(call):
        for given in call.get("Path"):
            path = vhd_key(sim, given)
            if path is None:
                call.error(call.record("The system cannot find the file specified.", ErrorCategory.ObjectNotFound,
                                       "ObjectNotFound", errors.VHD_EXCEPTION, given))
                continue
            if call.has("SizeBytes"):
                try:
                    sim.apply(ev.ResizeVhd(path, int(call.get("SizeBytes"))))
                except ClusterError as exc:
                    call.error(call.record(f"Failed to resize the virtual disk.\n{str(exc)[0].upper()}"
                                           f"{str(exc)[1:]}.", ErrorCategory.InvalidOperation, "InvalidOperation",
                                           errors.VHD_EXCEPTION, path))
                    continue
            if call.get("Passthru"):
                call.emit(vhd_object(sim, path, node))


def delete_vhd(call: Call, path: str) -> bool:
    """Remove-Item of a VHD file: refused while a VM's drive is the file."""
    sim = call.sim
    user = vhd_user(sim, path)
    if user is not None:
        return False
    sim.apply(ev.DeleteVhd(path))
    sim.vhd_types.pop(path, None)
    return True


# ---- the host --------------------------------------------------------------------------------------------------


@hv("Get-VMHost", computer_param())
async def get_vm_host(call: Call) -> None:
    for node_name in computers(call):
        node = call.sim.cluster.nodes[node_name]
        call.emit(build(objects.VMHost, "Microsoft.HyperV.PowerShell.Host", ComputerName=node.name, Name=node.name,
                        LogicalProcessorCount=i32(node.cpus), MemoryCapacity=i64(node.memory_mb * MiB),
                        VirtualMachinePath=DEFAULT_VM_PATH,
                        VirtualHardDiskPath="C:\\Users\\Public\\Documents\\Hyper-V\\Virtual Hard Disks",
                        MacAddressMinimum="00155D000000", MacAddressMaximum="00155DFFFFFF",
                        NumaSpanningEnabled=True, VirtualMachineMigrationEnabled=True,
                        MaximumVirtualMachineMigrations=u32(2),
                        FullyQualifiedDomainName=f"{node.name}.clusterstack.local"))


@hv("Get-VMHostNumaNode", computer_param(), Param("Id", "int32"))
async def get_vm_host_numa_node(call: Call) -> None:
    for node_name in computers(call):
        node = call.sim.cluster.nodes[node_name]
        call.emit(build(objects.VMHostNumaNode, "Microsoft.HyperV.PowerShell.VMHostNumaNode", NodeId=i32(0),
                        ProcessorsAvailability=[i32(100)] * node.cpus, MemoryAvailable=i64(max(0, node.free_mb)),
                        MemoryTotal=i64(node.memory_mb), ComputerName=node.name))
