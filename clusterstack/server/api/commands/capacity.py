"""listCapacity: CPU, memory and primary storage, used against total, per zone, pod or cluster.

Figures are computed from the hosts and pools as they stand (CloudStack keeps an op_host_capacity table that
a background task refreshes; computing on demand gives the same answer without the lag). Type numbers and
names are CloudStack's Capacity.CAPACITY_TYPE_*.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import param_error
from clusterstack.server.api.listing import ListResponse, page_window
from clusterstack.server.api.lookup import optional_by_uuid
from clusterstack.server.api.registry import ADMIN, PAGING_PARAMS, Param, api_command, define_entity
from clusterstack.server.db.allocation import allocated_on_hosts, allocated_on_pools
from clusterstack.server.db.models.infrastructure import Cluster, Host, Pod, StoragePool, Zone

CAPACITY_TYPE_MEMORY = 0
CAPACITY_TYPE_CPU = 1
CAPACITY_TYPE_STORAGE = 2
CAPACITY_TYPE_STORAGE_ALLOCATED = 3
CAPACITY_NAMES = {
    CAPACITY_TYPE_MEMORY: "MEMORY",
    CAPACITY_TYPE_CPU: "CPU",
    CAPACITY_TYPE_STORAGE: "STORAGE",
    CAPACITY_TYPE_STORAGE_ALLOCATED: "STORAGE_ALLOCATED",
}
# hosts whose capacity counts: not in (or entering) maintenance, as CloudStack disables their capacity
_COUNTED_RESOURCE_STATES = ("Enabled", "Disabled", "Degraded", "ErrorInMaintenance")

define_entity("capacity", [
    ("type", "short", "the capacity type"),
    ("name", "string", "the capacity name"),
    ("zoneid", "string", "the Zone ID"),
    ("zonename", "string", "the Zone name"),
    ("podid", "string", "the Pod ID"),
    ("podname", "string", "the Pod name"),
    ("clusterid", "string", "the Cluster ID"),
    ("clustername", "string", "the Cluster name"),
    ("capacityallocated", "long", "the capacity currently in allocated"),
    ("capacityused", "long", "the capacity currently in use"),
    ("capacitytotal", "long", "the total capacity available"),
    ("percentused", "string", "the percentage of capacity currently in use"),
])


@dataclass(frozen=True)
class Scope:
    """Where capacity is summed: a zone, a pod or a cluster (exactly one id set)."""

    zone: Zone
    pod: Pod | None = None
    cluster: Cluster | None = None

    def hosts(self, query: Select[Any]) -> Select[Any]:
        query = query.where(Host.removed.is_(None), Host.resource_state.in_(_COUNTED_RESOURCE_STATES),
                            Host.zone_id == self.zone.id)
        if self.pod is not None:
            query = query.where(Host.pod_id == self.pod.id)
        if self.cluster is not None:
            query = query.where(Host.cluster_id == self.cluster.id)
        return query

    def pools(self, query: Select[Any]) -> Select[Any]:
        query = query.where(StoragePool.removed.is_(None), StoragePool.zone_id == self.zone.id)
        if self.pod is not None:
            query = query.where(StoragePool.pod_id == self.pod.id)
        if self.cluster is not None:
            query = query.where(StoragePool.cluster_id == self.cluster.id)
        return query

    def labels(self) -> dict[str, Any]:
        out: dict[str, Any] = {"zoneid": self.zone.uuid, "zonename": self.zone.name}
        if self.pod is not None:
            out.update(podid=self.pod.uuid, podname=self.pod.name)
        if self.cluster is not None:
            out.update(clusterid=self.cluster.uuid, clustername=self.cluster.name)
        return out


def decimal(value: float) -> str:
    """A number the way CloudStack's DecimalFormat("#.##") writes it: 12.5, 25, 0.33."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def percent(used: int, total: int) -> str:
    return "0" if total <= 0 else decimal(used * 100.0 / total)


def _entry(scope: Scope, kind: int, used: int, total: int, allocated: int | None = None) -> dict[str, Any]:
    return {
        "type": kind,
        "name": CAPACITY_NAMES[kind],
        **scope.labels(),
        "capacityallocated": allocated,
        "capacityused": int(used),
        "capacitytotal": int(total),
        "percentused": percent(int(used), int(total)),
    }


