"""Following failover clusters: a fixed handful of threads follows every cluster this server holds the lease on.

- **Passes.** A pass reads the cluster's full report and reconciles hosts, storage and instances with it
  (level-triggered). Passes run on a small pool when something says the cluster changed: its change feed, a node
  that stops or starts answering, an operation of ours (`wake`). When nothing changes, a timed pass every
  `hyperv.cluster.sync.interval` seconds asks only for the cluster's change cursor and reconciles in full when it
  moved, and at least every FULL_RESYNC_SECONDS regardless: the safety net under everything else.
- **Change feeds.** Drivers with an asynchronous long poll (`await_change`) are all awaited on one event loop;
  for the others a poll of `wait_for_change(cursor, 0)` runs on the pool every poll interval.
- **Liveness.** One pinger connects (TCP, nothing sent) to every node of every followed cluster each
  `hyperv.node.ping.interval` seconds, all at once, so that a node that stops answering turns its host Alert
  within the interval; it is reported once, like the seed's NoRouteToHost, not as a stream. While a node is
  unreachable, its cluster is checked four times as often, to see it back sooner.
- **Leases.** The manager adopts clusters whose lease is free and renews every lease it holds in one statement.

Threads: manager, scheduler, pinger, feed loop, and FOLLOW_WORKERS pass workers, however many clusters.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import select

from clusterstack.hypervisor.base import ClusterReport, DriverError, FailoverClusterDriver
from clusterstack.server import settings
from clusterstack.server.db.models.infrastructure import Cluster, Host
from clusterstack.server.orchestration import (
    cluster_credentials,
    host_sync,
    leases,
    storage_sync,
    tcp_liveness,
    vm_sync,
)
from clusterstack.server.orchestration.links import ClusterLinks
from clusterstack.server.state import ServerState

log = logging.getLogger("clusterstack.server.orchestration.follower")

SYNC_INTERVAL = settings.define_setting(
    "hyperv.cluster.sync.interval", 30, "Hyper-V",
    "Seconds between timed checks of a failover cluster that reported no change (changes, operations and nodes "
    "that stop answering start a pass at once); a timed check reconciles in full when the cluster's change "
    "cursor moved, and every 10 minutes regardless", minimum=1,
)
PING_INTERVAL = settings.define_setting(
    "hyperv.node.ping.interval", 1.0, "Hyper-V",
    "Seconds between checks that each failover-cluster node accepts connections on its own address", minimum=0.1,
)
LEASE_SECONDS = 15.0
FULL_RESYNC_SECONDS = 600.0
FOLLOW_WORKERS = 4
FEED_TIMEOUT = 25.0  # seconds one long poll of a change feed waits
MIN_PASS_GAP = 0.02  # passes run at most this often (changes that come together coalesce)
# under a stream (woken again during STREAM_PASSES passes in a row), a pass that took t seconds is followed by at
# least PASS_GAP_FACTOR * t, at most MAX_PASS_GAP: following must not crowd out the work that makes the changes
STREAM_PASSES = 3
MAX_PASS_GAP = 0.5
PASS_GAP_FACTOR = 4.0
UNREACHABLE_PING_DIVISOR = 4.0


@dataclass
class _Schedule:
    """When a follower's next pass and feed poll are due (monotonic seconds); guarded by the service's lock."""

    pass_due: float = 0.0
    poll_due: float = 0.0
    timed: bool = True  # the due pass is a timed one (nothing said the cluster changed)
    running: bool = False
    polling: bool = False
    woken: bool = False
    streak: int = 0
    last_full: float = field(default_factory=lambda: -FULL_RESYNC_SECONDS)


class ClusterFollower:
    """What this server knows of one followed failover cluster; the service's threads do the work."""

    def __init__(self, state: ServerState, cluster_id: int, address: str, driver: FailoverClusterDriver,
                 reopen: Callable[[int], FailoverClusterDriver] | None = None) -> None:
        self.state = state
        self.cluster_id = cluster_id
        self.address = address
        self.driver = driver
        self._reopen = reopen  # the driver as the cluster's account and hosts say now (new credentials, new hosts)
        self.unreachable: set[str] = set()
        self.nodes: list[str] = []
        self._previous: ClusterReport | None = None
        self._cluster_down_logged = False
        self.passes = 0
        self.cursor = 0
        self.stopped = False
        self.schedule = _Schedule()
        self.feed_task: asyncio.Future[None] | None = None

    @property
    def last_report(self) -> ClusterReport | None:
        """The report the last successful sync pass applied (what the cluster said, as last heard)."""
        return self._previous

    def sync_once(self) -> ClusterReport | None:
        """One full pass: read the cluster's report and reconcile the database with it."""
        try:
            self._refresh_driver()
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
                self.stopped = True
                return report
            host_sync.apply(db, cluster, report, set(self.unreachable))
            storage_sync.apply(db, cluster, report, self._previous)
            vm_sync.apply(db, cluster, report)
            self.nodes = list(db.scalars(select(Host.node_name).where(Host.cluster_id == self.cluster_id,
                                                                      Host.removed.is_(None))))
        self._previous = report
        self.cursor = max(self.cursor, report.cursor)
        self.passes += 1
        return report

    def _refresh_driver(self) -> None:
        """The driver as the cluster's account and hosts say now (new credentials, new hosts): the same object
        while nothing changed."""
        if self._reopen is not None:
            self.driver = self._reopen(self.cluster_id)

    def unchanged(self) -> bool:
        """A cheap question for a timed pass: has the cluster's change cursor stayed where the last pass saw it?"""
        if self._previous is None:
            return False
        try:
            self._refresh_driver()
            return self.driver.wait_for_change(self.cursor, 0) == self.cursor
        except DriverError:
            return False


