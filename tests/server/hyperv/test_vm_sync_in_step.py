"""VM sync's cheap pre-check agrees with the reconcile itself: an instance is skipped exactly when following it
would change nothing (no field, no event), whatever its state and whatever the cluster reports."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from types import SimpleNamespace

from sqlalchemy.orm import Session

from clusterstack.hypervisor.base import RoleReport
from clusterstack.server.db.models.infrastructure import Host
from clusterstack.server.db.models.instances import VMInstance
from clusterstack.server.orchestration import vm_sync

FIELDS = ("state", "host_id", "last_host_id", "power_state", "power_host_id", "pod_id", "update_count")
HOSTS = {h.node_name.lower(): h for h in (Host(id=1, pod_id=1, name="HYPERVCLLOUD13", node_name="HYPERVCLLOUD13"),
                                         Host(id=2, pod_id=1, name="HYPERVCLLOUD17", node_name="HYPERVCLLOUD17"))}


def _roles() -> list[RoleReport | None]:
    roles: list[RoleReport | None] = [None]
    for (state, vm_state), owner in itertools.product(
            [("Online", "Running"), ("Offline", "Off"), ("Failed", "Off"), ("Pending", "Starting"),
             ("Online", "Migrating"), ("Offline", "Saved")],
            ["HYPERVCLLOUD13", "HYPERVCLLOUD17", "ELSEWHERE", None]):
        roles.append(RoleReport(name="i-2-7-VM", state=state, vm_state=vm_state, owner_node=owner, priority=2000,
                                memory_mb=512, cpus=1, vhds=()))
    return roles


def test_in_step_exactly_when_following_changes_nothing() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    checked = skipped = 0
    for role in _roles():
        host = HOSTS.get((role.owner_node or "").lower()) if role is not None else None
        for state, host_id, last_host_id, power, power_host in itertools.product(
                ["Running", "Stopped", "Error"], [None, 1, 2], [None, 1, 2],
                ["PowerOn", "PowerOff", "PowerReportMissing"], [None, 1, 2]):
            instance = VMInstance(id=7, name="vm", instance_name="i-2-7-VM", state=state, host_id=host_id,
                                  last_host_id=last_host_id, power_state=power, power_host_id=power_host,
                                  pod_id=1, update_count=3, user_id=2, account_id=2, domain_id=1)
            before = {f: getattr(instance, f) for f in FIELDS}
            row = SimpleNamespace(**before)
            db = Session()
            vm_sync.follow(db, instance, role, host, "CI1", now)
            unchanged = {f: getattr(instance, f) for f in FIELDS} == before and not db.new
            assert vm_sync.in_step(row, role, host.id if host is not None else None) == unchanged, (role, before)
            checked += 1
            skipped += unchanged
    assert 0 < skipped < checked  # both outcomes were exercised
