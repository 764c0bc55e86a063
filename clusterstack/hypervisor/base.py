"""The driver seam: what the management server asks of a Hyper-V failover cluster, and what it hears back.

The server calls only this interface. `simulator.py` implements it over the simulator's HTTP API; a WinRM
driver for real clusters (PowerShell's FailoverClusters and Hyper-V modules over pypsrp) implements the same.
Reports are plain typed values; failures are the typed DriverError subclasses below, each with a message an
operator can act on.
"""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass, field
from datetime import datetime

# Role priorities as WSFC numbers them (Get-ClusterGroup ... .Priority)
PRIORITY_HIGH = 3000
PRIORITY_MEDIUM = 2000
PRIORITY_LOW = 1000
PRIORITY_NO_AUTO_START = 0
PRIORITY_NAMES = {PRIORITY_HIGH: "High", PRIORITY_MEDIUM: "Medium", PRIORITY_LOW: "Low",
                  PRIORITY_NO_AUTO_START: "No Auto Start"}


# ---- reports -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NodeReport:
    name: str
    state: str  # Up, Down, Paused, Joining, Isolated, Quarantined
    assigned_vote: int
    current_vote: int
    memory_mb: int
    memory_used_mb: int
    cpus: int
    address: str | None = None  # where the node itself answers (its own endpoint)
    drain_status: str | None = None  # NotInitiated, InProgress, Completed, Failed


@dataclass(frozen=True)
class QuorumReport:
    state: str  # Up, Lost
    model: str  # NodeMajority, NodeAndDiskMajority, NodeAndFileShareMajority, CloudWitness
    votes: int
    votes_needed: int


@dataclass(frozen=True)
class VhdReport:
    path: str
    size_bytes: int
    disk: str | None = None  # the cluster disk (CSV) holding it
    attached_to: str | None = None


@dataclass(frozen=True)
class RoleReport:
    """A virtual-machine role (cluster group) and its VM."""

    name: str
    state: str  # Online, Offline, Failed, PartialOnline, Pending
    vm_state: str  # Running, Off, Saved, Paused, Starting, Stopping, Migrating, Unmonitored
    owner_node: str | None
    priority: int
    memory_mb: int
    cpus: int
    vhds: tuple[VhdReport, ...] = ()
    information: str = ""

    @property
    def priority_name(self) -> str:
        return PRIORITY_NAMES.get(self.priority, str(self.priority))


@dataclass(frozen=True)
class DiskReport:
    name: str
    state: str  # Online, Offline, Failed
    assigned_to: str  # Cluster Shared Volume, Disk Witness in Quorum, Available Storage
    owner_node: str | None
    disk_number: int
    capacity_bytes: int
    free_bytes: int
    path: str | None = None  # C:\ClusterStorage\VolumeN for a CSV
    redirected_nodes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterEventReport:
    """One entry of the cluster's event log (FailoverClustering and Hyper-V-VMMS channels)."""

    seq: int
    time: datetime
    source: str
    id: int
    level: str
    node: str
    message: str


@dataclass(frozen=True)
class ClusterReport:
    """Everything the cluster says is true right now (the level the reconciler works from)."""

    name: str
    quorum: QuorumReport
    nodes: tuple[NodeReport, ...]
    roles: tuple[RoleReport, ...]
    disks: tuple[DiskReport, ...]
    cursor: int  # change-feed position this report reflects

    def node(self, name: str) -> NodeReport | None:
        return next((n for n in self.nodes if n.name.lower() == name.lower()), None)

    def role(self, name: str) -> RoleReport | None:
        return next((r for r in self.roles if r.name == name), None)

    def csv(self, path: str) -> DiskReport | None:
        wanted = path.rstrip("\\").lower()
        return next((d for d in self.disks if d.path and d.path.rstrip("\\").lower() == wanted), None)


# ---- requests ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VhdSpec:
    path: str  # C:\ClusterStorage\Volume1\i-4-5-VM\ROOT-5.vhdx
    size_bytes: int
    disk: str | None = None  # CSV disk name; derived from the path when None


@dataclass(frozen=True)
class NicSpec:
    name: str
    mac_address: str | None = None
    switch: str | None = None


