"""Hosts follow their failover-cluster nodes: the cluster is the investigator.

A node that stops answering its own endpoint turns its host Alert at once; the host goes Down as soon as the
failover cluster reports the node Down or Quarantined (no need to wait out ping timeouts), and Up when it is
back. Lost quorum puts every host of the cluster in Alert and marks the cluster not quorate until majority
returns.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from clusterstack.hypervisor.base import ClusterReport, NodeReport
from clusterstack.server import events
from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.infrastructure import Cluster, Host

log = logging.getLogger("clusterstack.server.orchestration.host_sync")

MB = 1024 * 1024

# failover-cluster node state -> CloudStack host status
_STATUS_OF_NODE = {
    "Up": "Up",
    "Paused": "Up",  # drained: still a running host, its resource state says Maintenance
    "Down": "Down",
    "Joining": "Connecting",
    "Isolated": "Alert",
    "Quarantined": "Down",  # not a member: the cluster keeps it out until its quarantine ends or is cleared
}


def hosts_of(db: Session, cluster: Cluster) -> list[Host]:
    return list(db.scalars(select(Host).where(Host.cluster_id == cluster.id, Host.removed.is_(None))
                           .order_by(Host.id)))


def _set_status(db: Session, host: Host, status: str, why: str) -> None:
    if host.status == status:
        return
    previous, host.status = host.status, status
    now = utcnow()
    if status == "Up":
        host.disconnected = None
        host.last_pinged = now
    elif previous == "Up":
        host.disconnected = now
    level = "INFO" if status == "Up" else "WARN" if status == "Alert" else "ERROR"
    log.info("Host %s (id:%s) status changed from %s to %s: %s", host.name, host.id, previous, status, why)
    events.record_event(db, f"HOST.{status.upper()}", f"Host {host.name} (id:{host.id}) is {status}: {why}",
                        level=level, resource_type="Host", resource_uuid=host.uuid, resource_name=host.name)
    if status in ("Down", "Alert"):
        subject = (f"Host is {status.lower()}, name: {host.name} (id:{host.id}), availability zone: "
                   f"{host.zone.name}, pod: {host.pod.name}")
        events.raise_alert(db, "ALERT.HOST", subject, f"{subject}. {why}", zone_id=host.zone_id,
                           pod_id=host.pod_id, cluster_id=host.cluster_id, resource_uuid=host.uuid)


def _follow_maintenance(db: Session, host: Host, node: NodeReport) -> None:
    if host.resource_state == "PrepareForMaintenance":
        if node.state == "Paused" and node.drain_status in (None, "Completed"):
            host.resource_state = "Maintenance"
            events.record_event(db, "MAINT.PREPARE", f"Host {host.name} (id:{host.id}) is in Maintenance: "
                                f"node {node.name} drained and paused", resource_type="Host",
                                resource_uuid=host.uuid, resource_name=host.name)
        elif node.drain_status == "Failed":
            host.resource_state = "ErrorInMaintenance"
            events.record_event(db, "MAINT.PREPARE", f"Draining node {node.name} failed; host {host.name} is "
                                "ErrorInMaintenance", level="ERROR", resource_type="Host",
                                resource_uuid=host.uuid, resource_name=host.name)


def apply(db: Session, cluster: Cluster, report: ClusterReport, unreachable: set[str]) -> None:
    quorate = report.quorum.state == "Up"
    if cluster.quorate != quorate:
        cluster.quorate = quorate
        if quorate:
            log.info("Failover cluster %s regained quorum (%d of %d votes needed)", report.name,
                     report.quorum.votes, report.quorum.votes_needed)
            events.record_event(db, "CLUSTER.UPDATE", f"Failover cluster {report.name} regained quorum",
                                resource_type="Cluster", resource_uuid=cluster.uuid, resource_name=cluster.name)
        else:
            subject = (f"Failover cluster {report.name} of cluster {cluster.name} lost quorum: "
                       f"{report.quorum.votes} votes, {report.quorum.votes_needed} needed; "
                       "new work on the cluster is refused until quorum is back")
            log.error(subject)
            events.record_event(db, "CLUSTER.UPDATE", subject, level="ERROR", resource_type="Cluster",
                                resource_uuid=cluster.uuid, resource_name=cluster.name)
            events.raise_alert(db, "ALERT.HOST", subject, zone_id=cluster.zone_id, pod_id=cluster.pod_id,
                               cluster_id=cluster.id, resource_uuid=cluster.uuid)
    for host in hosts_of(db, cluster):
        node = report.node(host.node_name)
        if node is None:
            _set_status(db, host, "Alert", f"node {host.node_name} is no longer a node of {report.name}")
            continue
        host.memory_used = node.memory_used_mb * MB
        if node.memory_mb:
            host.total_memory = node.memory_mb * MB
        if node.cpus:
            host.cpus = node.cpus
        status = _STATUS_OF_NODE.get(node.state, "Alert")
        if not quorate:
            # the cluster service is stopped everywhere: a node whose machine answers is Alert, a dead one Down
            if node.name.lower() in unreachable:
                _set_status(db, host, "Down", f"node {node.name} does not answer and {report.name} has no quorum")
            else:
                _set_status(db, host, "Alert", f"failover cluster {report.name} has no quorum")
        elif status == "Up" and node.name.lower() in unreachable:
            _set_status(db, host, "Alert", f"node {node.name} does not answer (No route to host)")
        elif node.state == "Quarantined":
            _set_status(db, host, status, f"failover cluster {report.name} has quarantined node {node.name} after "
                        "repeated failures within an hour; it stays out of the cluster until the quarantine ends "
                        "or clearFailoverClusterNodeQuarantine clears it")
        else:
            _set_status(db, host, status, f"failover cluster {report.name} reports node {node.name} {node.state}")
        if status == "Up":
            host.last_pinged = utcnow()
        _follow_maintenance(db, host, node)


def mark_unreachable_cluster(db: Session, cluster: Cluster, why: str) -> None:
    """The cluster's address itself does not answer: every Up host goes Alert (nothing is known)."""
    for host in hosts_of(db, cluster):
        if host.status == "Up":
            _set_status(db, host, "Alert", why)
