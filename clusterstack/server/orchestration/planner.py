"""The deploy planner: which host (and which primary storage) a new instance goes to.

A host qualifies when it is Up and Enabled, in an Enabled cluster whose failover cluster has quorum, carries the
offering's host tags, and has the CPU and memory left (its cluster's overcommit ratios applied); its cluster
needs primary storage with room for the instance's disks. Of those, the host with the most free memory wins, so
instances spread the way the failover cluster itself would place them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from clusterstack.server.api.errors import insufficient_capacity, param_error
from clusterstack.server.db.allocation import MB, host_allocations, pool_allocation, pool_allocations
from clusterstack.server.db.models.infrastructure import Cluster, Host, StoragePool, Zone


@dataclass(frozen=True)
class Demand:
    cpus: int
    speed_mhz: int
    memory_mb: int
    disk_bytes: int
    host_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Placement:
    host: Host
    pool: StoragePool


def pool_room(pool: StoragePool, allocated_bytes: int) -> int:
    return pool.capacity_bytes - max(pool.used_bytes, allocated_bytes)


def room_on(db: Session, pool: StoragePool) -> int:
    """Bytes a pool can still take: its capacity less what is used or allocated on it, whichever is more."""
    return pool_room(pool, pool_allocation(db, pool.id))


def _pools_for(db: Session, cluster: Cluster) -> list[StoragePool]:
    return list(db.scalars(
        select(StoragePool).where(
            StoragePool.removed.is_(None), StoragePool.status == "Up",
            ((StoragePool.cluster_id == cluster.id) |
             ((StoragePool.scope == "ZONE") & (StoragePool.zone_id == cluster.zone_id))))
        .order_by(StoragePool.id)))


def plan(db: Session, zone: Zone, demand: Demand, *, host: Host | None = None,
         cluster: Cluster | None = None) -> Placement:
    """Where the demand fits. Placements in one zone are taken one at a time: the zone's row is locked until the
    caller's transaction ends, so two deploys on two management servers never both take the last free memory
    (on SQLite, which has one writer at a time, the lock is a no-op). It is the only lock a placement takes, so
    placements cannot deadlock with each other."""
    db.execute(select(Zone.id).where(Zone.id == zone.id).with_for_update())
    query = select(Host).where(Host.zone_id == zone.id, Host.removed.is_(None)).order_by(Host.id)
    if host is not None:
        query = query.where(Host.id == host.id)
    if cluster is not None:
        query = query.where(Host.cluster_id == cluster.id)
    reasons: list[str] = []
    best: tuple[int, Placement] | None = None
    pools_of: dict[int, list[tuple[StoragePool, int]]] = {}  # per cluster (its hosts share its storage): room
    candidates = list(db.scalars(query))
    allocations = host_allocations(db, [c.id for c in candidates])
    for candidate in candidates:
        cpu_used, memory_used = allocations[candidate.id].cpu_mhz, allocations[candidate.id].memory_bytes
        why = _unfit(candidate, demand, cpu_used, memory_used)
        if why:
            reasons.append(f"{candidate.name}: {why}")
            continue
        if candidate.cluster_id not in pools_of:
            shared = _pools_for(db, candidate.cluster)
            held = pool_allocations(db, [p.id for p in shared])
            pools_of[candidate.cluster_id] = [(p, pool_room(p, held[p.id])) for p in shared]
        pools = [(p, room) for p, room in pools_of[candidate.cluster_id] if room >= demand.disk_bytes]
        if not pools:
            reasons.append(f"{candidate.name}: no primary storage of cluster {candidate.cluster.name} has "
                           f"{demand.disk_bytes // (1024**3)} GB free")
            continue
        pool = max(pools, key=lambda found: (found[1], -found[0].id))[0]
        free_memory = int(candidate.total_memory * candidate.cluster.memory_overcommit_ratio) - memory_used
        if best is None or free_memory > best[0]:
            best = (free_memory, Placement(candidate, pool))
    if best is None:
        if host is not None and reasons:
            raise insufficient_capacity(f"Unable to create a deployment for the instance on host {host.name}: "
                                        f"{reasons[0].split(': ', 1)[1]}")
        detail = "; ".join(reasons) if reasons else f"zone {zone.name} has no hosts"
        raise insufficient_capacity(f"Unable to create a deployment for the instance: no host has the capacity "
                                    f"({detail})")
    return best[1]


def _unfit(host: Host, demand: Demand, cpu_used: int, memory_used: int) -> str | None:
    cluster = host.cluster
    if not cluster.quorate:
        return f"failover cluster {cluster.failover_name or cluster.name} has lost quorum"
    if host.status != "Up":
        return f"host is {host.status}"
    if host.resource_state != "Enabled":
        return f"host is {host.resource_state}"
    if cluster.allocation_state != "Enabled":
        return f"cluster {cluster.name} is {cluster.allocation_state}"
    missing = [t for t in demand.host_tags if t not in host.tag_list]
    if missing:
        return f"lacks host tag {', '.join(missing)}"
    cpu_total = host.cpus * host.cpu_speed * cluster.cpu_overcommit_ratio
    if demand.speed_mhz > host.cpu_speed or cpu_used + demand.cpus * demand.speed_mhz > cpu_total:
        return "not enough CPU"
    if demand.cpus > host.cpus:
        return f"has {host.cpus} cores"
    if memory_used + demand.memory_mb * MB > host.total_memory * cluster.memory_overcommit_ratio:
        return "not enough memory"
    return None


def require_host_in_zone(host: Host, zone: Zone) -> None:
    if host.zone_id != zone.id:
        raise param_error(f"Host {host.name} is not in zone {zone.name}")
