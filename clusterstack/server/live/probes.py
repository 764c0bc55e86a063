"""Reading what changed: a few cheap queries per poll, compared with what the previous poll read.

Small tables (hosts, clusters, storage pools) and the instances and volumes are read whole, a handful of
columns each, and kept as one fingerprint per topic (per owner for owned topics). Append-only tables (events,
alerts) and async jobs are read incrementally: rows above the highest id seen, less a small window so that a
row whose transaction committed late is still noticed, plus the jobs still pending. The followed failover
clusters' last reports (kept in memory by the cluster followers) are fingerprinted too, so a node, role or
quorum change is seen even where the database holds nothing of it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clusterstack.hypervisor.base import ClusterReport
from clusterstack.server.db.models.events import Alert, Event
from clusterstack.server.db.models.infrastructure import Cluster, Host, StoragePool
from clusterstack.server.db.models.instances import VMInstance, Volume
from clusterstack.server.db.models.jobs import JOB_PENDING, AsyncJob
from clusterstack.server.live.changes import (
    ALERTS,
    CLUSTERS,
    EVENTS,
    HOSTS,
    JOBS,
    STORAGE,
    VMS,
    VOLUMES,
    Change,
    FinishedJob,
    Owner,
    failover_cluster_topic,
)

# Rows this far below the highest id seen are read again, so that a late-committed row is not missed.
LATE_ROW_WINDOW = 200


def report_fingerprint(report: ClusterReport) -> int:
    """What the console shows of a failover cluster: quorum, nodes, roles and disks (not usage figures)."""
    return hash((
        report.name,
        (report.quorum.state, report.quorum.model, report.quorum.votes, report.quorum.votes_needed),
        tuple((n.name, n.state, n.assigned_vote, n.current_vote, n.drain_status) for n in report.nodes),
        tuple((r.name, r.state, r.vm_state, r.owner_node, r.priority) for r in report.roles),
        tuple((d.name, d.state, d.assigned_to, d.owner_node, d.path) for d in report.disks),
    ))


def _owner_changes(before: Mapping[Owner, int], after: Mapping[Owner, int]) -> set[Owner]:
    return {owner for owner in before.keys() | after.keys() if before.get(owner) != after.get(owner)}


_MASK = (1 << 64) - 1


def _per_owner(rows: Iterable[Any]) -> dict[Owner, int]:
    """One fingerprint per owner of rows whose first two columns are (account_id, domain_id): the sum of the
    rows' hashes, which does not depend on the order rows come in (no sorting)."""
    sums: dict[tuple[Any, Any], int] = {}
    for row in rows:
        key = (row[0], row[1])
        sums[key] = (sums.get(key, 0) + hash(tuple(row))) & _MASK
    return {Owner(*key): value for key, value in sums.items()}


# What each poll reads of the small and the owned tables (built once: building a statement costs too).
# An instance row: owner, then id, state, host, last host (_failover reads these four by position).
_VMS = select(
    VMInstance.account_id, VMInstance.domain_id, VMInstance.id, VMInstance.state, VMInstance.host_id,
    VMInstance.last_host_id, VMInstance.name, VMInstance.display_name, VMInstance.service_offering_id,
    VMInstance.iso_id, VMInstance.ha_enabled,
).where(VMInstance.removed.is_(None))
_VOLUMES = select(
    Volume.account_id, Volume.domain_id, Volume.id, Volume.state, Volume.instance_id, Volume.size, Volume.pool_id,
    Volume.name,
).where(Volume.removed.is_(None))
_HOSTS = select(
    Host.id, Host.cluster_id, Host.name, Host.status, Host.resource_state, Host.memory_used, Host.total_memory,
).where(Host.removed.is_(None)).order_by(Host.id)
_CLUSTERS = select(
    Cluster.id, Cluster.uuid, Cluster.name, Cluster.allocation_state, Cluster.managed_state, Cluster.quorate,
).where(Cluster.removed.is_(None)).order_by(Cluster.id)
_POOLS = select(
    StoragePool.id, StoragePool.name, StoragePool.status, StoragePool.capacity_bytes, StoragePool.used_bytes,
).where(StoragePool.removed.is_(None)).order_by(StoragePool.id)


