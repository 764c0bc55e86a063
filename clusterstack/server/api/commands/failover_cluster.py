"""Failover Cluster Manager's views through the API: the failover cluster behind a cluster, its nodes, roles and
disks (listFailoverClusters, listFailoverClusterNodes, listFailoverClusterRoles, listFailoverClusterDisks).

Admin only. Each answer is what the failover cluster reports right now, joined with the CloudStack rows it
stands for (a node's host, a role's instance, a CSV's primary storage). Reading works without quorum (the
views then show what is down); an unreachable cluster is listed as Unreachable by listFailoverClusters and
refused (534) by the per-cluster lists. The cluster's event log is in failover_cluster_events.py, the
operations (move a role, suspend and resume a node) in failover_cluster_actions.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select

from clusterstack.hypervisor.base import ClusterReport, DiskReport, DriverError, NodeReport, RoleReport
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import param_error
from clusterstack.server.api.listing import ListResponse, page_window, paged
from clusterstack.server.api.lookup import find_by_uuid, keyword_pattern
from clusterstack.server.api.registry import ADMIN, PAGING_PARAMS, Param, api_command, define_entity
from clusterstack.server.db.models.infrastructure import HYPERVISOR_HYPERV, Cluster, Host, StoragePool
from clusterstack.server.db.models.instances import VMInstance
from clusterstack.server.orchestration.cluster_access import as_api_error, follower_service

ROLE_TYPE = "Virtual Machine"  # the only kind of role clusterstack runs
WITNESS_DISK = "Disk Witness in Quorum"
# Get-ClusterQuorum's QuorumType as Failover Cluster Manager words it
QUORUM_MODEL_NAMES = {
    "NodeMajority": "Node Majority",
    "NodeAndDiskMajority": "Node and Disk Majority",
    "NodeAndFileShareMajority": "Node and File Share Majority",
    "NodeAndCloudMajority": "Node and Cloud Witness Majority",
    "CloudWitness": "Node and Cloud Witness Majority",
    "DiskOnly": "No Majority: Disk Only",
}

CLUSTER_FIELDS = [("clusterid", "string", "the ID of the CloudStack cluster"),
                  ("clustername", "string", "the name of the CloudStack cluster")]
define_entity("failovercluster", [
    *CLUSTER_FIELDS,
    ("zoneid", "string", "the zone ID of the cluster"),
    ("zonename", "string", "the zone name of the cluster"),
    ("podid", "string", "the pod ID of the cluster"),
    ("podname", "string", "the pod name of the cluster"),
    ("name", "string", "the failover cluster's name, e.g. CI1"),
    ("address", "string", "the failover cluster's management address"),
    ("state", "string", "Reachable, or Unreachable when the failover cluster does not answer"),
    ("information", "string", "why the failover cluster is Unreachable"),
    ("quorumstate", "string", "Up, or Lost when the cluster has no majority of votes"),
    ("quorummodel", "string", "the quorum configuration, e.g. Node and Disk Majority"),
    ("witness", "string", "the witness disk, when the quorum has one"),
    ("votes", "integer", "the votes present (nodes and witness)"),
    ("votesneeded", "integer", "the votes needed for quorum"),
    ("nodecount", "integer", "the number of nodes"),
    ("nodesup", "integer", "the nodes in active membership (Up or Paused)"),
    ("rolecount", "integer", "the number of roles"),
    ("rolesonline", "integer", "the roles that are Online"),
])
define_entity("failoverclusternode", [
    ("name", "string", "the node's name"),
    ("status", "string", "Up, Down, Paused, Joining, Isolated or Quarantined"),
    ("assignedvote", "integer", "the node's assigned vote (NodeWeight)"),
    ("currentvote", "integer", "the node's current vote (DynamicWeight)"),
    ("drainstatus", "string", "NotInitiated, InProgress, Completed or Failed"),
    ("memorytotal", "long", "the node's memory in MB"),
    ("memoryused", "long", "the node's memory in use in MB"),
    ("cpunumber", "integer", "the node's logical processors"),
    ("hostid", "string", "the CloudStack host of this node, if added"),
    ("hostname", "string", "the name of the CloudStack host of this node, if added"),
    *CLUSTER_FIELDS,
])
define_entity("failoverclusterrole", [
    ("name", "string", "the role's name (the instance's internal name)"),
    ("status", "string", "Online, Offline, Failed, PartialOnline or Pending"),
    ("type", "string", "the role's type: Virtual Machine"),
    ("ownernode", "string", "the node that owns the role"),
    ("priority", "string", "High, Medium, Low or No Auto Start"),
    ("priorityvalue", "integer", "the priority as a number: 3000, 2000, 1000 or 0"),
    ("information", "string", "what the cluster says about the role (e.g. why it failed)"),
    ("failoverthreshold", "integer", "the most failovers the cluster makes within the failover period before it "
     "leaves the role Failed (FailoverThreshold; the cluster's default is the number of nodes - 1)"),
    ("failoverperiod", "double", "the failover period in hours (FailoverPeriod)"),
    ("recentfailovers", "integer", "the failovers counted within the failover period, when the cluster tells"),
    ("vmstate", "string", "the virtual machine's state: Running, Off, Saved, Migrating, ..."),
    ("memory", "integer", "the virtual machine's memory in MB"),
    ("cpunumber", "integer", "the virtual machine's processors"),
    ("virtualmachineid", "string", "the CloudStack instance this role runs, if any"),
    ("virtualmachinename", "string", "the name of that instance"),
    ("displayname", "string", "the display name of that instance"),
    *CLUSTER_FIELDS,
])
define_entity("failoverclusterdisk", [
    ("name", "string", "the cluster disk's name"),
    ("status", "string", "Online, Offline or Failed"),
    ("assignedto", "string", "Cluster Shared Volume, Disk Witness in Quorum or Available Storage"),
    ("ownernode", "string", "the node that owns (coordinates) the disk"),
    ("disknumber", "integer", "the disk number"),
    ("capacity", "long", "the capacity in bytes"),
    ("freespace", "long", "the free space in bytes"),
    ("path", "string", r"the CSV's path, e.g. C:\ClusterStorage\Volume1"),
    ("redirectednodes", "list", "the nodes that reach the CSV in redirected access"),
    ("storageid", "string", "the primary storage on this CSV, if added"),
    ("storagename", "string", "the name of that primary storage"),
    *CLUSTER_FIELDS,
])

CLUSTER_ID = Param("clusterid", "uuid", required=True, description="the ID of the cluster (its failover cluster)")


# ---- the cluster and its report -----------------------------------------------------------------------------

def is_failover_cluster(cluster: Cluster) -> bool:
    return cluster.hypervisor_type == HYPERVISOR_HYPERV and bool(cluster.failover_address)


def failover_cluster_of(ctx: CallContext, p: dict[str, Any]) -> Cluster:
    """The cluster `clusterid` names; 431 unless it is a Hyper-V cluster linked to a failover cluster."""
    cluster = find_by_uuid(ctx.db, Cluster, p["clusterid"], "cluster", "clusterid")
    if not is_failover_cluster(cluster):
        raise param_error(f"Invalid parameter clusterid value={p['clusterid']}: cluster {cluster.name} is not a "
                          "Hyper-V failover cluster (it has no failover cluster address)")
    return cluster


def cluster_report(ctx: CallContext, cluster: Cluster) -> ClusterReport:
    """What the failover cluster reports now, quorate or not; 534 when it does not answer."""
    try:
        return follower_service(ctx.server).driver_for(cluster).report()
    except DriverError as exc:
        raise as_api_error(exc, cluster) from None


def page_of(ctx: CallContext, entity: str, items: list[dict[str, Any]], p: dict[str, Any]) -> ListResponse:
    offset, limit = page_window(ctx.db, p) or (0, len(items))
    return ListResponse(entity, items[offset:offset + limit], len(items))


def matches(keyword: str | None, *texts: str | None) -> bool:
    if not keyword:
        return True
    word = keyword.lower()
    return any(word in text.lower() for text in texts if text)


def cluster_fields(cluster: Cluster) -> dict[str, Any]:
    return {"clusterid": cluster.uuid, "clustername": cluster.name}


def quorum_model_name(model: str) -> str:
    if model in QUORUM_MODEL_NAMES:
        return QUORUM_MODEL_NAMES[model]
    words = re.findall(r"[A-Z][a-z]*|[a-z]+", model)
    return " ".join(w if i == 0 else w.lower() if w in ("And", "Only") else w for i, w in enumerate(words))


def hosts_by_node(ctx: CallContext, cluster: Cluster) -> dict[str, Host]:
    hosts = ctx.db.scalars(select(Host).where(Host.cluster_id == cluster.id, Host.removed.is_(None)))
    return {h.node_name.lower(): h for h in hosts if h.node_name}


def instances_by_role(ctx: CallContext, names: Iterable[str]) -> dict[str, VMInstance]:
    """The live instances whose internal names are these role names."""
    wanted = list(set(names))
    if not wanted:
        return {}
    rows = ctx.db.scalars(select(VMInstance).where(VMInstance.instance_name.in_(wanted),
                                                   VMInstance.removed.is_(None)))
    return {vm.instance_name: vm for vm in rows if vm.instance_name}


# ---- rendering ----------------------------------------------------------------------------------------------

def render_failover_cluster(cluster: Cluster, report: ClusterReport | None, problem: str = "") -> dict[str, Any]:
    answer: dict[str, Any] = {
        **cluster_fields(cluster),
        "zoneid": cluster.zone.uuid, "zonename": cluster.zone.name,
        "podid": cluster.pod.uuid, "podname": cluster.pod.name,
        "name": report.name if report is not None else cluster.failover_name,
        "address": cluster.failover_address,
    }
    if report is None:
        return {**answer, "state": "Unreachable", "information": problem}
    witness = next((d.name for d in report.disks if d.assigned_to == WITNESS_DISK), None)
    return {
        **answer,
        "state": "Reachable",
        "quorumstate": report.quorum.state,
        "quorummodel": quorum_model_name(report.quorum.model),
        "witness": witness,
        "votes": report.quorum.votes,
        "votesneeded": report.quorum.votes_needed,
        "nodecount": len(report.nodes),
        "nodesup": sum(1 for n in report.nodes if n.state in ("Up", "Paused")),
        "rolecount": len(report.roles),
        "rolesonline": sum(1 for r in report.roles if r.state == "Online"),
    }


def render_node(cluster: Cluster, node: NodeReport, host: Host | None) -> dict[str, Any]:
    return {
        "name": node.name, "status": node.state, "assignedvote": node.assigned_vote,
        "currentvote": node.current_vote, "drainstatus": node.drain_status, "memorytotal": node.memory_mb,
        "memoryused": node.memory_used_mb, "cpunumber": node.cpus,
        "hostid": host.uuid if host else None, "hostname": host.name if host else None,
        **cluster_fields(cluster),
    }


def failover_threshold(role: RoleReport, nodecount: int | None) -> int | None:
    """The role's FailoverThreshold in force: its own, or the cluster's default of nodes - 1 (at least 1)."""
    if role.failover_threshold is not None:
        return role.failover_threshold
    return None if nodecount is None else max(nodecount - 1, 1)


def render_role(cluster: Cluster, role: RoleReport, vm: VMInstance | None,
                nodecount: int | None = None) -> dict[str, Any]:
    return {
        "name": role.name, "status": role.state, "type": ROLE_TYPE, "ownernode": role.owner_node,
        "priority": role.priority_name, "priorityvalue": role.priority, "information": role.information,
        "failoverthreshold": failover_threshold(role, nodecount), "failoverperiod": role.failover_period_hours,
        "recentfailovers": role.recent_failovers or None,
        "vmstate": role.vm_state, "memory": role.memory_mb, "cpunumber": role.cpus,
        "virtualmachineid": vm.uuid if vm else None, "virtualmachinename": vm.name if vm else None,
        "displayname": (vm.display_name or vm.name) if vm else None,
        **cluster_fields(cluster),
    }


def render_disk(cluster: Cluster, disk: DiskReport, pool: StoragePool | None) -> dict[str, Any]:
    return {
        "name": disk.name, "status": disk.state, "assignedto": disk.assigned_to, "ownernode": disk.owner_node,
        "disknumber": disk.disk_number, "capacity": disk.capacity_bytes, "freespace": disk.free_bytes,
        "path": disk.path, "redirectednodes": list(disk.redirected_nodes) or None,
        "storageid": pool.uuid if pool else None, "storagename": pool.name if pool else None,
        **cluster_fields(cluster),
    }


def node_answer(ctx: CallContext, cluster: Cluster, node: NodeReport) -> dict[str, Any]:
    return render_node(cluster, node, hosts_by_node(ctx, cluster).get(node.name.lower()))


def role_answer(ctx: CallContext, cluster: Cluster, role: RoleReport) -> dict[str, Any]:
    return render_role(cluster, role, instances_by_role(ctx, [role.name]).get(role.name))


# ---- the lists ----------------------------------------------------------------------------------------------

@api_command(
    "listFailoverClusters", roles=ADMIN, response="failovercluster",
    description="Lists the failover clusters behind Hyper-V clusters, with their quorum, nodes and roles counted "
    "(Failover Cluster Manager's cluster summary). A cluster that does not answer is listed as Unreachable.",
    params=[Param("clusterid", "uuid", description="the ID of the cluster"), *PAGING_PARAMS],
)
def list_failover_clusters(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    query = select(Cluster).where(Cluster.removed.is_(None), Cluster.hypervisor_type == HYPERVISOR_HYPERV,
                                  Cluster.failover_address.is_not(None)).order_by(Cluster.id)
    if "clusterid" in p:
        query = query.where(Cluster.id == failover_cluster_of(ctx, p).id)
    if p.get("keyword"):
        pattern = keyword_pattern(p["keyword"])
        query = query.where(or_(Cluster.name.ilike(pattern, escape="\\"),
                                Cluster.failover_name.ilike(pattern, escape="\\")))
    clusters, total = paged(ctx.db, query, p)
    items = []
    for cluster in clusters:
        try:
            report = follower_service(ctx.server).driver_for(cluster).report()
        except DriverError as exc:
            items.append(render_failover_cluster(cluster, None, str(exc)))
        else:
            items.append(render_failover_cluster(cluster, report))
    return ListResponse("failovercluster", items, total)


@api_command(
    "listFailoverClusterNodes", roles=ADMIN, response="failoverclusternode",
    description="Lists the nodes of a cluster's failover cluster: status, votes, drain status, memory, and the "
    "CloudStack host of each (Failover Cluster Manager's Nodes view).",
    params=[CLUSTER_ID, Param("name", description="the node's name"), *PAGING_PARAMS],
)
def list_failover_cluster_nodes(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    cluster = failover_cluster_of(ctx, p)
    report = cluster_report(ctx, cluster)
    hosts = hosts_by_node(ctx, cluster)
    wanted = p.get("name", "").lower()
    items = [render_node(cluster, n, hosts.get(n.name.lower())) for n in report.nodes
             if (not wanted or n.name.lower() == wanted) and matches(p.get("keyword"), n.name, n.state)]
    return page_of(ctx, "failoverclusternode", items, p)


@api_command(
    "listFailoverClusterRoles", roles=ADMIN, response="failoverclusterrole",
    description="Lists the roles of a cluster's failover cluster: status, owner node, priority, and the "
    "CloudStack instance each runs (Failover Cluster Manager's Roles view).",
    params=[CLUSTER_ID, Param("name", description="the role's name (an instance's internal name)"),
            Param("node", description="only the roles this node owns"), *PAGING_PARAMS],
)
def list_failover_cluster_roles(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    cluster = failover_cluster_of(ctx, p)
    report = cluster_report(ctx, cluster)
    vms = instances_by_role(ctx, (r.name for r in report.roles))
    wanted = p.get("name", "").lower()
    items = []
    for role in report.roles:
        vm = vms.get(role.name)
        if wanted and role.name.lower() != wanted:
            continue
        if "node" in p and (role.owner_node or "").lower() != p["node"].lower():
            continue
        if not matches(p.get("keyword"), role.name, role.owner_node, role.state, vm.name if vm else None,
                       vm.display_name if vm else None):
            continue
        items.append(render_role(cluster, role, vm, len(report.nodes)))
    return page_of(ctx, "failoverclusterrole", items, p)


@api_command(
    "listFailoverClusterDisks", roles=ADMIN, response="failoverclusterdisk",
    description="Lists the disks of a cluster's failover cluster: CSVs, the witness disk and available storage, "
    "with owner node, capacity and free space (Failover Cluster Manager's Storage > Disks view).",
    params=[CLUSTER_ID, *PAGING_PARAMS],
)
def list_failover_cluster_disks(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    cluster = failover_cluster_of(ctx, p)
    report = cluster_report(ctx, cluster)
    pools = {pool.path.rstrip("\\").lower(): pool for pool in ctx.db.scalars(
        select(StoragePool).where(StoragePool.cluster_id == cluster.id, StoragePool.removed.is_(None)))}
    items = [render_disk(cluster, d, pools.get((d.path or "").rstrip("\\").lower()) if d.path else None)
             for d in report.disks
             if matches(p.get("keyword"), d.name, d.assigned_to, d.path, d.owner_node)]
    return page_of(ctx, "failoverclusterdisk", items, p)
