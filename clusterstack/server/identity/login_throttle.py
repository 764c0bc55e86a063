"""Throttling failed logins: a growing wait per username and per source address, never a sleeping thread.

Each failed password login for a username, and each from a source address, counts against that key. Past a few
free attempts the key is refused for a while, the wait doubling with every further failure up to a ceiling; a
refused attempt answers exactly as a wrong password does, is not checked and does not lengthen the wait. A
successful login clears its username's count (not its address's: one good account must not reset an address
that is guessing others). Counts live in the memory of each management server and are forgotten once a key has
been quiet for the longest wait.

Unlike CloudStack's lock after incorrect.login.attempts.allowed failures, nothing here is permanent or touches
the user's state, so an anonymous caller can slow logins down but cannot lock anyone out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from clusterstack.server.settings import define_setting

FREE_ATTEMPTS = define_setting(
    "login.throttle.free.attempts", 3, "Advanced",
    "Failed logins for one username, or from one source address, before further attempts must wait", minimum=1,
)
FIRST_DELAY = define_setting(
    "login.throttle.delay.seconds", 2, "Advanced",
    "The first wait after the free failed logins are used up; each further failure doubles it", minimum=1,
)
MAX_DELAY = define_setting(
    "login.throttle.delay.max.seconds", 600, "Advanced",
    "The longest wait between failed logins for one username or source address", minimum=1,
)

# at most this many keys are remembered; the quietest are forgotten first beyond it
MAX_KEYS = 100_000


@dataclass(frozen=True)
class ThrottlePolicy:
    free_attempts: int = 3
    first_delay: float = 2.0
    max_delay: float = 600.0

    def wait_after(self, failures: int) -> float:
        """Seconds a key must wait after its `failures`-th consecutive failure."""
        if failures < self.free_attempts:
            return 0.0
        exponent = min(failures - self.free_attempts, 32)
        return float(min(self.first_delay * 2**exponent, self.max_delay))


@dataclass
class _Count:
    failures: int
    last_failure: float
    blocked_until: float


class LoginThrottle:
    """Failed-login counts of one management server. Thread-safe; `clock` is injectable for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._counts: dict[str, _Count] = {}
        self._lock = threading.Lock()

    @staticmethod
    def user_key(username: str) -> str:
        return "user:" + username.strip().lower()

    @staticmethod
    def source_key(source: str) -> str:
        return "source:" + source

    def keys(self, username: str, source: str) -> list[str]:
        keys = [self.user_key(username)]
        if source:
            keys.append(self.source_key(source))
        return keys

    def wait_left(self, username: str, source: str) -> float:
        """Seconds before this username from this address may try again (0: it may try now)."""
        now = self.clock()
        with self._lock:
            waits = [count.blocked_until - now for key in self.keys(username, source)
                     if (count := self._counts.get(key)) is not None]
        return max([0.0, *waits])

    def failed(self, username: str, source: str, policy: ThrottlePolicy) -> int:
        """Count a failed login; answers the username's consecutive failures."""
        now = self.clock()
        with self._lock:
            self._forget_quiet(now, policy)
            failures = 0
            for key in self.keys(username, source):
                count = self._counts.get(key)
                if count is None:
                    count = self._counts[key] = _Count(0, now, now)
                count.failures += 1
                count.last_failure = now
                count.blocked_until = now + policy.wait_after(count.failures)
                if key.startswith("user:"):
                    failures = count.failures
        return failures

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._counts.pop(self.user_key(username), None)

    def failures(self, key: str) -> int:
        with self._lock:
            count = self._counts.get(key)
            return count.failures if count is not None else 0

    def _forget_quiet(self, now: float, policy: ThrottlePolicy) -> None:
        if len(self._counts) < MAX_KEYS // 2:
            return
        quiet = [key for key, count in self._counts.items()
                 if count.blocked_until <= now and now - count.last_failure > policy.max_delay]
        for key in quiet:
            del self._counts[key]
        if len(self._counts) >= MAX_KEYS:
            by_age = sorted(self._counts, key=lambda k: self._counts[k].last_failure)
            for key in by_age[: len(self._counts) - MAX_KEYS // 2]:
                del self._counts[key]


@dataclass(frozen=True)
class LoginAttempt:
    """Where the login being handled comes from, and the throttle of the server handling it."""

    throttle: LoginThrottle
    source: str


# Set by the dispatcher for the request it is handling (the login command reads it; CallContext carries no
# network details).
CURRENT_ATTEMPT: ContextVar[LoginAttempt | None] = ContextVar("clusterstack_login_attempt", default=None)
