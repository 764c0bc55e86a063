"""Database errors that mean "run the transaction again": the database aborted it, not because it was wrong, but
because it lost a race (a deadlock victim, a serialization failure, a lock wait that timed out, SQLite busy).

The unit of work that hit one has been rolled back entirely, so running it again from the start is safe; the
API runs a request again, the job runner a resumable job, a few times with a short random pause.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

T = TypeVar("T")

ATTEMPTS = 4
# PostgreSQL SQLSTATEs: serialization_failure, deadlock_detected, lock_not_available
_PG_STATES = frozenset({"40001", "40P01", "55P03"})
# MySQL/MariaDB error numbers: lock wait timeout, deadlock found
_MYSQL_CODES = frozenset({1205, 1213})


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` is the database aborting a transaction that may succeed when run again."""
    if not isinstance(exc, DBAPIError) or exc.connection_invalidated:
        return False
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state in _PG_STATES:
        return True
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and args[0] in _MYSQL_CODES:
        return True
    text = str(orig).lower()
    return "database is locked" in text or "database table is locked" in text


def pause_before(attempt: int) -> None:
    """A short random pause before attempt `attempt` (2, 3, ...), growing with each, so the racers part ways."""
    time.sleep(random.uniform(0, 0.02 * 2 ** (attempt - 1)))


def run_again_on_transient(work: Callable[[], T], attempts: int = ATTEMPTS,
                           on_retry: Callable[[BaseException, int], None] | None = None) -> T:
    """Run `work` (one whole transaction); when the database aborts it as transient, run it again."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            if on_retry is not None:
                on_retry(exc, attempt)
            pause_before(attempt + 1)
    raise AssertionError("unreachable")
