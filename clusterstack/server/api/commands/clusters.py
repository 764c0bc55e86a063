"""Clusters: listClusters, updateCluster, deleteCluster. One cluster is one Hyper-V failover cluster.

addCluster (which reads the failover cluster through the driver) arrives with the Hyper-V work; it creates
rows of db.models.infrastructure.Cluster and answers with `render_cluster`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clusterstack.server import events
from clusterstack.server.api.commands.capacity import Scope, capacity_list
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import in_use, param_error
from clusterstack.server.api.listing import ListResponse, paged_list
from clusterstack.server.api.lookup import (
    filter_row_id,
    find_by_uuid,
    keyword_pattern,
    matches_hypervisor,
    matches_value,
)
from clusterstack.server.api.registry import ADMIN, PAGING_PARAMS, Param, api_command, define_entity
from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.infrastructure import (
    ALLOCATION_STATES,
    CLUSTER_TYPES,
    HYPERVISOR_SPELLINGS,
    MANAGED_STATES,
    Cluster,
    Pod,
    Zone,
)
from clusterstack.server.db.references import describe_usages, usages
from clusterstack.server.orchestration.admission import headroom_fields

# CloudStack records no event for cluster changes; clusterstack does, under these names.
EVENT_CLUSTER_CREATE = "CLUSTER.CREATE"
EVENT_CLUSTER_UPDATE = "CLUSTER.UPDATE"
EVENT_CLUSTER_DELETE = "CLUSTER.DELETE"

define_entity("cluster", [
    ("id", "string", "the cluster ID"),
    ("name", "string", "the cluster name"),
    ("podid", "string", "the Pod ID of the cluster"),
    ("podname", "string", "the Pod name of the cluster"),
    ("zoneid", "string", "the Zone ID of the cluster"),
    ("zonename", "string", "the Zone name of the cluster"),
    ("hypervisortype", "string", "the hypervisor type of the cluster"),
    ("clustertype", "string", "the type of the cluster"),
    ("allocationstate", "string", "the allocation state of the cluster"),
    ("managedstate", "string", "whether this cluster is managed by cloudstack"),
    ("cpuovercommitratio", "string", "The cpu overcommit ratio of the cluster"),
    ("memoryovercommitratio", "string", "The memory overcommit ratio of the cluster"),
    ("resourcedetails", "map", "Meta data associated with the zone (key/value pairs)"),
    ("arch", "string", "CPU Arch of the hosts in the cluster"),
    ("hasannotations", "boolean", "true if the entity/resource has annotations"),
    ("capacity", "list", "the capacity of the Cluster"),
    ("haadmissionfailures", "integer", "HA admission control: node failures HA instances must survive (0: off)"),
    ("hafailurestolerated", "integer", "the node failures hasurvivesfailures and haheadroommb are computed for"),
    ("hasurvivesfailures", "boolean", "true when the loss of any hafailurestolerated nodes leaves every HA "
     "instance a place"),
    ("haheadroommb", "long", "HA headroom: memory (MB) of HA instances that could still be added while surviving "
     "the loss of any hafailurestolerated nodes"),
    ("harolesatrisk", "list", "the failover-cluster roles (instances' internal names) of HA instances a loss of "
     "hafailurestolerated nodes would leave down, when there is such a loss"),
])


def cluster_holding(db: Session, failover_name: str) -> Cluster | None:
    """The live cluster that already is this failover cluster (names compared case-insensitively), if any:
    addCluster refuses a second cluster for one failover cluster."""
    def short(name: str) -> str:
        return name.split(".", 1)[0].strip().lower()

    wanted = short(failover_name)
    candidates = db.scalars(select(Cluster).where(Cluster.failover_name.is_not(None), Cluster.removed.is_(None))
                            .order_by(Cluster.id))
    return next((c for c in candidates if short(c.failover_name or "") == wanted), None)


def _ratio(value: float) -> str:
    return f"{value:g}"


def render_cluster(db: Session, cluster: Cluster, *, show_capacities: bool = False) -> dict[str, Any]:
    details: dict[str, str] = {
        "cpuOvercommitRatio": _ratio(cluster.cpu_overcommit_ratio),
        "memoryOvercommitRatio": _ratio(cluster.memory_overcommit_ratio),
    }
    if cluster.failover_name:
        details["failoverClusterName"] = cluster.failover_name
    if cluster.failover_address:
        details["failoverClusterAddress"] = cluster.failover_address
    out: dict[str, Any] = {
        "id": cluster.uuid,
        "name": cluster.name,
        "podid": cluster.pod.uuid,
        "podname": cluster.pod.name,
        "zoneid": cluster.zone.uuid,
        "zonename": cluster.zone.name,
        "hypervisortype": cluster.hypervisor_type,
        "clustertype": cluster.cluster_type,
        "allocationstate": cluster.allocation_state,
        "managedstate": cluster.managed_state,
        "cpuovercommitratio": _ratio(cluster.cpu_overcommit_ratio),
        "memoryovercommitratio": _ratio(cluster.memory_overcommit_ratio),
        "resourcedetails": details,
        "arch": "x86_64",
        "hasannotations": False,
    }
    if show_capacities:
        out["capacity"] = capacity_list(db, Scope(cluster.zone, cluster.pod, cluster))
    return out


@api_command(
    "listClusters", description="Lists clusters.", response="cluster", roles=ADMIN,
    params=[
        Param("id", "uuid", description="lists clusters by the cluster ID"),
        Param("name", description="lists clusters by the cluster name"),
        Param("podid", "uuid", description="lists clusters by Pod ID"),
        Param("zoneid", "uuid", description="lists clusters by Zone ID"),
        Param("hypervisor", description="lists clusters by hypervisor type"),
        Param("clustertype", description="lists clusters by cluster type"),
        Param("allocationstate", description="lists clusters by allocation state"),
        Param("managedstate", description="whether this cluster is managed by cloudstack"),
        Param("showcapacities", "boolean", description="flag to display the capacity of the clusters"),
        *PAGING_PARAMS,
    ],
)
def list_clusters(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    db = ctx.db
    query = select(Cluster).where(Cluster.removed.is_(None)).order_by(Cluster.id)
    if "id" in p:
        query = query.where(Cluster.uuid == p["id"])
    if "name" in p:
        query = query.where(Cluster.name == p["name"])
    if "podid" in p:
        query = query.where(Cluster.pod_id == filter_row_id(db, Pod, p["podid"], "pod", "podid"))
    if "zoneid" in p:
        query = query.where(Cluster.zone_id == filter_row_id(db, Zone, p["zoneid"], "zone", "zoneid"))
    if "hypervisor" in p:
        query = query.where(matches_hypervisor(Cluster.hypervisor_type, p["hypervisor"]))
    if "clustertype" in p:
        query = query.where(matches_value(Cluster.cluster_type, p["clustertype"], CLUSTER_TYPES))
    if "allocationstate" in p:
        query = query.where(matches_value(Cluster.allocation_state, p["allocationstate"], ALLOCATION_STATES))
    if "managedstate" in p:
        query = query.where(matches_value(Cluster.managed_state, p["managedstate"], MANAGED_STATES))
    if "keyword" in p:
        query = query.where(Cluster.name.ilike(keyword_pattern(p["keyword"]), escape="\\"))
    show = bool(p.get("showcapacities"))
    return paged_list(db, "cluster", query, p, lambda c: {**render_cluster(db, c, show_capacities=show),
                                                          **headroom_fields(ctx.server, db, c)})


@api_command(
    "updateCluster", description="Updates an existing cluster", response="cluster", roles=ADMIN,
    params=[
        Param("id", "uuid", required=True, description="the ID of the Cluster"),
        Param("clustername", description="the cluster name"),
        Param("allocationstate", description="Allocation state of this cluster for allocation of new resources",
              choices=ALLOCATION_STATES),
        Param("clustertype", description="hypervisor type of the cluster", choices=CLUSTER_TYPES),
        Param("hypervisor", description="hypervisor type of the cluster", choices=HYPERVISOR_SPELLINGS),
        Param("managedstate", description="whether this cluster is managed by cloudstack",
              choices=("Managed", "Unmanaged")),
    ],
)
def update_cluster(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    cluster = find_by_uuid(db, Cluster, p["id"], "cluster")
    if "clustername" in p:
        name = p["clustername"].strip()
        if not name:
            raise param_error("Invalid parameter clustername: a cluster name cannot be blank")
        clash = db.scalar(select(Cluster.id).where(
            Cluster.pod_id == cluster.pod_id, func.lower(Cluster.name) == name.lower(), Cluster.id != cluster.id,
            Cluster.removed.is_(None)))
        if clash is not None:
            raise param_error(f"A cluster with name {name} already exists in pod {cluster.pod.name}")
        cluster.name = name
    if "allocationstate" in p:
        cluster.allocation_state = p["allocationstate"]
    if "managedstate" in p:
        cluster.managed_state = p["managedstate"]
    # clustertype and hypervisor accept only the values a Hyper-V failover cluster has, so nothing changes
    events.record_event(db, EVENT_CLUSTER_UPDATE, f"Successfully updated cluster {cluster.name}", ctx.actor,
                        resource_type="Cluster", resource_uuid=cluster.uuid, resource_name=cluster.name)
    return {"cluster": render_cluster(db, cluster)}


@api_command(
    "deleteCluster", description="Deletes a cluster.", response="success", roles=ADMIN,
    params=[Param("id", "uuid", required=True, description="the cluster ID")],
)
def delete_cluster(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    cluster = find_by_uuid(db, Cluster, p["id"], "cluster")
    found = usages(db, Cluster.__table__, cluster.id)  # type: ignore[arg-type]
    if found:
        raise in_use(f"Cluster {cluster.name} cannot be deleted: it still has {describe_usages(found)}")
    cluster.removed = utcnow()
    events.record_event(db, EVENT_CLUSTER_DELETE, f"Successfully deleted cluster {cluster.name}", ctx.actor,
                        resource_type="Cluster", resource_uuid=cluster.uuid, resource_name=cluster.name)
    return {"success": True}
