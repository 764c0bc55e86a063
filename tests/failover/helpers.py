"""Small cluster builders for engine tests."""

from __future__ import annotations

from typing import Any

from clusterstack.failover import Cluster, ClusterSpec, DiskSpec, LogEntry, NodeSpec, RoleSpec


def make_cluster(nodes: int = 3, *, witness: str = "none", dynamic: bool = True, profile: str = "2016",
                 memory_mb: int = 65536, roles: list[RoleSpec] | None = None, **extra: Any) -> Cluster:
    names = [f"N{i + 1}" for i in range(nodes)]
    disks = [DiskSpec("ClusterDisk1", 100, r"C:\ClusterStorage\Volume1", names[0])]
    if witness == "disk":
        disks.append(DiskSpec("Witness", 1, None, names[0]))
    witness_disk = "Witness" if witness == "disk" else None
    spec = ClusterSpec(name="T", profile=profile, witness=witness, witness_disk=witness_disk,
                       dynamic_quorum=dynamic, nodes=[NodeSpec(n, memory_mb=memory_mb) for n in names], disks=disks,
                       roles=roles or [], **extra)
    return Cluster.from_spec(spec)


def run_until(cluster: Cluster, until: float) -> list[LogEntry]:
    out: list[LogEntry] = []
    while (deadline := cluster.next_deadline()) is not None and deadline <= until:
        out.extend(cluster.advance(deadline))
    out.extend(cluster.advance(until))
    return out


def ids(entries: list[LogEntry]) -> list[int]:
    return [e.id for e in entries]
