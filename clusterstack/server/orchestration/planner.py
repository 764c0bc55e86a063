"""The deploy planner: which host (and which primary storage) a new instance goes to.

A host qualifies when it is Up and Enabled, in an Enabled cluster whose failover cluster has quorum, carries the
offering's host tags, and has the CPU and memory left (its cluster's overcommit ratios applied); its cluster
needs primary storage with room for the instance's disks. Of those, the host with the most free memory wins, so
instances spread the way the failover cluster itself would place them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from clusterstack.server.api.errors import insufficient_capacity, param_error
from clusterstack.server.db.models.infrastructure import Cluster, Host, StoragePool, Zone
from clusterstack.server.db.models.instances import VMInstance

MB = 1024 * 1024
ALLOCATING_STATES = ("Starting", "Running", "Migrating", "Stopping")  # an instance in these holds its host's CPU/RAM


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


def allocated(db: Session, host_id: int) -> tuple[int, int]:
    """CPU (MHz) and memory (bytes) promised to the instances placed on a host."""
    cpu, memory = db.execute(
        select(func.coalesce(func.sum(VMInstance.cpu * VMInstance.speed), 0),
               func.coalesce(func.sum(VMInstance.ram_size), 0))
        .where(VMInstance.host_id == host_id, VMInstance.removed.is_(None),
               VMInstance.state.in_(ALLOCATING_STATES))
    ).one()
    return int(cpu), int(memory) * MB


def refresh_allocation(db: Session, host: Host) -> None:
    host.cpu_allocated, host.memory_allocated = allocated(db, host.id)


def refresh_allocation_of(db: Session, host_id: int) -> None:
    """`refresh_allocation` by id, in one UPDATE (no Host loaded); a Host already in the session is refreshed."""
    placed = (VMInstance.host_id == Host.id) & VMInstance.removed.is_(None) & \
        VMInstance.state.in_(ALLOCATING_STATES)
    cpu = select(func.coalesce(func.sum(VMInstance.cpu * VMInstance.speed), 0)).where(placed).scalar_subquery()
    memory = select(func.coalesce(func.sum(VMInstance.ram_size), 0)).where(placed).scalar_subquery()
    db.execute(update(Host).where(Host.id == host_id).values(cpu_allocated=cpu, memory_allocated=memory * MB)
               .execution_options(synchronize_session="fetch"))


def pool_room(pool: StoragePool) -> int:
    return pool.capacity_bytes - max(pool.used_bytes, pool.allocated_bytes)


def _pools_for(db: Session, cluster: Cluster) -> list[StoragePool]:
    return list(db.scalars(
        select(StoragePool).where(
            StoragePool.removed.is_(None), StoragePool.status == "Up",
            ((StoragePool.cluster_id == cluster.id) |
             ((StoragePool.scope == "ZONE") & (StoragePool.zone_id == cluster.zone_id))))
        .order_by(StoragePool.id)))


def plan(db: Session, zone: Zone, demand: Demand, *, host: Host | None = None,
         cluster: Cluster | None = None) -> Placement:
    query = select(Host).where(Host.zone_id == zone.id, Host.removed.is_(None)).order_by(Host.id)
    if host is not None:
        query = query.where(Host.id == host.id)
    if cluster is not None:
        query = query.where(Host.cluster_id == cluster.id)
    reasons: list[str] = []
    best: tuple[int, Placement] | None = None
    pools_of: dict[int, list[StoragePool]] = {}  # per cluster: its hosts share its storage
    for candidate in db.scalars(query):
        cpu_used, memory_used = allocated(db, candidate.id)
        why = _unfit(candidate, demand, cpu_used, memory_used)
        if why:
            reasons.append(f"{candidate.name}: {why}")
            continue
        if candidate.cluster_id not in pools_of:
            pools_of[candidate.cluster_id] = _pools_for(db, candidate.cluster)
        pools = [p for p in pools_of[candidate.cluster_id] if pool_room(p) >= demand.disk_bytes]
        if not pools:
            reasons.append(f"{candidate.name}: no primary storage of cluster {candidate.cluster.name} has "
                           f"{demand.disk_bytes // (1024**3)} GB free")
            continue
        pool = max(pools, key=lambda p: (pool_room(p), -p.id))
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