@dataclass(frozen=True)
class VmSpec:
    name: str  # the internal name, i-<account id>-<vm id>-VM
    cpus: int
    memory_mb: int
    priority: int
    vhds: tuple[VhdSpec, ...] = ()
    nics: tuple[NicSpec, ...] = ()
    node: str | None = None  # create on this node (None: the cluster picks)
    start: bool = True
    preferred_owners: tuple[str, ...] = field(default_factory=tuple)


# ---- errors --------------------------------------------------------------------------------------------

class DriverError(Exception):
    """A failure the operator should read. `str(err)` is the readable message."""


class ClusterUnreachable(DriverError):
    """The cluster's management address does not answer."""


class NodeUnreachable(DriverError):
    def __init__(self, node: str, address: str | None, detail: str = "No route to host") -> None:
        super().__init__(f"Unable to reach node {node} at {address or 'its address'}: {detail}")
        self.node = node
        self.address = address


class NotFound(DriverError):
    pass


class QuorumLost(DriverError):
    pass


class NotEnoughMemory(DriverError):
    pass


class InvalidState(DriverError):
    pass


# ---- the interface -------------------------------------------------------------------------------------

class FailoverClusterDriver(abc.ABC):
    """One failover cluster, reached at `address`."""

    address: str

    # reading
    @abc.abstractmethod
    def report(self) -> ClusterReport: ...

    def role(self, name: str) -> RoleReport | None:
        """One role, or None when the cluster has no such role (drivers answer this more cheaply)."""
        return self.report().role(name)

    def wait_for_role_change(self, seen: RoleReport, timeout: float) -> RoleReport | None:
        """Block until role `seen.name` is no longer as seen (its state, VM state or owner node differ), at most
        `timeout` seconds; answer it as it is then, or None when it is gone. Drivers that can be told of a
        change (the simulator's long poll) answer the moment it happens; this default asks every 50 ms."""
        deadline = time.monotonic() + timeout
        while True:
            role = self.role(seen.name)
            if role is None or _role_moved_on(role, seen):
                return role
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return role
            time.sleep(min(0.05, remaining))

    @abc.abstractmethod
    def events(self, since: int = 0, limit: int = 1000) -> list[ClusterEventReport]: ...

    @abc.abstractmethod
    def wait_for_change(self, since: int, timeout: float) -> int:
        """Block until the cluster changes after `since` (or timeout); return the new cursor."""

    @abc.abstractmethod
    def ping_node(self, node: str) -> NodeReport:
        """Ask the node itself (not the cluster); raises NodeUnreachable when it does not answer."""

    # virtual machines and roles
    @abc.abstractmethod
    def create_vm(self, spec: VmSpec) -> RoleReport: ...

    @abc.abstractmethod
    def start_vm(self, name: str) -> RoleReport: ...

    @abc.abstractmethod
    def stop_vm(self, name: str, force: bool = False) -> RoleReport: ...

    @abc.abstractmethod
    def reboot_vm(self, name: str) -> RoleReport: ...

    @abc.abstractmethod
    def remove_vm(self, name: str) -> None: ...

    @abc.abstractmethod
    def move_vm(self, name: str, node: str, migration_type: str = "live") -> RoleReport: ...

    @abc.abstractmethod
    def set_priority(self, name: str, priority: int) -> RoleReport: ...

    @abc.abstractmethod
    def set_resources(self, name: str, cpus: int, memory_mb: int) -> RoleReport: ...

    # nodes
    @abc.abstractmethod
    def drain_node(self, node: str) -> NodeReport: ...

    @abc.abstractmethod
    def resume_node(self, node: str, failback: bool = False) -> NodeReport: ...

    # virtual hard disks on CSVs
    @abc.abstractmethod
    def create_vhd(self, spec: VhdSpec) -> VhdReport: ...

    @abc.abstractmethod
    def attach_vhd(self, vm: str, path: str) -> VhdReport: ...

    @abc.abstractmethod
    def detach_vhd(self, vm: str, path: str) -> VhdReport: ...

    @abc.abstractmethod
    def resize_vhd(self, path: str, size_bytes: int) -> VhdReport: ...

    @abc.abstractmethod
    def delete_vhd(self, path: str) -> None: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


def _role_moved_on(role: RoleReport, seen: RoleReport) -> bool:
    return (role.state, role.vm_state, role.owner_node) != (seen.state, seen.vm_state, seen.owner_node)
