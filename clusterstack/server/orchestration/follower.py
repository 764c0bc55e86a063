"""Following failover clusters: one thread per cluster this management server holds the lease on.

Each follower reads the cluster's full report and reconciles hosts, storage and instances with it
(level-triggered); the driver's change feed wakes it at once, and a full pass runs at least every
`hyperv.cluster.sync.interval` seconds whatever the feed says. A pinger asks every node's own endpoint
each `hyperv.node.ping.interval` seconds so that a node that stops answering turns its host Alert before
the cluster has even noticed; it is reported once, like the seed's NoRouteToHost, not as a stream.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import select

from clusterstack.hypervisor.base import ClusterReport, DriverError, FailoverClusterDriver, NodeUnreachable
from clusterstack.server import settings
from clusterstack.server.db.models.infrastructure import Cluster, Host
from clusterstack.server.orchestration import cluster_credentials, host_sync, leases, storage_sync, vm_sync
from clusterstack.server.orchestration.links import ClusterLinks
from clusterstack.server.state import ServerState

log = logging.getLogger("clusterstack.server.orchestration.follower")

SYNC_INTERVAL = settings.define_setting(
    "hyperv.cluster.sync.interval", 10, "Hyper-V",
    "Seconds between full VM/host sync passes over a failover cluster (changes wake the sync at once)", minimum=1,
)
PING_INTERVAL = settings.define_setting(
    "hyperv.node.ping.interval", 1.0, "Hyper-V",
    "Seconds between checks that each failover-cluster node answers on its own address", minimum=0.1,
)
LEASE_SECONDS = 15.0
MIN_PASS_GAP = 0.02  # passes run at most this often (changes that come together coalesce)
# under a stream (the cluster changed STREAM_CHANGES times or more during each of STREAM_PASSES passes in a
# row), a pass that took t seconds is followed by at least PASS_GAP_FACTOR * t, at most MAX_PASS_GAP
STREAM_CHANGES = 2
STREAM_PASSES = 3
MAX_PASS_GAP = 0.5
PASS_GAP_FACTOR = 4.0


class ClusterFollower:
    """Follows one failover cluster until stopped or until the lease is lost."""

    def __init__(self, state: ServerState, cluster_id: int, address: str, driver: FailoverClusterDriver,
                 on_exit: Callable[[int], None],
                 reopen: Callable[[int], FailoverClusterDriver] | None = None) -> None:
        self.state = state
        self.cluster_id = cluster_id
        self.address = address
        self.driver = driver
        self._reopen = reopen  # the driver as the cluster's account and hosts say now (new credentials, new hosts)
        self._on_exit = on_exit
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._passing = threading.Event()
        self._unreachable: set[str] = set()
        self._previous: ClusterReport | None = None
        self._cluster_down_logged = False
        self.passes = 0
        self.changed_meanwhile = False  # the cluster changed again and again while the last pass ran
        self._changes_in_pass = 0  # changes the feed saw since the current pass started
        self._cursor = 0
        self._threads = [
            threading.Thread(target=self._follow, name=f"cluster-sync-{cluster_id}", daemon=True),
            threading.Thread(target=self._feed, name=f"cluster-feed-{cluster_id}", daemon=True),
            threading.Thread(target=self._ping, name=f"node-ping-{cluster_id}", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._passing.set()

    def join(self, timeout: float) -> None:
        for thread in self._threads:
            thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    @property
    def last_report(self) -> ClusterReport | None:
        """The report the last successful sync pass applied (what the cluster said, as last heard)."""
        return self._previous

    # ---- the sync loop -----------------------------------------------------------------------------------

    def sync_once(self) -> ClusterReport | None:
        """One full pass: read the cluster's report and reconcile the database with it."""
        try:
            if self._reopen is not None:
                self.driver = self._reopen(self.cluster_id)
            report = self.driver.report()
        except DriverError as exc:
            if not self._cluster_down_logged:
                log.error("Failover cluster at %s does not answer: %s", self.address, exc)
                self._cluster_down_logged = True
            with self.state.database.session() as db:
                cluster = db.get(Cluster, self.cluster_id)
                if cluster is not None:
                    host_sync.mark_unreachable_cluster(db, cluster, f"failover cluster does not answer: {exc}")
            return None
        if self._cluster_down_logged:
            log.info("Failover cluster at %s answers again", self.address)
            self._cluster_down_logged = False
        with self.state.database.session() as db:
            cluster = db.get(Cluster, self.cluster_id)
            if cluster is None or cluster.removed is not None:
                self._stop.set()
                return report
            host_sync.apply(db, cluster, report, set(self._unreachable))
            storage_sync.apply(db, cluster, report, self._previous)
            vm_sync.apply(db, cluster, report)
            # (before the commit: nobody can have reacted to this pass yet)
            self.changed_meanwhile = self._changes_in_pass >= STREAM_CHANGES
        self._previous = report
        self.passes += 1
        return report

    def _follow(self) -> None:
        streak = 0
        try:
            while not self._stop.is_set():
                if not self._renew_lease():
                    log.info("Lease on cluster %s taken by another management server; not following it",
                             self.cluster_id)
                    return
                self._wake.clear()
                self._changes_in_pass = 0
                self._passing.set()  # the feed may look for the next changes
                started = time.monotonic()
                report = self.sync_once()
                took = time.monotonic() - started
                if report is not None:
                    self._cursor = max(self._cursor, report.cursor)
                interval = self._setting(SYNC_INTERVAL) if report is not None else 1.0
                ended = time.monotonic()
                # a stream of changes (a burst of deploys) changes the cluster again and again during pass after
                # pass; a change or two (a node going down, a move: Migrating, then moved) is followed as fast as
                # ever
                streak = streak + 1 if report is not None and self.changed_meanwhile else 0
                self._wake.wait(min(interval, LEASE_SECONDS / 3))
                self._stop.wait(MIN_PASS_GAP)  # changes that come together (a move: Migrating, then moved) at once
                if streak >= STREAM_PASSES:
                    # under a stream, the slower a pass ran (a big cluster, a busy server), the longer until the
                    # next one: following must not crowd out the work that makes the changes
                    self._stop.wait(max(0.0, ended + min(MAX_PASS_GAP, PASS_GAP_FACTOR * took) - time.monotonic()))
        except Exception:
            log.exception("following cluster %s failed; it will be picked up again", self.cluster_id)
        finally:
            self._stop.set()
            self._on_exit(self.cluster_id)

    def _feed(self) -> None:
        """Long-poll the cluster's change feed; a change wakes the sync loop at once. Having seen
        STREAM_CHANGES changes since a pass started, the feed waits until the next pass starts before asking
        again: that pass reads everything that changed until then anyway, and a request per change of a busy
        cluster cost more than the passes."""
        seen = self._cursor
        while not self._stop.is_set():
            since = max(seen, self._cursor)
            try:
                cursor = self.driver.wait_for_change(since, 5.0)
            except DriverError:
                self._stop.wait(1.0)
                continue
            if cursor != since:
                seen = cursor
                self._changes_in_pass += 1
                self._wake.set()
                if self._changes_in_pass >= STREAM_CHANGES:
                    self._passing.clear()
                    self._passing.wait(LEASE_SECONDS / 3)

    def _renew_lease(self) -> bool:
        with self.state.database.session() as db:
            return leases.claim(db, self.cluster_id, self.state.msid, LEASE_SECONDS)

    def _setting(self, setting: settings.Setting) -> float:
        with self.state.database.session() as db:
            return float(settings.get(db, setting))

    # ---- the node pinger ---------------------------------------------------------------------------------

    def _ping(self) -> None:
        while not self._stop.is_set():
            try:
                self._ping_nodes()
            except Exception:
                log.exception("pinging the nodes of cluster %s failed", self.cluster_id)
            self._stop.wait(self._setting(PING_INTERVAL))

    def _ping_nodes(self) -> None:
        with self.state.database.session() as db:
            nodes = list(db.scalars(select(Host.node_name).where(Host.cluster_id == self.cluster_id,
                                                                 Host.removed.is_(None))))
        changed = False
        for node in nodes:
            key = node.lower()
            try:
                self.driver.ping_node(node)
            except NodeUnreachable as exc:
                if key not in self._unreachable:
                    log.warning("I/O exception (java.net.NoRouteToHostException) caught when connecting to "
                                "node %s: %s", node, exc)
                    self._unreachable.add(key)
                    changed = True
                continue
            except DriverError:
                continue
            if key in self._unreachable:
                log.info("Node %s answers again", node)
                self._unreachable.discard(key)
                changed = True
        if changed:
            self.wake()


