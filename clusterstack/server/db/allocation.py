"""Allocated capacity, derived from what holds it: a host's CPU and memory from the instances placed on it, a
primary storage pool's allocated bytes from the volumes on it.

Nothing keeps a running total. A total kept in the host or pool row went stale whenever the failover cluster
moved instances by itself (failover, drain, a move made in Failover Cluster Manager), and every deploy, destroy and
sync pass that updated it contended for the same rows, which deadlocked on PostgreSQL under load. Deriving it
answers from the rows that are the truth, and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from clusterstack.server.db.models.infrastructure import Host, StoragePool
from clusterstack.server.db.models.instances import VMInstance, Volume

MB = 1024 * 1024
ALLOCATING_STATES = ("Starting", "Running", "Migrating", "Stopping")  # an instance in these holds its host's CPU/RAM


@dataclass(frozen=True)
class HostAllocation:
    cpu_mhz: int = 0
    memory_bytes: int = 0


_PLACED = VMInstance.removed.is_(None) & VMInstance.state.in_(ALLOCATING_STATES)
_HELD = Volume.removed.is_(None) & Volume.pool_id.is_not(None)


def host_allocations(db: Session, host_ids: Iterable[int]) -> dict[int, HostAllocation]:
    """CPU (MHz) and memory (bytes) promised to the instances placed on each host, in one query."""
    ids = list(set(host_ids))
    if not ids:
        return {}
    rows = db.execute(
        select(VMInstance.host_id, func.sum(VMInstance.cpu * VMInstance.speed), func.sum(VMInstance.ram_size))
        .where(_PLACED, VMInstance.host_id.in_(ids)).group_by(VMInstance.host_id))
    found = {host_id: HostAllocation(int(cpu or 0), int(memory or 0) * MB) for host_id, cpu, memory in rows}
    return {host_id: found.get(host_id, HostAllocation()) for host_id in ids}


def host_allocation(db: Session, host_id: int) -> HostAllocation:
    return host_allocations(db, [host_id])[host_id]


def allocated_on_hosts() -> Select[Any]:
    """CPU (MHz) and memory (bytes) promised on a set of hosts: add the hosts' WHERE (on Host) to narrow it."""
    return (select(func.coalesce(func.sum(VMInstance.cpu * VMInstance.speed), 0),
                   func.coalesce(func.sum(VMInstance.ram_size), 0) * MB)
            .select_from(Host).join(VMInstance, (VMInstance.host_id == Host.id) & _PLACED))


def allocated_on_pools() -> Select[Any]:
    """Bytes allocated on a set of primary storage pools: add the pools' WHERE (on StoragePool) to narrow it."""
    return (select(func.coalesce(func.sum(Volume.size), 0))
            .select_from(StoragePool).join(Volume, (Volume.pool_id == StoragePool.id) & _HELD))


def pool_allocations(db: Session, pool_ids: Iterable[int]) -> dict[int, int]:
    """Bytes allocated on each primary storage pool: the sizes of the volumes on it that are not expunged."""
    ids = list(set(pool_ids))
    if not ids:
        return {}
    rows = db.execute(select(Volume.pool_id, func.sum(Volume.size)).where(_HELD, Volume.pool_id.in_(ids))
                      .group_by(Volume.pool_id))
    found = {pool_id: int(size or 0) for pool_id, size in rows}
    return {pool_id: found.get(pool_id, 0) for pool_id in ids}


def pool_allocation(db: Session, pool_id: int) -> int:
    return pool_allocations(db, [pool_id])[pool_id]
