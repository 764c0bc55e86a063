"""A cluster's description: the `cluster:` section of a scenario file, as typed values."""

from __future__ import annotations

from dataclasses import dataclass, field

PROFILES = ("2012R2", "2016")
WITNESS_KINDS = ("none", "disk", "file-share", "cloud")
PRIORITIES = (3000, 2000, 1000, 0)
VM_STATES = ("Running", "Off", "Saved")


class SpecError(ValueError):
    """A cluster description that cannot be: `field_path` names the field, e.g. cluster.roles[2].memory_mb."""

    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(f"{field_path}: {message}")
        self.field_path = field_path
        self.message = message


@dataclass
class NodeSpec:
    name: str
    memory_mb: int = 65536
    cpus: int = 16
    vote: int = 1


@dataclass
class DiskSpec:
    name: str
    capacity_gb: float = 100
    csv: str | None = None
    owner: str | None = None


@dataclass
class RoleSpec:
    name: str
    memory_mb: int = 512
    cpus: int = 1
    disk: str | None = None
    disk_gb: float = 0
    owner: str | None = None
    priority: int = 2000
    state: str = "Running"
    preferred_owners: list[str] = field(default_factory=list)
    possible_owners: list[str] = field(default_factory=list)
    anti_affinity: list[str] = field(default_factory=list)
    failover_threshold: int | None = None  # default: number of nodes - 1
    failover_period_hours: float = 6
    failback: bool = False


@dataclass
class ClusterSpec:
    name: str = "CI1"
    profile: str = "2016"
    witness: str = "none"
    witness_disk: str | None = None
    witness_share: str | None = None
    dynamic_quorum: bool = True
    lower_quorum_priority_node: str | None = None
    cross_subnet: bool = False
    nodes: list[NodeSpec] = field(default_factory=list)
    disks: list[DiskSpec] = field(default_factory=list)
    roles: list[RoleSpec] = field(default_factory=list)

    def validate(self) -> None:
        if not self.name:
            raise SpecError("cluster.name", "must not be empty")
        if self.profile not in PROFILES:
            raise SpecError("cluster.profile", f"must be one of {', '.join(PROFILES)}, not {self.profile!r}")
        if self.witness not in WITNESS_KINDS:
            raise SpecError("cluster.witness", f"must be one of {', '.join(WITNESS_KINDS)}, not {self.witness!r}")
        if not self.nodes:
            raise SpecError("cluster.nodes", "a cluster needs at least one node")
        names: set[str] = set()
        for i, node in enumerate(self.nodes):
            where = f"cluster.nodes[{i}]"
            if not node.name:
                raise SpecError(f"{where}.name", "must not be empty")
            if node.name.lower() in names:
                raise SpecError(f"{where}.name", f"node {node.name} is listed twice")
            names.add(node.name.lower())
            if node.memory_mb <= 0:
                raise SpecError(f"{where}.memory_mb", "must be positive")
            if node.cpus <= 0:
                raise SpecError(f"{where}.cpus", "must be positive")
            if node.vote not in (0, 1):
                raise SpecError(f"{where}.vote", "must be 0 or 1")
        disk_names: set[str] = set()
        for i, disk in enumerate(self.disks):
            where = f"cluster.disks[{i}]"
            if not disk.name or disk.name in disk_names:
                raise SpecError(f"{where}.name", f"disk name {disk.name!r} is empty or listed twice")
            disk_names.add(disk.name)
            if disk.capacity_gb <= 0:
                raise SpecError(f"{where}.capacity_gb", "must be positive")
            if disk.owner is not None and disk.owner.lower() not in names:
                raise SpecError(f"{where}.owner", f"unknown node {disk.owner}")
        if self.witness == "disk":
            if self.witness_disk is None:
                raise SpecError("cluster.witness_disk", "a disk witness needs witness_disk")
            if self.witness_disk not in disk_names:
                raise SpecError("cluster.witness_disk", f"unknown disk {self.witness_disk}")
        if self.lower_quorum_priority_node is not None and self.lower_quorum_priority_node.lower() not in names:
            raise SpecError("cluster.lower_quorum_priority_node", f"unknown node {self.lower_quorum_priority_node}")
        largest = max(n.memory_mb for n in self.nodes)
        role_names: set[str] = set()
        for i, role in enumerate(self.roles):
            validate_role(role, f"cluster.roles[{i}]", names, disk_names, largest)
            if role.name in role_names:
                raise SpecError(f"cluster.roles[{i}].name", f"role {role.name} is listed twice")
            role_names.add(role.name)


def validate_role(role: RoleSpec, where: str, node_names: set[str], disk_names: set[str], largest_mb: int) -> None:
    if not role.name:
        raise SpecError(f"{where}.name", "must not be empty")
    if role.memory_mb <= 0:
        raise SpecError(f"{where}.memory_mb", "must be positive")
    if role.memory_mb > largest_mb:
        raise SpecError(f"{where}.memory_mb",
                        f"{role.memory_mb} MB is larger than any node ({largest_mb} MB at most)")
    if role.cpus <= 0:
        raise SpecError(f"{where}.cpus", "must be positive")
    if role.disk_gb < 0:
        raise SpecError(f"{where}.disk_gb", "must not be negative")
    if role.priority not in PRIORITIES:
        raise SpecError(f"{where}.priority", "must be 3000 (High), 2000 (Medium), 1000 (Low) or 0 (No Auto Start)")
    if role.state not in VM_STATES:
        raise SpecError(f"{where}.state", f"must be one of {', '.join(VM_STATES)}")
    if role.disk is not None and role.disk not in disk_names:
        raise SpecError(f"{where}.disk", f"unknown disk {role.disk}")
    for key, listed in (("owner", [role.owner] if role.owner else []), ("preferred_owners", role.preferred_owners),
                        ("possible_owners", role.possible_owners)):
        for node in listed:
            if node.lower() not in node_names:
                raise SpecError(f"{where}.{key}", f"unknown node {node}")