class ClusterFollowerService:
    """Claims leases on managed clusters and runs a follower for each one held."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.links = ClusterLinks()
        self._followers: dict[int, ClusterFollower] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._poke = threading.Event()
        self._unfollowable: set[int] = set()
        self._thread = threading.Thread(target=self._manage, name="cluster-followers", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        with self._lock:
            followers = list(self._followers.values())
        for follower in followers:
            follower.stop()
        for follower in followers:
            follower.join(5)
        with self.state.database.session() as db:
            for follower in followers:
                leases.release(db, follower.cluster_id, self.state.msid)
        self.links.close()

    def driver_for(self, cluster: Cluster) -> FailoverClusterDriver:
        if not cluster.failover_address:
            raise DriverError(f"cluster {cluster.name} is not linked to a failover cluster")
        with self.state.database.session() as db:
            options = cluster_credentials.options_for(db, cluster.id)
        return self.links.driver(cluster.failover_address, cluster_credentials.credentials_of(self.state, cluster),
                                 options)

    def _driver_of(self, cluster_id: int) -> FailoverClusterDriver:
        with self.state.database.session() as db:
            cluster = db.get(Cluster, cluster_id)
            if cluster is None:
                raise DriverError(f"cluster {cluster_id} is gone")
            return self.driver_for(cluster)

    def wake(self, cluster_id: int) -> None:
        """Reconcile a cluster now (after an operation changed it), if this server follows it."""
        with self._lock:
            follower = self._followers.get(cluster_id)
        if follower is not None:
            follower.wake()
        else:
            self._poke.set()

    def reports(self) -> dict[int, ClusterReport]:
        """The last report of each cluster this server follows (cluster id -> report); the live channel reads it."""
        with self._lock:
            followers = list(self._followers.values())
        return {f.cluster_id: report for f in followers if (report := f.last_report) is not None}

    def sync_now(self, cluster_id: int) -> None:
        """Run one reconcile pass synchronously (whoever holds the lease)."""
        with self.state.database.session() as db:
            cluster = db.get(Cluster, cluster_id)
            address = cluster.failover_address if cluster is not None else None
        if address is None:
            return
        with self._lock:
            follower = self._followers.get(cluster_id)
        if follower is None:
            follower = ClusterFollower(self.state, cluster_id, address, self._driver_of(cluster_id), lambda _: None)
        follower.sync_once()

    def _manage(self) -> None:
        while not self._stop.is_set():
            try:
                self._adopt_clusters()
            except Exception:
                log.exception("adopting clusters to follow failed")
            self._poke.wait(2.0)
            self._poke.clear()

    def _adopt_clusters(self) -> None:
        with self.state.database.session() as db:
            clusters = [(c.id, c.failover_address) for c in db.scalars(
                select(Cluster).where(Cluster.removed.is_(None), Cluster.failover_address.is_not(None)))]
        for cluster_id, address in clusters:
            with self._lock:
                if cluster_id in self._followers or self._stop.is_set():
                    continue
            with self.state.database.session() as db:
                if not leases.claim(db, cluster_id, self.state.msid, LEASE_SECONDS):
                    continue
            try:
                driver = self._driver_of(cluster_id)
            except DriverError as exc:
                if cluster_id not in self._unfollowable:
                    log.error("Cannot follow cluster %s at %s: %s", cluster_id, address, exc)
                    self._unfollowable.add(cluster_id)
                continue
            follower = ClusterFollower(self.state, cluster_id, str(address), driver, self._forget, self._driver_of)
            with self._lock:
                self._followers[cluster_id] = follower
            log.info("Following failover cluster at %s for cluster %s", address, cluster_id)
            follower.start()

    def _forget(self, cluster_id: int) -> None:
        with self._lock:
            self._followers.pop(cluster_id, None)
