"""The cluster's parts as the engine tracks them: nodes, roles (cluster groups of VM type) and disks."""

from __future__ import annotations

from dataclasses import dataclass, field

NODE_UP = "Up"
NODE_DOWN = "Down"
NODE_PAUSED = "Paused"
NODE_JOINING = "Joining"
NODE_ISOLATED = "Isolated"
NODE_QUARANTINED = "Quarantined"

GROUP_ONLINE = "Online"
GROUP_OFFLINE = "Offline"
GROUP_FAILED = "Failed"
GROUP_PENDING = "Pending"

VM_RUNNING = "Running"
VM_OFF = "Off"
VM_SAVED = "Saved"
VM_MIGRATING = "Migrating"
VM_UNMONITORED = "Unmonitored"
VM_STARTING = "Starting"

# VM states in which the VM holds memory on its owner node
VM_CONSUMING = frozenset({VM_RUNNING, VM_MIGRATING, VM_UNMONITORED, VM_STARTING})

PRIORITY_NAMES = {3000: "High", 2000: "Medium", 1000: "Low", 0: "No Auto Start"}


@dataclass
class Node:
    name: str
    index: int
    memory_mb: int
    cpus: int
    assigned_vote: int
    current_vote: int
    alive: bool = True  # the machine runs (a crash makes it False)
    member: bool = True  # in the active membership of a running cluster
    state: str = NODE_UP
    paused: bool = False
    drain_status: str = "NotInitiated"  # NotInitiated, InProgress, Completed, Failed
    shutdown_after_drain: bool = False
    leaves: list[float] = field(default_factory=list)  # when it dropped out of membership (quarantine count)
    quarantined_until: float | None = None
    isolation_token: int = 0
    memory_used_mb: int = 0  # running VMs and reservations (incoming migrations, starts)
    roles: set[str] = field(default_factory=set)  # roles it owns
    starts_in_flight: int = 0

    @property
    def usable(self) -> bool:
        """Can host and start roles: an Up member, not paused."""
        return self.alive and self.member and self.state == NODE_UP and not self.paused

    @property
    def free_mb(self) -> int:
        return self.memory_mb - self.memory_used_mb


@dataclass
class Role:
    name: str
    memory_mb: int
    cpus: int
    disk: str | None
    owner: str | None
    priority: int
    state: str = GROUP_OFFLINE
    vm_state: str = VM_OFF
    preferred_owners: list[str] = field(default_factory=list)
    possible_owners: list[str] = field(default_factory=list)
    anti_affinity: list[str] = field(default_factory=list)
    failover_threshold: int | None = None
    failover_period: float = 6 * 3600.0
    failback: bool = False
    failovers: list[float] = field(default_factory=list)
    vhds: dict[str, int] = field(default_factory=dict)  # path -> size in bytes
    information: str = ""
    wanted_running: bool = False  # should run once the cluster can run it (quorum back, capacity free)
    migration_target: str | None = None
    migration_token: int = 0
    drained_from: str | None = None
    threshold_exceeded: bool = False

    @property
    def priority_name(self) -> str:
        return PRIORITY_NAMES.get(self.priority, str(self.priority))


@dataclass
class Disk:
    name: str
    number: int
    capacity_bytes: int
    csv_path: str | None
    owner: str | None  # the coordinator node of a CSV
    witness: bool = False
    state: str = "Online"  # Online, Offline, Failed
    redirected: set[str] = field(default_factory=set)  # nodes without a direct path: redirected access
    vhds: dict[str, int] = field(default_factory=dict)  # path -> size in bytes

    @property
    def free_bytes(self) -> int:
        return self.capacity_bytes - sum(self.vhds.values())

    @property
    def assigned_to(self) -> str:
        if self.witness:
            return "Disk Witness in Quorum"
        return "Cluster Shared Volume" if self.csv_path else "Available Storage"

    @property
    def volume_name(self) -> str:
        return self.csv_path.rsplit("\\", 1)[-1] if self.csv_path else self.name
