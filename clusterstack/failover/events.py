"""What can happen to a cluster: the engine's input events (frozen, comparable, hashable)."""

from __future__ import annotations

from dataclasses import dataclass

from clusterstack.failover.spec import RoleSpec


@dataclass(frozen=True)
class NodeCrash:
    """The node dies (power loss, bugcheck): its VMs are gone; peers notice after the heartbeat threshold."""

    node: str


@dataclass(frozen=True)
class NodeShutdown:
    """A graceful shutdown: the node drains first, then leaves."""

    node: str


@dataclass(frozen=True)
class NodeStart:
    node: str


@dataclass(frozen=True)
class ClearQuarantine:
    """Start-ClusterNode -ClearQuarantine: the node leaves quarantine now and, if its machine runs, joins."""

    node: str


@dataclass(frozen=True)
class HeartbeatLost:
    a: str
    b: str


@dataclass(frozen=True)
class HeartbeatRestored:
    a: str
    b: str


@dataclass(frozen=True)
class Partition:
    nodes: tuple[str, ...]
    from_nodes: tuple[str, ...] | None = None  # None: every other node


@dataclass(frozen=True)
class Heal:
    pass


@dataclass(frozen=True)
class MoveRole:
    role: str
    node: str
    type: str = "live"  # live | quick


@dataclass(frozen=True)
class Drain:
    node: str


@dataclass(frozen=True)
class Resume:
    node: str
    failback: bool = False


@dataclass(frozen=True)
class DiskFail:
    disk: str


@dataclass(frozen=True)
class DiskRepair:
    disk: str


@dataclass(frozen=True)
class StoragePathLost:
    node: str
    disk: str


@dataclass(frozen=True)
class StoragePathRestored:
    node: str
    disk: str


@dataclass(frozen=True)
class AddRole:
    role: RoleSpec

    def __hash__(self) -> int:
        return hash(self.role.name)


@dataclass(frozen=True)
class RemoveRole:
    role: str


@dataclass(frozen=True)
class StartRole:
    role: str


@dataclass(frozen=True)
class StopRole:
    role: str
    force: bool = False


@dataclass(frozen=True)
class RestartRole:
    role: str


@dataclass(frozen=True)
class SetRolePriority:
    role: str
    priority: int


@dataclass(frozen=True)
class UpdateRoleResources:
    role: str
    memory_mb: int
    cpus: int


@dataclass(frozen=True)
class CreateVhd:
    disk: str
    path: str
    size_bytes: int
    role: str | None = None


@dataclass(frozen=True)
class ResizeVhd:
    path: str
    size_bytes: int


@dataclass(frozen=True)
class DeleteVhd:
    path: str


@dataclass(frozen=True)
class AttachVhd:
    role: str
    path: str


@dataclass(frozen=True)
class DetachVhd:
    role: str
    path: str


@dataclass(frozen=True)
class Tick:
    pass