@dataclass
class _Fingerprints:
    vms: dict[Owner, int]
    volumes: dict[Owner, int]
    hosts: int
    clusters: int
    storage: int
    failover: dict[str, int]  # cluster uuid -> fingerprint of what the cluster says and the database holds


@dataclass
class _RecentRows:
    """Ids seen of an append-only table, above a floor that follows the highest id."""

    top: int = 0
    seen: set[int] = field(default_factory=set)

    @property
    def floor(self) -> int:
        return max(0, self.top - LATE_ROW_WINDOW)

    def update(self, ids: Iterable[int]) -> None:
        ids = set(ids)
        if ids:
            self.top = max(self.top, max(ids))
        self.seen = {i for i in self.seen | ids if i > self.floor}


@dataclass
class _JobRows:
    pending: dict[int, FinishedJob] = field(default_factory=dict)  # job id -> its uuid and owner
    recent: _RecentRows = field(default_factory=_RecentRows)  # finished jobs already reported


class Prober:
    """Reads the database each poll and answers what changed since the previous poll (None on the first)."""

    def __init__(self) -> None:
        self._last: _Fingerprints | None = None
        self._events = _RecentRows()
        self._alerts = _RecentRows()
        self._jobs = _JobRows()

    def reset(self) -> None:
        """Forget everything read (nobody listens); the next poll is a new baseline."""
        self._last = None
        self._events = _RecentRows()
        self._alerts = _RecentRows()
        self._jobs = _JobRows()

    def poll(self, db: Session, reports: Mapping[int, ClusterReport]) -> Change | None:
        baseline = self._last is None
        if baseline:
            self._start_incremental(db)
        change = Change()
        fingerprints = self._fingerprints(db, reports)
        self._new_rows(db, change, baseline)
        self._job_changes(db, change, baseline)
        last, self._last = self._last, fingerprints
        if last is None:
            return None
        change.touch(VMS, _owner_changes(last.vms, fingerprints.vms))
        change.touch(VOLUMES, _owner_changes(last.volumes, fingerprints.volumes))
        for topic, before, after in ((HOSTS, last.hosts, fingerprints.hosts),
                                     (CLUSTERS, last.clusters, fingerprints.clusters),
                                     (STORAGE, last.storage, fingerprints.storage)):
            if before != after:
                change.infrastructure.add(topic)
        for cluster in last.failover.keys() | fingerprints.failover.keys():
            if last.failover.get(cluster) != fingerprints.failover.get(cluster):
                change.infrastructure.add(failover_cluster_topic(cluster))
        return change

    # ---- whole-table fingerprints ------------------------------------------------------------------------

    def _fingerprints(self, db: Session, reports: Mapping[int, ClusterReport]) -> _Fingerprints:
        conn = db.connection()  # Core rows: no ORM bookkeeping for thousands of rows a poll
        vms = conn.execute(_VMS).all()
        volumes = conn.execute(_VOLUMES).all()
        hosts = conn.execute(_HOSTS).all()
        clusters = conn.execute(_CLUSTERS).all()
        pools = conn.execute(_POOLS).all()
        return _Fingerprints(
            vms=_per_owner(vms),
            volumes=_per_owner(volumes),
            # a host's and a pool's allocation are derived from the instances and volumes on them
            hosts=hash((tuple(tuple(row) for row in hosts), tuple((row.host_id, row.state) for row in vms))),
            clusters=hash(tuple(tuple(row) for row in clusters)),
            storage=hash((tuple(tuple(row) for row in pools), tuple((row.pool_id, row.size) for row in volumes))),
            failover=self._failover(clusters, hosts, vms, reports),
        )

    @staticmethod
    def _failover(clusters: list[Any], hosts: list[Any], vms: list[Any],
                  reports: Mapping[int, ClusterReport]) -> dict[str, int]:
        """Per cluster: its report (where this server follows it) and what the database holds of its nodes,
        roles and quorum (so that servers not following the cluster see its changes too)."""
        cluster_of_host = {row.id: row.cluster_id for row in hosts}
        host_rows: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for row in hosts:
            host_rows[row.cluster_id].append((row.id, row.status, row.resource_state))
        vm_sums: dict[int, int] = {}
        for row in vms:
            vm_id, state, host_id, last_host_id = row[2], row[3], row[4], row[5]
            cluster_id = cluster_of_host.get(host_id) or cluster_of_host.get(last_host_id)
            if cluster_id is not None:
                vm_sums[cluster_id] = (vm_sums.get(cluster_id, 0) + hash((vm_id, state, host_id))) & _MASK
        answer = {}
        for row in clusters:
            report = reports.get(row.id)
            answer[row.uuid] = hash((
                row.quorate,
                tuple(host_rows.get(row.id, ())),
                vm_sums.get(row.id, 0),
                report_fingerprint(report) if report is not None else None,
            ))
        return answer

    # ---- append-only tables and jobs -----------------------------------------------------------------------

    def _start_incremental(self, db: Session) -> None:
        self._events.top = db.scalar(select(func.max(Event.id))) or 0
        self._alerts.top = db.scalar(select(func.max(Alert.id))) or 0
        self._jobs.recent.top = db.scalar(select(func.max(AsyncJob.id))) or 0

    def _new_rows(self, db: Session, change: Change, baseline: bool) -> None:
        events = db.execute(select(Event.id, Event.account_id, Event.domain_id)
                            .where(Event.id > self._events.floor)).all()
        fresh = [row for row in events if row.id not in self._events.seen]
        self._events.update(row.id for row in events)
        alerts = list(db.scalars(select(Alert.id).where(Alert.id > self._alerts.floor)))
        fresh_alerts = [i for i in alerts if i not in self._alerts.seen]
        self._alerts.update(alerts)
        if baseline:
            return
        change.touch(EVENTS, {Owner(row.account_id, row.domain_id) for row in fresh})
        if fresh_alerts:
            change.infrastructure.add(ALERTS)

    def _job_changes(self, db: Session, change: Change, baseline: bool) -> None:
        jobs = self._jobs
        rows = db.execute(select(AsyncJob.id, AsyncJob.uuid, AsyncJob.account_id, AsyncJob.domain_id,
                                 AsyncJob.status)
                          .where((AsyncJob.status == JOB_PENDING) | (AsyncJob.id > jobs.recent.floor))).all()
        pending: dict[int, FinishedJob] = {}
        finished_ids: list[int] = []
        touched: set[Owner] = set()
        for row in rows:
            job = FinishedJob(row.uuid, Owner(row.account_id, row.domain_id))
            if row.status == JOB_PENDING:
                pending[row.id] = job
                if row.id not in jobs.pending:
                    touched.add(job.owner)  # a new job
                continue
            finished_ids.append(row.id)
            if row.id not in jobs.recent.seen and not baseline:
                change.finished_jobs.append(job)
                touched.add(job.owner)
        reported = {job.uuid for job in change.finished_jobs}
        for job_id, job in jobs.pending.items():
            # finished below the window (or deleted): known only by leaving the pending set
            if job_id not in pending and job.uuid not in reported:
                change.finished_jobs.append(job)
                touched.add(job.owner)
        jobs.pending = pending
        jobs.recent.update(finished_ids)
        if jobs.pending:
            jobs.recent.top = max(jobs.recent.top, max(jobs.pending))
        if not baseline:
            change.touch(JOBS, touched)
