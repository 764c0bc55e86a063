"""Failover Cluster Manager's actions through the API: moveFailoverClusterRole (Move-ClusterVirtualMachineRole),
suspendFailoverClusterNode (Suspend-ClusterNode -Drain), resumeFailoverClusterNode (Resume-ClusterNode) and
clearFailoverClusterNodeQuarantine (Start-ClusterNode -ClearQuarantine).

Async, admin only, refused (534) without quorum. Each records a CloudStack event (VM.MIGRATE for a role move,
MAINT.PREPARE / MAINT.CANCEL for a drain and a resume, as for host maintenance, HOST.RECONNECT for a node let back
in from quarantine) and wakes the cluster's follower so the database follows at once. A role that runs a CloudStack
instance moves the instance's host with it; a node that is a CloudStack host goes into Maintenance while it is
paused and back to Enabled on resume.
"""

from __future__ import annotations

import time
from typing import Any

from clusterstack.hypervisor.base import ClusterReport, DriverError, NodeReport, NodeUnreachable, RoleReport
from clusterstack.server import events
from clusterstack.server.api.commands.failover_cluster import (
    CLUSTER_ID,
    cluster_report,
    failover_cluster_of,
    hosts_by_node,
    instances_by_role,
    node_answer,
    role_answer,
)
from clusterstack.server.api.commands.host_maintenance import DRAIN_TIMEOUT
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import insufficient_capacity, internal_error, param_error
from clusterstack.server.api.registry import ADMIN, JobTarget, Param, api_command
from clusterstack.server.db.models.infrastructure import Cluster, Host
from clusterstack.server.orchestration import vm_lifecycle as lifecycle
from clusterstack.server.orchestration.cluster_access import as_api_error, driver_for, quorate_report, wake
from clusterstack.server.settings import get as get_setting

MIGRATION_TYPES = ("live", "quick")
MAINTENANCE_STATES = ("PrepareForMaintenance", "Maintenance", "ErrorInMaintenance")
RUNNING_VM_STATES = ("Running", "Migrating", "Unmonitored", "Starting")


def _role(report: ClusterReport, name: str) -> RoleReport:
    role = next((r for r in report.roles if r.name.lower() == name.lower()), None)
    if role is None:
        raise param_error(f"Invalid parameter name value={name}: failover cluster {report.name} has no role {name}")
    return role


def _node(report: ClusterReport, name: str, param: str = "name") -> NodeReport:
    node = report.node(name)
    if node is None:
        nodes = ", ".join(n.name for n in report.nodes)
        raise param_error(f"Invalid parameter {param} value={name}: {name} is not a node of failover cluster "
                          f"{report.name} (its nodes are {nodes})")
    return node


def _node_event(ctx: CallContext, host: Host | None, event_type: str, text: str, **extra: Any) -> None:
    where = {"resource_type": "Host", "resource_uuid": host.uuid, "resource_name": host.name} if host else {}
    events.record_event(ctx.db, event_type, text, ctx.actor, **where, **extra)


def _wait_for_node(ctx: CallContext, cluster: Cluster, name: str, done: Any, what: str,
                   roles_too: bool = False) -> NodeReport:
    """Follow a node (the driver's cheap one-node read) until `done(node, roles)`; the roles are read only when
    `roles_too` says the condition needs them."""
    driver = driver_for(ctx.server, cluster)
    deadline = time.monotonic() + float(get_setting(ctx.db, DRAIN_TIMEOUT))
    while True:
        try:
            found = driver.node(name)
            roles = driver.report().roles if roles_too else ()
        except DriverError as exc:
            raise as_api_error(exc, cluster) from None
        if found is None:
            raise param_error(f"Invalid parameter name value={name}: {name} is no longer a node of failover "
                              f"cluster {cluster.failover_name}")
        node = found
        if done(node, roles):
            return node
        if node.drain_status == "Failed":
            raise param_error(f"The failover cluster could not drain node {node.name}: a role found no node with "
                              "room; the node is left paused (resumeFailoverClusterNode resumes it)")
        if time.monotonic() > deadline:
            raise internal_error(f"Node {node.name} did not {what} in time (it is {node.state}, drain "
                                 f"{node.drain_status})")
        time.sleep(0.1)


# ---- move a role --------------------------------------------------------------------------------------------

def _prepare_move(ctx: CallContext, p: dict[str, Any]) -> JobTarget | None:
    cluster = failover_cluster_of(ctx, p)
    report = quorate_report(ctx.server, cluster)
    role = _role(report, p["name"])
    node = _node(report, p["node"], "node")
    if role.owner_node and role.owner_node.lower() == node.name.lower():
        raise param_error(f"Invalid parameter node value={p['node']}: role {role.name} is already on {node.name}")
    if node.state != "Up":
        raise param_error(f"Invalid parameter node value={p['node']}: node {node.name} is {node.state}; a role can "
                          "move only to an Up node")
    if role.vm_state == "Migrating":
        raise param_error(f"Invalid parameter name value={p['name']}: role {role.name} is already migrating")
    if role.vm_state in RUNNING_VM_STATES and node.memory_mb - node.memory_used_mb < role.memory_mb:
        raise insufficient_capacity(f"Node {node.name} has {node.memory_mb - node.memory_used_mb} MB free; role "
                                    f"{role.name} needs {role.memory_mb} MB")
    vm = instances_by_role(ctx, [role.name]).get(role.name)
    return JobTarget("VirtualMachine", vm.uuid) if vm is not None else None


