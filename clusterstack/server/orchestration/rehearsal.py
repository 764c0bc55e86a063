"""Failover rehearsal for the management server: a cluster's live state, failed on a copy by the failover engine.

The state is what the failover cluster reports (the follower's last report when this server follows the cluster,
else a fresh one); `engine_of` turns it into the engine's Cluster (clusterstack.failover: pure, the same code the
simulator runs) and keeps it for the report it came from, so rehearsals and admission checks against one report
build it once. Nothing here changes the cluster.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from clusterstack.failover.cluster import Cluster as Engine
from clusterstack.failover.errors import NotFound as EngineNotFound
from clusterstack.failover.rehearsal import Rehearsal, rehearse
from clusterstack.failover.rehearsal_state import ClusterState, DiskState, NodeState, RoleState, cluster_from_state
from clusterstack.hypervisor.base import ClusterReport, DriverError
from clusterstack.server.api import errors
from clusterstack.server.db.models.infrastructure import Cluster
from clusterstack.server.orchestration.cluster_access import as_api_error, driver_for
from clusterstack.server.state import ServerState

WITNESS_DISK = "Disk Witness in Quorum"


def state_of(report: ClusterReport) -> ClusterState:
    """The failover cluster as its report tells it, in the engine's terms."""
    return ClusterState(
        name=report.name,
        profile=report.profile or "2016",
        quorum_model=report.quorum.model,
        quorum_up=report.quorum.state == "Up",
        votes=report.quorum.votes,
        dynamic_quorum=report.dynamic_quorum,
        nodes=tuple(NodeState(n.name, n.state, n.memory_mb, n.memory_used_mb, n.assigned_vote, n.current_vote,
                              n.cpus) for n in report.nodes),
        roles=tuple(RoleState(r.name, r.state, r.vm_state, r.owner_node, r.priority, r.memory_mb, r.cpus,
                              _disk_of(r.vhds), r.preferred_owners, r.possible_owners, r.anti_affinity,
                              r.failover_threshold, r.failover_period_hours, r.recent_failovers)
                    for r in report.roles),
        disks=tuple(DiskState(d.name, d.state, d.owner_node, d.path, d.assigned_to == WITNESS_DISK,
                              d.capacity_bytes) for d in report.disks),
    )


def _disk_of(vhds: Sequence[object]) -> str | None:
    """The cluster disk a role depends on: its first VHD's CSV (the boot disk)."""
    for vhd in vhds:
        disk = getattr(vhd, "disk", None)
        if disk:
            return str(disk)
    return None


class _Engines:
    """The engine built from each cluster's latest report (a report is immutable: same object, same engine)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: dict[int, tuple[ClusterReport, Engine]] = {}

    def of(self, cluster_id: int, report: ClusterReport) -> Engine:
        with self._lock:
            hit = self._built.get(cluster_id)
        # a follower's pass makes a new report object even when nothing changed: equal is as good as the same
        # (cheap: the JSON driver reuses the RoleReport of every unchanged role, and tuples compare by identity
        # first)
        if hit is not None and (hit[0] is report or hit[0] == report):
            return hit[1]
        engine = cluster_from_state(state_of(report))
        with self._lock:
            self._built[cluster_id] = (report, engine)
        return engine


_ENGINES = _Engines()


def engine_of(cluster_id: int, report: ClusterReport) -> Engine:
    """The engine's Cluster for `report`; never change it (rehearse on copies: failover.rehearsal does)."""
    return _ENGINES.of(cluster_id, report)


def followed_report(server: ServerState, cluster_id: int) -> ClusterReport | None:
    """The report this server's follower last applied for the cluster, if it follows it."""
    service = server.services.get("clusters")
    if service is None:
        return None
    report: ClusterReport | None = service.reports().get(cluster_id)
    return report


def live_report(server: ServerState, cluster: Cluster) -> ClusterReport:
    """The failover cluster's state: as followed (within milliseconds of its change feed), else asked now."""
    if not cluster.failover_address:
        raise errors.param_error(f"Cluster {cluster.name} is not linked to a failover cluster")
    report = followed_report(server, cluster.id)
    if report is not None:
        return report
    try:
        return driver_for(server, cluster).report()
    except DriverError as exc:
        raise as_api_error(exc, cluster) from None


def rehearse_failure(server: ServerState, cluster: Cluster, nodes: Sequence[str], disks: Sequence[str] = (),
                     every_role: bool = False) -> Rehearsal:
    """Rehearse the crash of `nodes` (node names) and the failure of `disks` on the cluster's live state."""
    report = live_report(server, cluster)
    engine = engine_of(cluster.id, report)
    known = {n.lower() for n in engine.nodes}
    unknown = [n for n in nodes if n.lower() not in known]
    if unknown:
        raise errors.param_error(f"{', '.join(unknown)} is not a node of failover cluster {report.name} "
                                 f"(cluster {cluster.name}); its nodes are {', '.join(engine.nodes)}")
    if len({n.lower() for n in nodes}) >= len(engine.nodes):
        raise errors.param_error(f"Rehearsing the loss of every node of {report.name} tells nothing: leave at "
                                 "least one node")
    missing = [d for d in disks if d not in engine.disks]
    if missing:
        raise errors.param_error(f"{', '.join(missing)} is not a disk of failover cluster {report.name}; its "
                                 f"disks are {', '.join(engine.disks) or 'none'}")
    try:
        return rehearse(engine, nodes, disks, every_role=every_role)
    except EngineNotFound as exc:
        raise errors.param_error(str(exc)) from None
