"""The live feed: one thread per management server polls what changed and hands it to every listener.

While nobody listens the thread sleeps and reads nothing. With listeners it polls every POLL_INTERVAL seconds
(a handful of cheap queries, see probes.py) and offers each change to every subscription, which keeps only
what its viewer may hear and coalesces it until the listener's stream takes it: a slow listener never queues
up more than one pending set of topics. Subscriptions live on the event loop of the stream that reads them;
the polling thread wakes them with loop.call_soon_threadsafe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Mapping

import anyio

from clusterstack.hypervisor.base import ClusterReport
from clusterstack.server.app import register_service
from clusterstack.server.live.changes import Change
from clusterstack.server.live.probes import Prober
from clusterstack.server.live.viewer import Viewer
from clusterstack.server.state import ServerState

log = logging.getLogger("clusterstack.server.live")

POLL_INTERVAL = 0.4  # seconds between polls while somebody listens (longer when a poll itself is slow)


class Subscription:
    """One listener: what it may hear, and the topics and finished jobs not yet taken by its stream."""

    def __init__(self, viewer: Viewer, loop: asyncio.AbstractEventLoop) -> None:
        self.viewer = viewer
        self._loop = loop
        self._wake = asyncio.Event()
        self._lock = threading.Lock()
        self._topics: set[str] = set()
        self._jobs: list[str] = []
        self.ready = False  # a poll has read the database since this listener came
        self.closed = False  # the feed ends: the stream should finish

    # ---- called from the polling thread (or any thread) ----------------------------------------------------

    def offer(self, change: Change) -> None:
        topics, jobs = self.viewer.message(change)
        if not topics and not jobs:
            return
        with self._lock:
            self._topics |= topics
            self._jobs.extend(job for job in jobs if job not in self._jobs)
        self._notify()

    def mark_ready(self) -> None:
        self.ready = True
        self._notify()

    def close(self) -> None:
        self.closed = True
        self._notify()

    def _notify(self) -> None:
        with contextlib.suppress(RuntimeError):  # the listener's event loop is gone
            self._loop.call_soon_threadsafe(self._wake.set)

    # ---- called on the listener's event loop ---------------------------------------------------------------

    async def wait(self, timeout: float) -> None:
        """Until something is pending, the subscription is ready or closed, or `timeout` seconds pass."""
        with anyio.move_on_after(max(0.0, timeout)):
            await self._wake.wait()
        self._wake.clear()

    async def wait_ready(self, timeout: float) -> None:
        with anyio.move_on_after(timeout):
            while not (self.ready or self.closed):
                await self.wait(timeout)

    def take(self) -> tuple[list[str], list[str]]:
        """The pending topics (sorted) and finished job ids, now no longer pending."""
        with self._lock:
            topics, jobs = sorted(self._topics), self._jobs
            self._topics, self._jobs = set(), []
        return topics, jobs


class LiveFeed:
    """The management server's `live` service."""

    def __init__(self, state: ServerState, interval: float = POLL_INTERVAL) -> None:
        self.state = state
        self.interval = interval
        self.polls = 0  # polls run since start (the feed's own measure of work done)
        self._subscriptions: set[Subscription] = set()
        self._condition = threading.Condition()
        self._stop = threading.Event()
        self._ended = False
        self._prober = Prober()
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="live-feed", daemon=True)

    # ---- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._condition:
            self._condition.notify_all()
        if self._thread.is_alive():
            self._thread.join(10)
        self.end_streams()

    def end_streams(self) -> None:
        """Tell every stream to finish (the server is shutting down); later subscriptions start closed."""
        with self._condition:
            self._ended = True
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.close()

    # ---- listeners -----------------------------------------------------------------------------------------

    def subscribe(self, viewer: Viewer) -> Subscription:
        """A new subscription; call on the event loop of the stream that will read it."""
        subscription = Subscription(viewer, asyncio.get_running_loop())
        with self._condition:
            if self._ended or self._stop.is_set():
                subscription.close()
                return subscription
            self._subscriptions.add(subscription)
            self._condition.notify_all()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._condition:
            self._subscriptions.discard(subscription)

    @property
    def listeners(self) -> int:
        with self._condition:
            return len(self._subscriptions)

    # ---- the polling thread --------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._condition:
                while not self._subscriptions and not self._stop.is_set():
                    self._prober.reset()  # nothing is read while nobody listens; the next poll is a baseline
                    self._condition.wait()
                waiting = [s for s in self._subscriptions if not s.ready]
            if self._stop.is_set():
                break
            started = time.monotonic()
            change = self._poll()
            elapsed = time.monotonic() - started
            with self._condition:
                listeners = list(self._subscriptions)
            if change:
                for subscription in listeners:
                    subscription.offer(change)
            if change is not None or not self._failing:
                for subscription in waiting:
                    subscription.mark_ready()
            # a poll never takes more than a third of this thread's time, however large the cloud
            self._stop.wait(max(self.interval, 2 * elapsed))

    def _poll(self) -> Change | None:
        try:
            reports = self._reports()
            with self.state.database.session() as db:
                change = self._prober.poll(db, reports)
        except Exception:
            if not self._failing:
                log.exception("reading changes for the live channel failed; retrying")
                self._failing = True
            self._prober.reset()
            return None
        if self._failing:
            log.info("reading changes for the live channel works again")
            self._failing = False
        self.polls += 1
        return change

    def _reports(self) -> Mapping[int, ClusterReport]:
        """The last reports of the failover clusters this server follows (cluster id -> report)."""
        followers = self.state.services.get("clusters")
        reports = getattr(followers, "reports", None)
        if not callable(reports):
            return {}
        answer: Mapping[int, ClusterReport] = reports()
        return answer


register_service("live", LiveFeed)
