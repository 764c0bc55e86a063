"""The .NET objects the cmdlets answer: enums and object types with the type names and properties Windows Server
2016 gives them (docs/hyperv-cmdlets.md), as psrpcore.types objects the transport can serialize.

Each object is a PSObject of a class registered with its .NET type names (not rehydrated: a client in the same
process deserializes them as it would a Windows node's). Properties are adapted properties, in the order Windows
lists them; nested complex values are objects too, whose ToString() is what Windows prints for them.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from typing import Any

from psrpcore.types import (
    PSByte,
    PSEnumBase,
    PSFlagBase,
    PSInt,
    PSInt64,
    PSObject,
    PSType,
    PSUInt,
    PSUInt16,
    PSUInt64,
    add_note_property,
)
from psrpcore.types._base import PSNoteProperty
from psrpcore.types._serializer import _serialize_enum_to_string

FC = "Microsoft.FailoverClusters.PowerShell"
HV = "Microsoft.HyperV.PowerShell"
VHD = "Microsoft.Vhd.PowerShell"

# ---- enums ----------------------------------------------------------------------------------------------------


@PSType([f"{FC}.ClusterNodeState"], rehydrate=False)
class ClusterNodeState(PSEnumBase):
    Unknown = -1
    Up = 0
    Down = 1
    Paused = 2
    Joining = 3


@PSType([f"{FC}.NodeDrainStatus"], rehydrate=False)
class NodeDrainStatus(PSEnumBase):
    NotInitiated = 0
    InProgress = 1
    Completed = 2
    Failed = 3


@PSType([f"{FC}.ClusterNodeStatusInfo"], rehydrate=False)
class ClusterNodeStatusInfo(PSFlagBase):
    Normal = 0
    Isolated = 1
    Quarantined = 2
    DrainInProgress = 4
    DrainCompleted = 8
    DrainFailed = 16
    AvoidPlacement = 32


@PSType([f"{FC}.ClusterGroupState"], rehydrate=False)
class ClusterGroupState(PSEnumBase):
    Unknown = -1
    Online = 0
    Offline = 1
    Failed = 2
    PartialOnline = 3
    Pending = 4


@PSType([f"{FC}.GroupType"], rehydrate=False)
class GroupType(PSEnumBase):
    Cluster = 1
    AvailableStorage = 2
    ClusterStoragePool = 5
    FileServer = 100
    GenericService = 105
    GenericApplication = 106
    GenericScript = 107
    VirtualMachine = 111
    ScaleoutFileServer = 113
    Unknown = 9999


@PSType([f"{FC}.ClusterResourceState"], rehydrate=False)
class ClusterResourceState(PSEnumBase):
    Unknown = -1
    Inherited = 0
    Initializing = 1
    Online = 2
    Offline = 3
    Failed = 4
    Pending = 128
    OnlinePending = 129
    OfflinePending = 130


@PSType([f"{FC}.ClusterNetworkInterfaceState"], rehydrate=False)
class ClusterNetworkInterfaceState(PSEnumBase):
    Unknown = -1
    Unavailable = 0
    Failed = 1
    Unreachable = 2
    Up = 3


@PSType([f"{FC}.ClusterSharedVolumeStateInfo+StateInfoType"], rehydrate=False)
class CsvStateInfo(PSEnumBase):
    """How a node reaches a CSV (Get-ClusterSharedVolumeState's StateInfo)."""

    Unavailable = 0
    Paused = 1
    Direct = 2
    FileSystemRedirected = 3
    BlockRedirected = 4


@PSType([f"{HV}.VMState"], rehydrate=False)
class VMState(PSEnumBase):
    Other = 1
    Running = 2
    Off = 3
    Stopping = 4
    Saved = 6
    Paused = 9
    Starting = 10
    Reset = 11
    Saving = 32773
    Pausing = 32776
    Resuming = 32777


@PSType([f"{HV}.ControllerType"], rehydrate=False)
class ControllerType(PSEnumBase):
    IDE = 0
    SCSI = 1


@PSType([f"{VHD}.VhdType"], rehydrate=False)
class VhdType(PSEnumBase):
    Unknown = 0
    Fixed = 2
    Dynamic = 3
    Differencing = 4


@PSType([f"{VHD}.VhdFormat"], rehydrate=False)
class VhdFormat(PSEnumBase):
    Unknown = 0
    VHD = 2
    VHDX = 3
    VHDSet = 4


# ---- object types ----------------------------------------------------------------------------------------------


def _object_type(type_names: list[str], properties: list[str]) -> type[PSObject]:
    @PSType(list(type_names), adapted_properties=[PSNoteProperty(name) for name in properties], rehydrate=False)
    class _Object(PSObject):
        pass

    _Object.__name__ = _Object.__qualname__ = type_names[0].rsplit(".", 1)[-1]
    return _Object


Cluster = _object_type([f"{FC}.Cluster"], [
    "Name", "Domain", "Id", "Description", "DynamicQuorum", "WitnessDynamicWeight", "QuarantineThreshold",
    "QuarantineDuration", "ResiliencyDefaultPeriod", "ResiliencyLevel", "SameSubnetDelay", "SameSubnetThreshold",
    "CrossSubnetDelay", "CrossSubnetThreshold", "LowerQuorumPriorityNodeID", "ClusterFunctionalLevel",
    "S2DEnabled", "SharedVolumesRoot"])
ClusterNode = _object_type([f"{FC}.ClusterNode", f"{FC}.ClusterObject"], [
    "Cluster", "State", "Name", "NodeName", "Id", "NodeWeight", "DynamicWeight", "DrainStatus", "DrainTarget",
    "StatusInformation", "BuildNumber", "MajorVersion", "MinorVersion", "CSDVersion", "Description",
    "NodeInstanceID", "Manufacturer", "Model", "SerialNumber", "FaultDomain"])
ClusterQuorumSettings = _object_type([f"{FC}.ClusterQuorumSettings"], ["Cluster", "QuorumResource", "QuorumType"])
ClusterGroup = _object_type([f"{FC}.ClusterGroup", f"{FC}.ClusterObject"], [
    "Cluster", "IsCoreGroup", "OwnerNode", "State", "Name", "Description", "PersistentState", "FailoverThreshold",
    "FailoverPeriod", "AutoFailbackType", "FailbackWindowStart", "FailbackWindowEnd", "Priority", "DefaultOwner",
    "AntiAffinityClassNames", "GroupType", "StatusInformation", "Id"])
ClusterResource = _object_type([f"{FC}.ClusterResource", f"{FC}.ClusterObject"], [
    "Cluster", "IsCoreResource", "IsNetworkClassResource", "IsStorageClassResource", "OwnerGroup", "ResourceType",
    "State", "OwnerNode", "Name", "Description", "PersistentState", "StatusInformation", "Id"])
ClusterSharedVolume = _object_type([f"{FC}.ClusterSharedVolume", f"{FC}.ClusterObject"], [
    "Cluster", "Name", "OwnerNode", "SharedVolumeInfo", "State", "Id"])
ClusterParameter = _object_type([f"{FC}.ClusterParameter"], [
    "ClusterObject", "Name", "IsReadOnly", "ParameterType", "Value"])
MsftDisk = _object_type(["Microsoft.Management.Infrastructure.CimInstance#ROOT/Microsoft/Windows/Storage/MSFT_Disk",
                         "Microsoft.Management.Infrastructure.CimInstance#MSFT_Disk"], [
    "Number", "FriendlyName", "Guid", "Path", "Size", "AllocatedSize", "PartitionStyle", "IsClustered",
    "IsOffline", "OperationalStatus", "HealthStatus", "BusType", "NumberOfPartitions"])
ClusterSharedVolumeStateInfo = _object_type([f"{FC}.ClusterSharedVolumeStateInfo"], [
    "BlockRedirectedIOReason", "FileSystemRedirectedIOReason", "Name", "Node", "StateInfo", "VolumeFriendlyName",
    "VolumeName"])
ClusterSharedVolumeInfo = _object_type([f"{FC}.ClusterSharedVolumeInfo"], [
    "FaultState", "FriendlyVolumeName", "MaintenanceMode", "Partition", "PartitionNumber", "RedirectedAccess",
    "VolumeOffset", "VolumeName"])
ClusterDiskPartitionInfo = _object_type([f"{FC}.ClusterDiskPartitionInfo"], [
    "DriveLetter", "DriveLetterMask", "FileSystem", "FileSystemFlags", "FreeSpace", "HasDriveLetter",
    "IsCompressed", "IsDirty", "IsFormatted", "IsNtfs", "IsPartitionNumberValid", "IsPartitionSizeValid",
    "MountPoints", "Name", "PartitionFlags", "PartitionNumber", "PercentFree", "Size", "UsedSpace",
    "VolumeGuid", "VolumeLabel", "VolumeSerialNumber"])
ClusterNetworkInterface = _object_type([f"{FC}.ClusterNetworkInterface", f"{FC}.ClusterObject"], [
    "Cluster", "Name", "Network", "Node", "State", "Adapter", "Address", "Description", "Id"])
ClusterOwnerNodeList = _object_type([f"{FC}.ClusterOwnerNodeList"], ["ClusterObject", "OwnerNodes"])
VirtualMachine = _object_type([f"{HV}.VirtualMachine", f"{HV}.VirtualMachineBase"], [
    "VMName", "VMId", "Id", "Name", "State", "Status", "ComputerName", "IsClustered", "Generation", "Version",
    "Path", "ConfigurationLocation", "ProcessorCount", "MemoryStartup", "MemoryAssigned", "MemoryMinimum",
    "MemoryMaximum", "DynamicMemoryEnabled", "CPUUsage", "Uptime", "Notes", "HardDrives", "NetworkAdapters",
    "ReplicationState", "CheckpointType"])
HardDiskDrive = _object_type([f"{HV}.HardDiskDrive", f"{HV}.Drive", f"{HV}.VirtualMachineDeviceBase"], [
    "Path", "DiskNumber", "MaximumIOPS", "MinimumIOPS", "QoSPolicyID", "SupportPersistentReservations",
    "WriteHardeningMethod", "ControllerLocation", "ControllerNumber", "ControllerType", "Name", "PoolName", "Id",
    "VMId", "VMName", "VMSnapshotId", "VMSnapshotName", "ComputerName", "IsDeleted"])
VirtualHardDisk = _object_type([f"{VHD}.VirtualHardDisk"], [
    "ComputerName", "Path", "VhdFormat", "VhdType", "FileSize", "Size", "MinimumSize", "LogicalSectorSize",
    "PhysicalSectorSize", "BlockSize", "ParentPath", "DiskIdentifier", "FragmentationPercentage", "Alignment",
    "Attached", "DiskNumber", "IsPMEMCompatible", "AddressAbstractionType", "Number"])
VMNetworkAdapter = _object_type([f"{HV}.VMNetworkAdapter", f"{HV}.VMNetworkAdapterBase",
                                 f"{HV}.VirtualMachineDeviceBase"], [
    "Name", "Id", "IsLegacy", "IsManagementOs", "ComputerName", "VMName", "VMId", "SwitchName", "SwitchId",
    "Connected", "MacAddress", "DynamicMacAddressEnabled", "IPAddresses", "Status", "VlanSetting"])
VMNetworkAdapterVlanSetting = _object_type([f"{HV}.VMNetworkAdapterVlanSetting"], [
    "OperationMode", "AccessVlanId", "NativeVlanId", "ParentAdapter"])
VMHost = _object_type([f"{HV}.Host"], [
    "ComputerName", "Name", "LogicalProcessorCount", "MemoryCapacity", "VirtualMachinePath",
    "VirtualHardDiskPath", "MacAddressMinimum", "MacAddressMaximum", "NumaSpanningEnabled",
    "VirtualMachineMigrationEnabled", "MaximumVirtualMachineMigrations", "FullyQualifiedDomainName"])
VMHostNumaNode = _object_type([f"{HV}.VMHostNumaNode"], [
    "NodeId", "ProcessorsAvailability", "MemoryAvailable", "MemoryTotal", "ComputerName"])
WindowsFeature = _object_type(["Microsoft.Windows.ServerManager.Commands.Feature"], [
    "Name", "DisplayName", "Description", "Installed", "InstallState", "FeatureType", "Path", "Depth",
    "DependsOn", "Parent", "ServerComponentDescriptor", "SubFeatures", "SystemService", "Notification",
    "BestPracticesModelId", "EventQuery", "PostConfigurationNeeded", "AdditionalInfo"])
EventLogRecord = _object_type(["System.Diagnostics.Eventing.Reader.EventLogRecord",
                               "System.Diagnostics.Eventing.Reader.EventRecord"], [
    "Id", "Version", "Qualifiers", "Level", "Task", "Opcode", "Keywords", "RecordId", "ProviderName", "ProviderId",
    "LogName", "ProcessId", "ThreadId", "MachineName", "UserId", "TimeCreated", "ActivityId", "RelatedActivityId",
    "ContainerLog", "MatchedQueryIds", "Bookmark", "LevelDisplayName", "OpcodeDisplayName", "TaskDisplayName",
    "KeywordsDisplayNames", "Properties", "Message"])
CimInstance = _object_type(["Microsoft.Management.Infrastructure.CimInstance#root/MSCluster/MSCluster_ResourceGroup",
                            "Microsoft.Management.Infrastructure.CimInstance#MSCluster_ResourceGroup",
                            "Microsoft.Management.Infrastructure.CimInstance"], [
    "Name", "Id", "Description", "Caption", "Status", "State", "GroupType", "Priority", "OwnerNode",
    "PersistentState", "FailoverThreshold", "FailoverPeriod", "AutoFailbackType", "AntiAffinityClassNames",
    "IsCore", "PSComputerName"])
PSCustomObject = _object_type(["System.Management.Automation.PSCustomObject"], [])


def build(cls: type[PSObject], to_string: str | None = None, **values: Any) -> PSObject:
    """An object of `cls` with `values` (properties left out are null) whose ToString() is `to_string`."""
    obj = cls(**{p.name: values.get(p.name) for p in cls.PSObject.adapted_properties})
    unknown = set(values) - {p.name for p in cls.PSObject.adapted_properties}
    if unknown:
        raise TypeError(f"{cls.__name__} has no properties {sorted(unknown)}")
    obj.PSObject.to_string = to_string if to_string is not None else obj.PSObject.type_names[0]
    return obj


def custom_object(properties: Iterable[tuple[str, Any]]) -> PSObject:
    """A PSCustomObject (Select-Object's result) with note properties in order."""
    obj = PSCustomObject()
    obj.PSObject.type_names = ["Selected.System.Management.Automation.PSCustomObject",
                               "System.Management.Automation.PSCustomObject", "System.Object"]
    for name, value in properties:
        add_note_property(obj, name, value)
    obj.PSObject.to_string = ""
    return obj


def properties_of(obj: Any) -> list[tuple[str, Any]]:
    """An object's properties as PowerShell lists them (adapted, then note/extended), name and value."""
    meta = getattr(obj, "PSObject", None)
    if meta is None:
        return []
    seen: dict[str, Any] = {}
    for prop in [*meta.adapted_properties, *meta.extended_properties]:
        seen[prop.name] = prop.get_value(obj)
    return list(seen.items())


def find_property(obj: Any, name: str) -> tuple[str, Any] | None:
    """A property by name, case-insensitively (as PowerShell finds them)."""
    lowered = name.lower()
    for prop_name, value in reversed(properties_of(obj)):
        if prop_name.lower() == lowered:
            return prop_name, value
    return None


def to_string(value: Any) -> str:
    """What PowerShell's ToString() gives for a value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (PSEnumBase, PSFlagBase)):
        return _serialize_enum_to_string(value)
    if isinstance(value, PSObject) and getattr(value, "PSObject", None) is not None and not isinstance(
            value, (str, int, float)):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.strftime("%m/%d/%Y %H:%M:%S").lstrip("0")
    return str(value)


def u32(value: int) -> PSUInt:
    return PSUInt(value)


def u16(value: int) -> PSUInt16:
    return PSUInt16(value)


def u64(value: int) -> PSUInt64:
    return PSUInt64(value)


def i64(value: int) -> PSInt64:
    return PSInt64(value)


def i32(value: int) -> PSInt:
    return PSInt(value)


def byte(value: int) -> PSByte:
    return PSByte(value)


def guid(text: str) -> uuid.UUID:
    return uuid.UUID(text)