def capacities(db: Session, scope: Scope) -> list[dict[str, Any]]:
    """The four capacities of one zone, pod or cluster, in type order."""
    overcommit_mem = func.coalesce(Cluster.memory_overcommit_ratio, 1.0)
    overcommit_cpu = func.coalesce(Cluster.cpu_overcommit_ratio, 1.0)
    host_sums = db.execute(scope.hosts(select(
        func.coalesce(func.sum(Host.total_memory * overcommit_mem), 0),
        func.coalesce(func.sum(Host.cpus * Host.cpu_speed * overcommit_cpu), 0),
    ).join(Cluster, Cluster.id == Host.cluster_id))).one()
    held_sums = db.execute(scope.hosts(allocated_on_hosts())).one()
    pool_sums = db.execute(scope.pools(select(
        func.coalesce(func.sum(StoragePool.capacity_bytes), 0),
        func.coalesce(func.sum(StoragePool.used_bytes), 0),
    ))).one()
    disk_alloc = int(db.execute(scope.pools(allocated_on_pools())).scalar_one())
    mem_total, cpu_total = (int(v) for v in host_sums)
    cpu_alloc, mem_alloc = (int(v) for v in held_sums)
    disk_total, disk_used = (int(v) for v in pool_sums)
    return [
        _entry(scope, CAPACITY_TYPE_MEMORY, mem_alloc, mem_total, mem_alloc),
        _entry(scope, CAPACITY_TYPE_CPU, cpu_alloc, cpu_total, cpu_alloc),
        _entry(scope, CAPACITY_TYPE_STORAGE, disk_used, disk_total),
        _entry(scope, CAPACITY_TYPE_STORAGE_ALLOCATED, disk_alloc, disk_total, disk_alloc),
    ]


def capacity_list(db: Session, scope: Scope) -> list[dict[str, Any]]:
    """The `capacity` list of a zone, pod or cluster response (showcapacities=true)."""
    keep = ("type", "name", "zoneid", "zonename", "podid", "podname", "clusterid", "clustername",
            "capacityused", "capacitytotal", "percentused")
    return [{k: e[k] for k in keep if k in e} for e in capacities(db, scope)]


@api_command(
    "listCapacity", description="Lists all the system wide capacities.", response="capacity", roles=ADMIN,
    params=[
        Param("zoneid", "uuid", description="lists capacity by the Zone ID"),
        Param("podid", "uuid", description="lists capacity by the Pod ID"),
        Param("clusterid", "uuid", description="lists capacity by the Cluster ID"),
        Param("type", "integer", description="lists capacity by type* CAPACITY_TYPE_MEMORY = 0* CAPACITY_TYPE_CPU "
              "= 1* CAPACITY_TYPE_STORAGE = 2* CAPACITY_TYPE_STORAGE_ALLOCATED = 3"),
        Param("fetchlatest", "boolean", description="recalculate capacities and fetch the latest (figures are "
              "always current here)"),
        Param("sortby", description="Sort the results. Available values: Usage", choices=("usage",)),
        Param("tag", description="Tag for the resource type"),
        *PAGING_PARAMS,
    ],
)
def list_capacity(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    db = ctx.db
    zone = optional_by_uuid(db, Zone, p, "zoneid", "zone")
    pod = optional_by_uuid(db, Pod, p, "podid", "pod")
    cluster = optional_by_uuid(db, Cluster, p, "clusterid", "cluster")
    kind = p.get("type")
    if kind is not None and kind not in CAPACITY_NAMES:
        known = ", ".join(f"{n} = {k}" for k, n in CAPACITY_NAMES.items())
        raise param_error(f"Invalid parameter type value={kind}: capacity types are {known}")
    scopes: list[Scope]
    if cluster is not None:
        scopes = [Scope(cluster.zone, cluster.pod, cluster)]
    elif pod is not None:
        scopes = [Scope(pod.zone, pod)]
    elif zone is not None:
        scopes = [Scope(zone)]
    else:
        zones = db.scalars(select(Zone).where(Zone.removed.is_(None)).order_by(Zone.id))
        scopes = [Scope(z) for z in zones]
    entries = [e for s in scopes for e in capacities(db, s) if kind is None or e["type"] == kind]
    if p.get("sortby") == "usage":
        entries.sort(key=lambda e: float(e["percentused"]), reverse=True)
    offset, limit = page_window(db, p) or (0, len(entries))
    return ListResponse("capacity", entries[offset:offset + limit], len(entries))
