"""rehearseFailoverClusterFailure: what the failover cluster will do when nodes (and disks) fail, before they do.

Root admin only and synchronous; it never changes the cluster. The rehearsal itself lives in
orchestration/rehearsal.py (the failover engine on a copy of the live state); this command parses the nodes (names
or host ids) and disks, and renders the answer with the instances and hosts the roles and nodes stand for.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from clusterstack.failover.rehearsal import NodeAfter, RoleFate
from clusterstack.hypervisor.base import PRIORITY_NAMES
from clusterstack.server.api.commands.failover_cluster import (
    CLUSTER_FIELDS,
    CLUSTER_ID,
    cluster_fields,
    failover_cluster_of,
    hosts_by_node,
    instances_by_role,
)
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import param_error
from clusterstack.server.api.registry import ADMIN, Param, api_command, define_entity
from clusterstack.server.db.models.infrastructure import Cluster, Host
from clusterstack.server.orchestration.rehearsal import rehearse_failure

UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MAX_NAMES = 64

define_entity("failoverclusterrehearsal", [
    *CLUSTER_FIELDS,
    ("name", "string", "the failover cluster's name, e.g. CI1"),
    ("profile", "string", "the failover timings rehearsed with: 2016 or 2012R2"),
    ("failednodes", "list", "the nodes the rehearsal crashed"),
    ("faileddisks", "list", "the cluster disks the rehearsal failed"),
    ("quorumbefore", "map", "state, hasquorum, votes, votesneeded before the failure"),
    ("quorumafter", "map", "state, hasquorum, votes, votesneeded once the failover has settled"),
    ("survives", "boolean", "quorum holds and no role that ran stays down (No Auto Start roles aside)"),
    ("settledafterseconds", "double", "seconds after the failure when the last restart is done"),
    ("restartorder", "list", "the roles brought online, first first"),
    ("stranded", "list", "the roles that ran (or wanted to) and stay down"),
    ("strandedcount", "integer", "how many roles stay down"),
    ("unaffectedcount", "integer", "the roles the failure does not touch (left out of role unless listall)"),
    ("node", "list", "every node afterwards: name, status, failed, memorytotal, memoryused, memoryfree (MB), "
     "rolecount, runningcount, hostid, hostname"),
    ("role", "list", "each role's fate: name, priority, priorityvalue, memory, ownernodebefore, statusbefore, "
     "ownernode, status, vmstate, staysdown, reason, onlineafterseconds, restartorder, information, "
     "antiaffinityclash, affected, virtualmachineid, virtualmachinename, displayname"),
])


def _names(raw: Any, what: str) -> list[str]:
    values = raw if isinstance(raw, list) else str(raw).split(",")
    names = [str(v).strip() for v in values if str(v).strip()]
    if len(names) > MAX_NAMES:
        raise param_error(f"{what}: at most {MAX_NAMES} names")
    return list(dict.fromkeys(names))


def _node_names(ctx: CallContext, cluster: Cluster, given: list[str]) -> list[str]:
    """Node names from names or host ids; a host id must be a host of this cluster."""
    out = []
    for value in given:
        if UUID.match(value):
            host = ctx.db.scalar(select(Host).where(Host.uuid == value, Host.removed.is_(None)))
            if host is None:
                raise param_error(f"Invalid parameter nodes value={value}: no host has this id")
            if host.cluster_id != cluster.id:
                raise param_error(f"Invalid parameter nodes value={value}: host {host.name} is not in cluster "
                                  f"{cluster.name}")
            out.append(host.node_name)
        else:
            out.append(value)
    return out


@api_command(
    "rehearseFailoverClusterFailure", roles=ADMIN, response="failoverclusterrehearsal",
    description="Rehearses the crash of nodes (and the failure of cluster disks) of a cluster's failover cluster on "
    "a copy of its live state, with the failover cluster's own rules: quorum afterwards, each role's new owner and "
    "when it is online again, or why it stays down, the order of restarts and the memory left on each node. "
    "Changes nothing.",
    params=[
        CLUSTER_ID,
        Param("nodes", "list", required=True, collection_type="string",
              description="comma-separated node names or host ids of the cluster's nodes to crash"),
        Param("disks", "list", collection_type="string", description="comma-separated cluster disk names to fail"),
        Param("listall", "boolean", description="true: answer every role; by default the roles the failure touches"),
    ],
)
def rehearse_failover_cluster_failure(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    cluster = failover_cluster_of(ctx, p)
    nodes = _node_names(ctx, cluster, _names(p["nodes"], "nodes"))
    if not nodes:
        raise param_error("Invalid parameter nodes: give one or more node names or host ids")
    disks = _names(p.get("disks") or [], "disks")
    answer = rehearse_failure(ctx.server, cluster, nodes, disks, every_role=bool(p.get("listall")))
    listed = [r for r in answer.roles if r.affected or p.get("listall")]
    hosts = hosts_by_node(ctx, cluster)
    instances = instances_by_role(ctx, [r.name for r in listed])
    return {"failoverclusterrehearsal": {
        **cluster_fields(cluster),
        "name": answer.cluster,
        "profile": answer.profile,
        "failednodes": list(answer.failed_nodes),
        "faileddisks": list(answer.failed_disks),
        "quorumbefore": _quorum(answer.quorum_before),
        "quorumafter": _quorum(answer.quorum_after),
        "survives": answer.quorum_after.has_quorum and not answer.stranded(ha_only=True),
        "settledafterseconds": answer.settled_after_seconds,
        "restartorder": [r.name for r in answer.restart_order()],
        "stranded": [r.name for r in answer.stranded()],
        "strandedcount": len(answer.stranded()),
        "unaffectedcount": answer.unaffected_count,
        "node": [_node(n, hosts.get(n.name.lower())) for n in answer.nodes],
        "role": [_role(r, instances.get(r.name)) for r in listed],
    }}


def _quorum(q: Any) -> dict[str, Any]:
    return {"state": q.state, "hasquorum": q.has_quorum, "votes": q.votes, "votesneeded": q.votes_needed}


def _node(n: NodeAfter, host: Host | None) -> dict[str, Any]:
    return {"name": n.name, "status": n.state, "failed": n.failed, "memorytotal": n.memory_mb,
            "memoryused": n.memory_used_mb, "memoryfree": n.memory_free_mb, "rolecount": n.roles,
            "runningcount": n.running, "hostid": host.uuid if host else None, "hostname": host.name if host else None}


def _role(r: RoleFate, vm: Any) -> dict[str, Any]:
    return {
        "name": r.name, "priority": PRIORITY_NAMES.get(r.priority, str(r.priority)), "priorityvalue": r.priority,
        "memory": r.memory_mb, "ownernodebefore": r.owner_before, "statusbefore": r.state_before,
        "ownernode": r.owner, "status": r.state, "vmstate": r.vm_state, "staysdown": r.stays_down,
        "reason": r.reason, "onlineafterseconds": r.online_after_seconds, "restartorder": r.restart_order,
        "information": r.detail, "antiaffinityclash": r.anti_affinity_clash, "affected": r.affected,
        "virtualmachineid": vm.uuid if vm else None, "virtualmachinename": vm.name if vm else None,
        "displayname": (vm.display_name or vm.name) if vm else None,
    }
