"""The driver seam: what the management server asks of a Hyper-V failover cluster, and what it hears back.

The server calls only this interface, and opens a driver only with `registry.open_driver(address, credentials,
options)`. Two drivers implement it and pass one contract suite (tests/hypervisor/test_contract.py):
`hyperv/` speaks PowerShell remoting (WinRM + PSRP, pypsrp) to a real Windows failover cluster, or to the
simulator's nodes, which answer the same protocol; `simulator.py` speaks the simulator's JSON HTTP API.

Rules every driver keeps:
- Timeouts: every call returns or raises within `DriverOptions.timeout` seconds (long polls within the
  timeout they are given plus that), raising `OperationTimeout` when the cluster took too long to answer.
- Threads: a driver may be called from several threads at once (jobs, the follower, API reads). It holds a small
  pool of connections per node it talks to (the WinRM driver: at most 3, each used by one call at a time), so a
  long read does not hold up a short one and calls to one node never interleave on one connection.
- Reads: `report()` is one consistent snapshot for the level-triggered follower; `role()` and `node()` are the
  cheap partial reads a job uses. No job reads the full report in a loop.
- Events: `read_events()` takes and answers an opaque cursor; a cursor the cluster can no longer honour (a
  log cleared, a simulator restarted, a node rebuilt) raises `CursorExpired`, after which the caller resyncs
  from a full report and starts again from `None`.
- Operations (start, stop, moves, drains) return as soon as the cluster accepted them, with the role or node
  as it is then; the caller follows the change level-triggered (`wait_for_role_change`, the next report) and
  never sleeps in a worker for minutes.
- Failures are the typed DriverError subclasses below, each with a message an operator can act on; the
  server maps each to the CloudStack error its caller sees. Creating what exists raises `AlreadyExists`
  carrying what exists, so a job re-run after a crash adopts it.
- Credentials are never logged, never put in an error message, and never returned by `repr()`.
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


# ---- connection settings -------------------------------------------------------------------------------

AUTH_METHODS = ("negotiate", "ntlm", "kerberos", "credssp")


@dataclass(frozen=True)
class Credentials:
    """The account the driver connects as (DOMAIN\\user or user@domain). The password never shows in repr()."""

    username: str
    password: str = field(repr=False)
    auth: str = "negotiate"  # negotiate (NTLM or Kerberos), ntlm, kerberos, credssp

    def __post_init__(self) -> None:
        if self.auth not in AUTH_METHODS:
            raise ValueError(f"unknown authentication method {self.auth!r}: use one of {', '.join(AUTH_METHODS)}")


@dataclass(frozen=True)
class DriverOptions:
    timeout: float = 30.0  # seconds a single call may take
    cert_validation: bool = True  # check the server's certificate (HTTPS)
    ca_file: str | None = None  # a CA bundle to check it against, instead of the system's
    pinned_sha256: str | None = None  # or: accept exactly this certificate (SHA-256 of its DER, hex)
    node_addresses: tuple[tuple[str, str], ...] = ()  # (node name, address) known to the caller
    poll_interval: float = 0.5  # how often a driver without a change feed looks for changes


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
    # how the cluster fails it over (what a failover rehearsal needs); empty or None where a driver cannot read it
    preferred_owners: tuple[str, ...] = ()  # Get-ClusterOwnerNode -Group (the simulator's JSON only)
    possible_owners: tuple[str, ...] = ()  # empty: every node (the simulator's JSON only)
    anti_affinity: tuple[str, ...] = ()  # the group's AntiAffinityClassNames
    failover_threshold: int | None = None  # FailoverThreshold; None: the cluster's default (nodes - 1)
    failover_period_hours: float = 6.0  # FailoverPeriod
    recent_failovers: int = 0  # failovers counted within FailoverPeriod (the simulator tells; WSFC does not: 0)

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
    """One entry of the cluster's event log (FailoverClustering and Hyper-V-VMMS channels).

    `seq` orders entries within one read; `record_id` is the entry's number in its node's log (what
    Get-WinEvent calls RecordId).
    """

    seq: int
    time: datetime
    source: str
    id: int
    level: str
    node: str
    message: str
    record_id: int = 0


@dataclass(frozen=True)
class EventFilter:
    """What read_events() keeps (all of it when empty)."""

    since: datetime | None = None
    event_ids: frozenset[int] = frozenset()
    level: str | None = None
    node: str | None = None
    role: str | None = None

    def keeps(self, entry: ClusterEventReport) -> bool:
        if self.since is not None and entry.time <= self.since:
            return False
        if self.event_ids and entry.id not in self.event_ids:
            return False
        if self.level is not None and entry.level.lower() != self.level.lower():
            return False
        if self.node is not None and entry.node.lower() != self.node.lower():
            return False
        return self.role is None or f"'{self.role.lower()}'" in entry.message.lower()


@dataclass(frozen=True)
class EventPage:
    events: tuple[ClusterEventReport, ...]
    cursor: str  # opaque: pass it back to read what came after these


@dataclass(frozen=True)
class ClusterReport:
    """Everything the cluster says is true right now (the level the reconciler works from)."""

    name: str
    quorum: QuorumReport
    nodes: tuple[NodeReport, ...]
    roles: tuple[RoleReport, ...]
    disks: tuple[DiskReport, ...]
    cursor: int  # change-feed position this report reflects
    profile: str | None = None  # the failover timings in force: "2016" (VM resiliency, quarantine) or "2012R2"
    dynamic_quorum: bool = True  # DynamicQuorum

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
    mac_address: str | None = None  # 12 hex digits; None: Hyper-V assigns one
    switch: str | None = None  # the Hyper-V virtual switch (the traffic type's label)
    vlan_id: int | None = None  # access VLAN on the switch port


@dataclass(frozen=True)
class VmSpec:
    """What New-VM and Add-ClusterVirtualMachineRole need.

    The first VHD is the boot disk. When `template_vhd` is given the boot disk is made from it: a differencing
    disk whose parent is the template's copy on the CSV (`root_disk="differencing"`, as CloudStack's Hyper-V
    agent does), or a full copy (`"copy"`); otherwise each VHD is created empty with its size.
    """

    name: str  # the internal name, i-<account id>-<vm id>-VM
    cpus: int
    memory_mb: int
    priority: int
    vhds: tuple[VhdSpec, ...] = ()
    nics: tuple[NicSpec, ...] = ()
    node: str | None = None  # create on this node (None: the cluster picks)
    start: bool = True
    preferred_owners: tuple[str, ...] = field(default_factory=tuple)
    generation: int = 2
    template_vhd: str | None = None  # the template's VHD on the CSV
    root_disk: str = "differencing"  # differencing or copy (with template_vhd)
    path: str | None = None  # where the VM's configuration lives (C:\ClusterStorage\Volume1\i-2-3-VM)


# ---- errors --------------------------------------------------------------------------------------------

class DriverError(Exception):
    """A failure the operator should read. `str(err)` is the readable message."""


class ClusterUnreachable(DriverError):
    """The cluster's management address does not answer."""