def _poll_interval(driver: FailoverClusterDriver) -> float:
    options = getattr(driver, "options", None)
    return float(getattr(options, "poll_interval", 0.5))


class ClusterFollowerService:
    """Claims leases on managed clusters and follows each one held."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.links = ClusterLinks()
        self._followers: dict[int, ClusterFollower] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._poke = threading.Event()
        self._tick = threading.Event()
        self._unfollowable: set[int] = set()
        self._sync_interval = float(SYNC_INTERVAL.default)
        self._ping_interval = float(PING_INTERVAL.default)
        self._pool = ThreadPoolExecutor(FOLLOW_WORKERS, thread_name_prefix="cluster-sync")
        self._loop = asyncio.new_event_loop()
        self._threads = [
            threading.Thread(target=self._manage, name="cluster-followers", daemon=True),
            threading.Thread(target=self._schedule, name="cluster-schedule", daemon=True),
            threading.Thread(target=self._ping, name="node-ping", daemon=True),
            threading.Thread(target=self._loop.run_forever, name="cluster-feeds", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._poke.set()
        self._tick.set()
        with self._lock:
            followers = list(self._followers.values())
            self._followers.clear()
        for follower in followers:
            follower.stopped = True
        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self._close_feeds(followers), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        for thread in self._threads:
            if thread.is_alive():
                thread.join(10)
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self.state.database.session() as db:
            for follower in followers:
                leases.release(db, follower.cluster_id, self.state.msid)
        self.links.close()

    # ---- what the rest of the server asks -----------------------------------------------------------------

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
                self._want_pass(follower)
        if follower is None:
            self._poke.set()

    def reports(self) -> dict[int, ClusterReport]:
        """The last report of each cluster this server follows (cluster id -> report); the live channel reads it."""
        with self._lock:
            followers = list(self._followers.values())
        return {f.cluster_id: report for f in followers if (report := f.last_report) is not None}

    def followed(self) -> list[int]:
        """The ids of the clusters this server follows now."""
        with self._lock:
            return sorted(self._followers)

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
            follower = ClusterFollower(self.state, cluster_id, address, self._driver_of(cluster_id))
        follower.sync_once()

    # ---- passes ---------------------------------------------------------------------------------------------

    def _want_pass(self, follower: ClusterFollower) -> None:
        """(Under the lock.) Something says the cluster changed: a full pass as soon as the last one allows."""
        schedule = follower.schedule
        schedule.woken = True
        if not schedule.running:
            schedule.pass_due = min(schedule.pass_due, time.monotonic())
            schedule.timed = False
        self._tick.set()

    def _schedule(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            next_due = now + 60.0
            with self._lock:
                for follower in self._followers.values():
                    schedule = follower.schedule
                    if not schedule.running and schedule.pass_due <= now:
                        schedule.running, schedule.woken = True, False
                        self._pool.submit(self._pass, follower, schedule.timed)
                    if follower.feed_task is None and not schedule.polling and schedule.poll_due <= now:
                        schedule.polling = True
                        self._pool.submit(self._poll_feed, follower)
                    if not schedule.running:
                        next_due = min(next_due, schedule.pass_due)
                    if follower.feed_task is None and not schedule.polling:
                        next_due = min(next_due, schedule.poll_due)
            wait = max(0.0, next_due - time.monotonic())
            self._tick.wait(wait)
            self._tick.clear()

    def _pass(self, follower: ClusterFollower, timed: bool) -> None:
        started = time.monotonic()
        report: ClusterReport | None = None
        full = False
        try:
            stale = started - follower.schedule.last_full >= FULL_RESYNC_SECONDS
            if timed and not stale and follower.unchanged():
                report = follower.last_report
            else:
                full = True
                report = follower.sync_once()
        except Exception:
            log.exception("following cluster %s failed; it is tried again", follower.cluster_id)
        ended = time.monotonic()
        log.debug("cluster %s: %s pass in %.0f ms", follower.cluster_id, "full" if full else "timed (unchanged)",
                  (ended - started) * 1000)
        with self._lock:
            schedule = follower.schedule
            schedule.running = False
            if full and report is not None:
                schedule.last_full = ended
            if follower.stopped:
                pass  # (forgotten below)
            elif schedule.woken:
                schedule.streak += 1
                gap = MIN_PASS_GAP
                if schedule.streak >= STREAM_PASSES:
                    gap = max(gap, min(MAX_PASS_GAP, PASS_GAP_FACTOR * (ended - started)))
                schedule.pass_due, schedule.timed = ended + gap, False
            else:
                schedule.streak = 0
                interval = self._sync_interval if report is not None else 1.0  # a silent cluster: retried soon
                schedule.pass_due, schedule.timed = ended + interval, report is not None
        if follower.stopped:
            self._forget(follower.cluster_id)
        self._tick.set()

    # ---- change feeds ---------------------------------------------------------------------------------------

    def _poll_feed(self, follower: ClusterFollower) -> None:
        """For a driver without an asynchronous feed: one look at its change cursor."""
        changed = False
        try:
            if follower.last_report is not None:
                changed = follower.driver.wait_for_change(follower.cursor, 0) != follower.cursor
        except DriverError:
            pass
        except Exception:
            log.exception("polling the changes of cluster %s failed", follower.cluster_id)
        with self._lock:
            follower.schedule.polling = False
            follower.schedule.poll_due = time.monotonic() + _poll_interval(follower.driver)
            if changed:
                self._want_pass(follower)
        self._tick.set()

    def _start_feed(self, follower: ClusterFollower) -> None:
        if type(follower.driver).await_change is FailoverClusterDriver.await_change:
            return  # polled by the scheduler
        follower.feed_task = asyncio.run_coroutine_threadsafe(self._follow_feed(follower), self._loop)

    async def _follow_feed(self, follower: ClusterFollower) -> None:
        """Await the cluster's changes; each wakes a pass. While a pass runs, the next question waits for it:
        that pass reads everything that changed until then anyway."""
        since = follower.cursor
        while not follower.stopped:
            try:
                cursor = await follower.driver.await_change(max(since, follower.cursor), FEED_TIMEOUT)
            except DriverError:
                await asyncio.sleep(1.0)
                continue
            except Exception:
                log.exception("the change feed of cluster %s failed", follower.cluster_id)
                await asyncio.sleep(1.0)
                continue
            if cursor != since:
                log.debug("cluster %s: changed (cursor %s -> %s)", follower.cluster_id, since, cursor)
                since = cursor
                with self._lock:
                    self._want_pass(follower)
                while follower.schedule.running and not follower.stopped:
                    await asyncio.sleep(MIN_PASS_GAP)

    async def _close_feeds(self, followers: list[ClusterFollower]) -> None:
        for follower in followers:
            if follower.feed_task is not None:
                follower.feed_task.cancel()
            try:
                await follower.driver.aclose()
            except Exception:
                log.debug("closing the change feed of cluster %s failed", follower.cluster_id, exc_info=True)

    # ---- liveness -------------------------------------------------------------------------------------------

    def _ping(self) -> None:
        while not self._stop.is_set():
            interval = self._ping_interval
            try:
                worried = self._ping_nodes(timeout=min(1.0, interval))
            except Exception:
                log.exception("checking the nodes of the followed clusters failed")
                worried = False
            self._stop.wait(interval / UNREACHABLE_PING_DIVISOR if worried else interval)

    def _ping_nodes(self, timeout: float) -> bool:
        """Check every node once; answer whether any is unreachable."""
        with self._lock:
            followers = list(self._followers.values())
        targets: dict[tuple[int, str], tuple[str, int]] = {}
        for follower in followers:
            for node in follower.nodes:
                endpoint = follower.driver.liveness_endpoint(node)
                if endpoint is not None:
                    targets[(follower.cluster_id, node)] = endpoint
        failed = tcp_liveness.unreachable(targets.values(), timeout) if targets else {}
        worried = False
        for follower in followers:
            changed = False
            for node in follower.nodes:
                endpoint = targets.get((follower.cluster_id, node))
                if endpoint is None:
                    continue
                key, why = node.lower(), failed.get(endpoint)
                if why is not None:
                    worried = True
                    if key not in follower.unreachable:
                        log.warning("I/O exception (java.net.NoRouteToHostException) caught when connecting to "
                                    "node %s at %s:%s: %s", node, endpoint[0], endpoint[1], why)
                        follower.unreachable.add(key)
                        changed = True
                elif key in follower.unreachable:
                    log.info("Node %s answers again", node)
                    follower.unreachable.discard(key)
                    changed = True
            if changed:
                with self._lock:
                    self._want_pass(follower)
        return worried

    # ---- leases and adoption --------------------------------------------------------------------------------

    def _manage(self) -> None:
        renewed = 0.0
        while not self._stop.is_set():
            try:
                self._read_settings()
                if time.monotonic() - renewed >= LEASE_SECONDS / 3:
                    self._renew_leases()
                    renewed = time.monotonic()
                self._adopt_clusters()
            except Exception:
                log.exception("adopting clusters to follow failed")
            self._poke.wait(2.0)
            self._poke.clear()

    def _read_settings(self) -> None:
        with self.state.database.session() as db:
            self._sync_interval = float(settings.get(db, SYNC_INTERVAL))
            self._ping_interval = float(settings.get(db, PING_INTERVAL))

    def _renew_leases(self) -> None:
        with self._lock:
            held = list(self._followers)
        if not held:
            return
        with self.state.database.session() as db:
            kept = leases.renew(db, held, self.state.msid, LEASE_SECONDS)
        for cluster_id in set(held) - kept:
            log.info("Lease on cluster %s taken by another management server; not following it", cluster_id)
            self._forget(cluster_id)

    def _adopt_clusters(self) -> None:
        with self.state.database.session() as db:
            clusters = [(c.id, c.failover_address) for c in db.scalars(
                select(Cluster).where(Cluster.removed.is_(None), Cluster.failover_address.is_not(None)))]
            with self._lock:
                followed = set(self._followers)
            free = leases.claimable(db, [c for c, _ in clusters if c not in followed], self.state.msid)
        for cluster_id, address in clusters:
            if cluster_id not in free or self._stop.is_set():
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
            follower = ClusterFollower(self.state, cluster_id, str(address), driver, self._driver_of)
            with self._lock:
                self._followers[cluster_id] = follower
                self._tick.set()
            self._start_feed(follower)
            log.info("Following failover cluster at %s for cluster %s", address, cluster_id)

    def _forget(self, cluster_id: int) -> None:
        with self._lock:
            follower = self._followers.pop(cluster_id, None)
        if follower is not None:
            follower.stopped = True
            if follower.feed_task is not None:
                follower.feed_task.cancel()