@api_command(
    "moveFailoverClusterRole", isasync=True, resumable=True, roles=ADMIN, response="failoverclusterrole",
    prepare=_prepare_move,
    description="Moves a role of a cluster's failover cluster to another node (Move-ClusterVirtualMachineRole): "
    "live migration by default, or quick migration (save, move, restore). The instance it runs follows.",
    params=[
        CLUSTER_ID,
        Param("name", required=True, description="the role's name (an instance's internal name)"),
        Param("node", required=True, description="the node to move the role to"),
        Param("migrationtype", choices=MIGRATION_TYPES, description="live (the default) or quick"),
    ],
)
def move_failover_cluster_role(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    cluster = failover_cluster_of(ctx, p)
    report = quorate_report(ctx.server, cluster)
    role = _role(report, p["name"])
    node = _node(report, p["node"], "node")
    kind = p.get("migrationtype", "live")
    source = role.owner_node or "no node"
    moved = role
    if (role.owner_node or "").lower() != node.name.lower():  # a job run again after a crash may find it done
        driver = driver_for(ctx.server, cluster)
        try:
            driver.move_vm(role.name, node.name, kind)
        except DriverError as exc:
            raise as_api_error(exc, cluster) from None
        moved = lifecycle.wait_for_role(ctx, driver, role.name, lambda r: r.vm_state != "Migrating",
                                        f"move to {node.name}")
        if (moved.owner_node or "").lower() != node.name.lower():
            raise internal_error(f"The failover cluster did not move role {role.name} to {node.name}: it is on "
                                 f"{moved.owner_node} ({moved.information or 'the migration was cancelled'})")
    text = f"Moved role {role.name} of failover cluster {report.name} from {source} to {node.name} ({kind} migration)"
    vm = instances_by_role(ctx, [role.name]).get(role.name)
    if vm is not None:
        lifecycle.follow_role(ctx.db, vm, moved)
        lifecycle.vm_event(ctx.db, vm, "VM.MIGRATE", f"{text}: VM {vm.name}")
    else:
        events.record_event(ctx.db, "VM.MIGRATE", text, ctx.actor, resource_name=role.name)
    wake(ctx.server, cluster.id)
    return {"failoverclusterrole": role_answer(ctx, cluster, moved)}


# ---- suspend (drain) and resume a node ----------------------------------------------------------------------

def _prepare_node(ctx: CallContext, p: dict[str, Any], state: str, refusal: str) -> JobTarget | None:
    """A node action's checks: the node must be in `state`; the job is the node's host's, if it has one."""
    cluster = failover_cluster_of(ctx, p)
    node = _node(quorate_report(ctx.server, cluster), p["name"])
    if node.state != state:
        raise param_error(refusal.format(value=p["name"], node=node.name, state=node.state))
    host = hosts_by_node(ctx, cluster).get(node.name.lower())
    return JobTarget("Host", host.uuid) if host is not None else None


def _prepare_suspend(ctx: CallContext, p: dict[str, Any]) -> JobTarget | None:
    return _prepare_node(ctx, p, "Up", "Invalid parameter name value={value}: node {node} is {state}; only an Up "
                         "node can be suspended")


@api_command(
    "suspendFailoverClusterNode", isasync=True, resumable=True, roles=ADMIN, response="failoverclusternode",
    prepare=_prepare_suspend,
    description="Pauses a node of a cluster's failover cluster after draining it (Suspend-ClusterNode -Drain): "
    "High and Medium roles live-migrate, Low and No Auto Start roles quick-migrate. Its host is in Maintenance "
    "while the node is paused.",
    params=[CLUSTER_ID, Param("name", required=True, description="the node's name")],
)
def suspend_failover_cluster_node(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    cluster = failover_cluster_of(ctx, p)
    node = _node(quorate_report(ctx.server, cluster), p["name"])
    host = hosts_by_node(ctx, cluster).get(node.name.lower())
    if node.state != "Paused":
        if host is not None and host.resource_state == "Enabled":
            host.resource_state = "PrepareForMaintenance"
        _node_event(ctx, host, "MAINT.PREPARE", f"Draining node {node.name} of failover cluster "
                    f"{cluster.failover_name} (Suspend-ClusterNode -Drain)", state="Started")
        ctx.db.commit()  # the host shows PrepareForMaintenance while the cluster drains the node
        try:
            driver_for(ctx.server, cluster).drain_node(node.name)
        except DriverError as exc:
            raise as_api_error(exc, cluster) from None
    try:
        node = _wait_for_node(ctx, cluster, node.name, lambda n, _: n.state == "Paused" and n.drain_status
                              in (None, "Completed"), "drain")
    except Exception:
        if host is not None and host.resource_state == "PrepareForMaintenance":
            ctx.db.refresh(host)
            host.resource_state = "ErrorInMaintenance"
            ctx.db.commit()
        raise
    if host is not None:
        ctx.db.refresh(host)
        if host.resource_state in ("PrepareForMaintenance", "ErrorInMaintenance"):
            host.resource_state = "Maintenance"
    _node_event(ctx, host, "MAINT.PREPARE", f"Node {node.name} of failover cluster {cluster.failover_name} is "
                "drained and paused")
    wake(ctx.server, cluster.id)
    return {"failoverclusternode": node_answer(ctx, cluster, node)}


def _prepare_resume(ctx: CallContext, p: dict[str, Any]) -> JobTarget | None:
    return _prepare_node(ctx, p, "Paused", "Invalid parameter name value={value}: node {node} is {state}, not "
                         "Paused; only a paused node can be resumed")


@api_command(
    "resumeFailoverClusterNode", isasync=True, resumable=True, roles=ADMIN, response="failoverclusternode",
    prepare=_prepare_resume,
    description="Resumes a paused node of a cluster's failover cluster (Resume-ClusterNode); with failback, the "
    "roles drained from it move back at once (-Failback Immediate). Its host leaves Maintenance.",
    params=[CLUSTER_ID, Param("name", required=True, description="the node's name"),
            Param("failback", "boolean", description="move the roles drained from the node back now "
                  "(default false)")],
)
def resume_failover_cluster_node(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    cluster = failover_cluster_of(ctx, p)
    report = cluster_report(ctx, cluster)
    node = _node(report, p["name"])
    failback = bool(p.get("failback", False))
    if node.state == "Paused":
        try:
            driver_for(ctx.server, cluster).resume_node(node.name, failback=failback)
        except DriverError as exc:
            raise as_api_error(exc, cluster) from None
    node = _wait_for_node(
        ctx, cluster, node.name,
        lambda n, roles: n.state != "Paused" and not (failback and any(x.vm_state == "Migrating" for x in roles)),
        "resume", roles_too=failback)
    host = hosts_by_node(ctx, cluster).get(node.name.lower())
    if host is not None and host.resource_state in MAINTENANCE_STATES:
        host.resource_state = "Enabled"
    _node_event(ctx, host, "MAINT.CANCEL", f"Resumed node {node.name} of failover cluster {cluster.failover_name}"
                f"{' with failback of its roles' if failback else ''} (Resume-ClusterNode)")
    wake(ctx.server, cluster.id)
    return {"failoverclusternode": node_answer(ctx, cluster, node)}


# ---- clear a node's quarantine --------------------------------------------------------------------------------

def _prepare_clear_quarantine(ctx: CallContext, p: dict[str, Any]) -> JobTarget | None:
    target = _prepare_node(ctx, p, "Quarantined", "Invalid parameter name value={value}: node {node} is {state}, "
                           "not Quarantined; only a quarantined node's quarantine can be cleared")
    cluster = failover_cluster_of(ctx, p)
    try:
        driver_for(ctx.server, cluster).ping_node(p["name"])
    except NodeUnreachable:
        raise param_error(f"Invalid parameter name value={p['name']}: node {p['name']} is Quarantined and does not "
                          "answer; start its machine first, then clear the quarantine") from None
    except DriverError as exc:
        raise as_api_error(exc, cluster) from None
    return target


@api_command(
    "clearFailoverClusterNodeQuarantine", isasync=True, resumable=True, roles=ADMIN, response="failoverclusternode",
    prepare=_prepare_clear_quarantine,
    description="Lets a Quarantined node of a cluster's failover cluster rejoin now (Start-ClusterNode "
    "-ClearQuarantine) instead of at the end of its quarantine (QuarantineDuration, 2 hours): a node that failed "
    "too often within an hour (QuarantineThreshold) is kept out of the cluster, and its host is Down, until then. "
    "The node's machine must be running. Answers the node once it is a member again.",
    params=[CLUSTER_ID, Param("name", required=True, description="the node's name")],
)
def clear_failover_cluster_node_quarantine(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    cluster = failover_cluster_of(ctx, p)
    node = _node(quorate_report(ctx.server, cluster), p["name"])
    if node.state == "Quarantined":  # a job run again after a crash may find it cleared already
        try:
            driver_for(ctx.server, cluster).clear_quarantine(node.name)
        except DriverError as exc:
            raise as_api_error(exc, cluster) from None
    node = _wait_for_node(ctx, cluster, node.name, lambda n, _: n.state in ("Up", "Paused"), "rejoin")
    host = hosts_by_node(ctx, cluster).get(node.name.lower())
    _node_event(ctx, host, "HOST.RECONNECT", f"Cleared the quarantine of node {node.name} of failover cluster "
                f"{cluster.failover_name} (Start-ClusterNode -ClearQuarantine); it is {node.state} again")
    wake(ctx.server, cluster.id)
    return {"failoverclusternode": node_answer(ctx, cluster, node)}
