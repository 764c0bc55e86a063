"""VM sync, level-triggered: each instance of a cluster is compared with the cluster's full report.

The failover cluster is the source of truth for where a clustered VM runs and whether it runs: the owner
node becomes the instance's host, the VM's state its state. Instances in a transition that a job owns
(Starting, Stopping, Migrating, Expunging) are left to that job. Every correction writes an event and, for
a move, the management log line operators know: "Detected out of band VM migration from host 2 to host 1".
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clusterstack.hypervisor.base import ClusterReport, RoleReport
from clusterstack.server import events
from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.infrastructure import Cluster, Host
from clusterstack.server.db.models.instances import VMInstance
from clusterstack.server.events import Actor

log = logging.getLogger("clusterstack.server.orchestration.vm_sync")

# states a job is driving; sync leaves them alone
JOB_OWNED_STATES = frozenset({"Starting", "Stopping", "Migrating", "Expunging", "Destroyed"})
# Hyper-V VM state -> CloudStack instance state and power state
_RUNNING = {"Running", "Unmonitored", "Migrating", "Paused", "Starting", "Stopping"}


def _power_state(role: RoleReport) -> str:
    return "PowerOn" if role.vm_state in _RUNNING else "PowerOff"


def _owner(instance: VMInstance) -> Actor:
    return Actor(user_id=instance.user_id, account_id=instance.account_id, domain_id=instance.domain_id)


def _event(db: Session, instance: VMInstance, event_type: str, description: str, level: str = "INFO") -> None:
    events.record_event(db, event_type, description, _owner(instance), level=level,
                        resource_type="VirtualMachine", resource_uuid=instance.uuid, resource_name=instance.name)


def _bump(instance: VMInstance) -> None:
    instance.update_count = (instance.update_count or 0) + 1
    instance.update_time = utcnow()


def _follow_owner(db: Session, instance: VMInstance, host: Host | None, role: RoleReport) -> None:
    if host is None or instance.host_id == host.id:
        return
    old = instance.host_id
    if old is not None and instance.state == "Running":
        log.info("Detected out of band VM migration of VM %s (%s) from host %s to host %s (%s)", instance.name,
                 instance.instance_name, old, host.id, host.name)
        _event(db, instance, "VM.MIGRATE", f"Detected out of band VM migration of {instance.instance_name} "
               f"from host {old} to host {host.id} ({host.name}): the failover cluster moved role "
               f"{role.name} to {role.owner_node}")
    instance.last_host_id = old if old is not None else instance.last_host_id
    instance.host_id = host.id
    instance.pod_id = host.pod_id
    _bump(instance)


def _follow_state(db: Session, instance: VMInstance, role: RoleReport, host: Host | None) -> None:
    running = role.vm_state in _RUNNING
    if role.state == "Failed" and not running:
        if instance.state != "Stopped":
            why = role.information or "no node of the failover cluster has the memory to start it"
            _event(db, instance, "VM.STOP", f"Failover cluster could not place {instance.instance_name}: {why}",
                   level="ERROR")
            events.raise_alert(db, "ALERT.USERVM", f"VM {instance.name} ({instance.instance_name}) is stopped: "
                               f"the failover cluster could not place it: {why}",
                               zone_id=instance.zone_id, pod_id=instance.pod_id, cluster_id=instance.cluster_id,
                               resource_uuid=instance.uuid)
            instance.state = "Stopped"
            _bump(instance)
        return
    if running and instance.state != "Running":
        log.info("VM %s (%s) state transitted from %s to Running: the failover cluster reports it Running on %s",
                 instance.name, instance.instance_name, instance.state, role.owner_node)
        _event(db, instance, "VM.START", f"{instance.instance_name} is Running on {role.owner_node} "
               "(reported by the failover cluster)")
        instance.state = "Running"
        _bump(instance)
    elif not running and instance.state == "Running":
        log.info("VM %s (%s) state transitted from Running to Stopped: the failover cluster reports it %s",
                 instance.name, instance.instance_name, role.vm_state)
        _event(db, instance, "VM.STOP", f"{instance.instance_name} is {role.vm_state} on {role.owner_node} "
               "(reported by the failover cluster)")
        instance.state = "Stopped"
        instance.last_host_id = host.id if host is not None else instance.host_id
        instance.host_id = None  # as CloudStack: a stopped instance has a last host, not a host
        _bump(instance)


def in_step(row: Any, role: RoleReport | None, host_id: int | None) -> bool:
    """True when `apply` would change nothing for an instance (`row` has its state, host_id, last_host_id,
    power_state and power_host_id) given its role and the id of the role's owner node's host.

    A pass compares every instance of the cluster; most are in step, and reading them as plain rows instead of
    ORM objects is what keeps a pass cheap on a cluster of thousands. Only the others are loaded and followed.
    """
    if role is None:
        return bool(row.power_state == "PowerReportMissing")
    running = role.vm_state in _RUNNING
    if row.power_state != _power_state(role) or (host_id is not None and row.power_host_id != host_id):
        return False
    if running:
        if host_id is not None and row.host_id != host_id:
            return False
    elif host_id is not None and row.last_host_id != host_id and row.host_id is None:
        return False
    if role.state == "Failed" and not running:
        return bool(row.state == "Stopped")
    return bool(row.state == "Running") if running else row.state != "Running"


def apply(db: Session, cluster: Cluster, report: ClusterReport) -> None:
    hosts = {h.node_name.lower(): h for h in db.scalars(
        select(Host).where(Host.cluster_id == cluster.id, Host.removed.is_(None)))}
    roles = {r.name: r for r in report.roles}
    followed = (VMInstance.cluster_id == cluster.id, VMInstance.removed.is_(None),
                VMInstance.instance_name.is_not(None), VMInstance.role_priority.is_not(None),
                VMInstance.state.notin_(JOB_OWNED_STATES))
    rows = db.execute(select(VMInstance.id, VMInstance.instance_name, VMInstance.state, VMInstance.host_id,
                             VMInstance.last_host_id, VMInstance.power_state, VMInstance.power_host_id)
                      .where(*followed))
    behind = []
    for row in rows:
        role = roles.get(row.instance_name or "")
        host = hosts.get((role.owner_node or "").lower()) if role is not None else None
        if not in_step(row, role, host.id if host is not None else None):
            behind.append(row.id)
    if not behind:
        return
    query = select(VMInstance).where(*followed).order_by(VMInstance.id)
    if len(behind) <= 500:  # (else: every instance, skipping those in step; keeps the IN list bounded)
        query = query.where(VMInstance.id.in_(behind))
    wanted = set(behind)
    now = utcnow()
    for instance in db.scalars(query):
        if instance.id in wanted:
            role = roles.get(instance.instance_name or "")
            host = hosts.get((role.owner_node or "").lower()) if role is not None else None
            follow(db, instance, role, host, report.name, now)


def follow(db: Session, instance: VMInstance, role: RoleReport | None, host: Host | None, cluster_name: str,
           now: datetime) -> None:
    """Bring one instance in line with its role (None: the cluster has no such role) on `host` (the host of the
    role's owner node, if it is one of ours)."""
    if role is None:
        if instance.power_state != "PowerReportMissing":
            instance.power_state = "PowerReportMissing"
            instance.power_state_update_time = now
            _event(db, instance, "VM.STOP", f"{instance.instance_name} is missing from failover cluster "
                   f"{cluster_name}", level="ERROR")
            if instance.state == "Running":
                instance.state = "Stopped"
            _bump(instance)
        return
    power = _power_state(role)
    if instance.power_state != power or (host is not None and instance.power_host_id != host.id):
        instance.power_state = power
        instance.power_state_update_time = now
        instance.power_host_id = host.id if host is not None else None
    if role.vm_state in _RUNNING:
        _follow_owner(db, instance, host, role)
    elif host is not None and instance.last_host_id != host.id and instance.host_id is None:
        instance.last_host_id = host.id  # a stopped (e.g. No Auto Start) role moved with its node
    _follow_state(db, instance, role, host)