class AuthenticationFailed(DriverError):
    """The cluster refused the credentials (wrong user name or password, or an authentication method it does
    not accept)."""


class AccessDenied(DriverError):
    """The account is known but lacks the right (on the cluster or on Hyper-V) to do this."""


class CertificateRejected(DriverError):
    """The server's certificate is not trusted (and validation was not turned off for it)."""


class OperationTimeout(DriverError):
    """The cluster did not answer within the driver's timeout."""


class CursorExpired(DriverError):
    """An event cursor the cluster can no longer continue from: resync from a full report."""


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


class AlreadyExists(InvalidState):
    """What was to be created exists; `role` is it when it is a role (a re-run job adopts it)."""

    def __init__(self, message: str, role: RoleReport | None = None) -> None:
        super().__init__(message)
        self.role = role


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

    def node(self, name: str) -> NodeReport | None:
        """One node as the cluster sees it, or None when it is not a node of the cluster."""
        return self.report().node(name)

    @abc.abstractmethod
    def read_events(self, cursor: str | None = None, limit: int = 1000,
                    where: EventFilter | None = None) -> EventPage:
        """Up to `limit` entries after `cursor` (None: from the oldest the cluster still has), oldest first, and
        the cursor to continue from. Raises CursorExpired when `cursor` cannot be continued."""

    @abc.abstractmethod
    def wait_for_change(self, since: int, timeout: float) -> int:
        """Block until the cluster changes after `since` (or timeout); return the new cursor."""

    @abc.abstractmethod
    def ping_node(self, node: str) -> NodeReport:
        """Ask the node itself (not the cluster); raises NodeUnreachable when it does not answer."""

    def liveness_endpoint(self, node: str) -> tuple[str, int] | None:
        """Where the node's own machine accepts TCP connections (host, port): a connection accepted there, with
        no request sent, says the machine runs. A follower watching many clusters checks every node this way,
        all at once from one thread, instead of calling ping_node. None while the driver does not know the
        node's address (a report() teaches it)."""
        return None

    async def await_change(self, since: int, timeout: float) -> int:
        """wait_for_change without holding a thread: one event loop awaits the changes of every cluster a server
        follows. A driver without an asynchronous channel raises NotImplementedError; the follower then asks
        wait_for_change(cursor, 0) every poll interval instead."""
        raise NotImplementedError

    async def aclose(self) -> None:  # noqa: B027 - optional: only drivers with an asynchronous channel hold anything
        """Release what await_change holds (called on the event loop that awaited it)."""

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

    @abc.abstractmethod
    def clear_quarantine(self, node: str) -> NodeReport:
        """Start-ClusterNode -ClearQuarantine: a Quarantined node whose machine runs rejoins now instead of at the
        end of its QuarantineDuration. InvalidState when the node is not Quarantined; DriverError when its machine
        does not run."""

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

    @abc.abstractmethod
    def features(self) -> dict[str, bool]:
        """Whether the Windows features clusterstack needs (Failover-Clustering, Hyper-V) are installed where the
        driver answers (Get-WindowsFeature)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


def _role_moved_on(role: RoleReport, seen: RoleReport) -> bool:
    return (role.state, role.vm_state, role.owner_node) != (seen.state, seen.vm_state, seen.owner_node)
