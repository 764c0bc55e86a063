"""prepareHostForMaintenance and cancelHostMaintenance: drain and resume the failover-cluster node.

Maintenance of a Hyper-V host is the cluster's drain (Suspend-ClusterNode -Drain): High and Medium roles
live-migrate, Low roles quick-migrate, then the node is Paused. The host is PrepareForMaintenance while the
drain runs and Maintenance once the node is paused with its roles gone (ErrorInMaintenance if the drain fails);
cancelling resumes the node (Resume-ClusterNode) and the host is Enabled again.
"""

from __future__ import annotations

import time
from typing import Any

from clusterstack.hypervisor.base import DriverError
from clusterstack.server import events
from clusterstack.server.api.commands.hosts import render_host
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import param_error
from clusterstack.server.api.lookup import find_by_uuid
from clusterstack.server.api.registry import ADMIN, JobTarget, Param, api_command
from clusterstack.server.db.models.infrastructure import Host
from clusterstack.server.orchestration.cluster_access import as_api_error, driver_for, quorate_report, wake
from clusterstack.server.settings import define_setting
from clusterstack.server.settings import get as get_setting

DRAIN_TIMEOUT = define_setting(
    "hyperv.drain.timeout", 1800, "Hyper-V",
    "Seconds prepareHostForMaintenance waits for the failover cluster to drain a node", minimum=1,
)

HOST_ID = [Param("id", "uuid", required=True, description="the host ID")]


def _host(ctx: CallContext, p: dict[str, Any]) -> Host:
    return find_by_uuid(ctx.db, Host, p["id"], "host")


def _prepare_target(ctx: CallContext, p: dict[str, Any]) -> JobTarget:
    host = _host(ctx, p)
    if host.resource_state in ("PrepareForMaintenance", "Maintenance"):
        raise param_error(f"Host {host.name} is already in {host.resource_state}")
    if host.status != "Up":
        raise param_error(f"Host {host.name} is {host.status}; only an Up host can be put in maintenance")
    report = quorate_report(ctx.server, host.cluster)
    owned = [r.name for r in report.roles if (r.owner_node or "").lower() == (host.node_name or "").lower()]
    others = [n for n in report.nodes if n.name.lower() != (host.node_name or "").lower()]
    if owned and not any(n.state == "Up" for n in others):
        states = ", ".join(f"{n.name} is {n.state}" for n in others) or "it is the only node"
        raise param_error(f"Host {host.name} cannot be put in maintenance: its node owns {len(owned)} role(s) "
                          f"({', '.join(sorted(owned)[:5])}) and no other node of failover cluster {report.name} is "
                          f"Up to take them ({states})")
    return JobTarget("Host", host.uuid)


@api_command(
    "prepareHostForMaintenance", description="Prepares a host for maintenance: drains its failover-cluster node.",
    response="host", roles=ADMIN, isasync=True, params=HOST_ID, prepare=_prepare_target, resumable=True,
)
def prepare_host_for_maintenance(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    host = _host(ctx, p)
    cluster = host.cluster
    driver = driver_for(ctx.server, cluster)
    if host.resource_state != "Maintenance":
        host.resource_state = "PrepareForMaintenance"
        events.record_event(ctx.db, "MAINT.PREPARE", f"Preparing host {host.name} for maintenance: draining node "
                            f"{host.node_name} of failover cluster {cluster.failover_name}", ctx.actor,
                            state="Started", resource_type="Host", resource_uuid=host.uuid, resource_name=host.name)
        ctx.db.commit()  # the host shows PrepareForMaintenance while the cluster drains it
        try:
            driver.drain_node(host.node_name)
        except DriverError as exc:
            host.resource_state = "ErrorInMaintenance"
            ctx.db.commit()
            raise as_api_error(exc, cluster) from None
        deadline = time.monotonic() + float(get_setting(ctx.db, DRAIN_TIMEOUT))
        while True:
            try:
                node = driver.node(host.node_name)  # one node, not the whole cluster, each time round
            except DriverError as exc:
                host.resource_state = "ErrorInMaintenance"
                ctx.db.commit()
                raise as_api_error(exc, cluster) from None
            if node is not None and node.drain_status == "Failed":
                host.resource_state = "ErrorInMaintenance"
                ctx.db.commit()
                raise param_error(f"The failover cluster could not drain node {host.node_name}: a role found no "
                                  "node with room; the host is ErrorInMaintenance (cancelHostMaintenance resumes it)")
            if node is not None and node.state == "Paused" and node.drain_status == "Completed":
                break
            if time.monotonic() > deadline:
                host.resource_state = "ErrorInMaintenance"
                ctx.db.commit()
                raise param_error(f"Draining node {host.node_name} did not finish in time")
            time.sleep(0.2)
        ctx.db.refresh(host)
        host.resource_state = "Maintenance"
        events.record_event(ctx.db, "MAINT.PREPARE", f"Host {host.name} is in maintenance: node {host.node_name} "
                            "is drained and paused", ctx.actor, resource_type="Host", resource_uuid=host.uuid,
                            resource_name=host.name)
    wake(ctx.server, cluster.id)
    return {"host": render_host(host)}


def _cancel_target(ctx: CallContext, p: dict[str, Any]) -> JobTarget:
    host = _host(ctx, p)
    if host.resource_state not in ("PrepareForMaintenance", "Maintenance", "ErrorInMaintenance"):
        raise param_error(f"Host {host.name} is not in maintenance (it is {host.resource_state})")
    quorate_report(ctx.server, host.cluster)
    return JobTarget("Host", host.uuid)


@api_command(
    "cancelHostMaintenance", description="Cancels host maintenance: resumes its failover-cluster node.",
    response="host", roles=ADMIN, isasync=True, params=HOST_ID, prepare=_cancel_target, resumable=True,
)
def cancel_host_maintenance(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    host = _host(ctx, p)
    driver = driver_for(ctx.server, host.cluster)
    node = driver.report().node(host.node_name)
    if node is not None and node.state == "Paused":
        try:
            driver.resume_node(host.node_name, failback=False)
        except DriverError as exc:
            raise as_api_error(exc, host.cluster) from None
    host.resource_state = "Enabled"
    events.record_event(ctx.db, "MAINT.CANCEL", f"Cancelled maintenance of host {host.name}: node "
                        f"{host.node_name} resumed", ctx.actor, resource_type="Host", resource_uuid=host.uuid,
                        resource_name=host.name)
    wake(ctx.server, host.cluster_id)
    return {"host": render_host(host)}
