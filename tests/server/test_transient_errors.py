"""A transaction the database aborts as a deadlock is recognised as transient and run again; other errors are not.

The deadlocks here are real: two connections lock two rows in opposite orders on PostgreSQL and on MariaDB.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from clusterstack.server.db.transient import is_transient, run_again_on_transient


def _deadlock(url: str) -> DBAPIError:
    """Provoke one deadlock between two transactions and answer the error its victim got."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS racing"))
        conn.execute(sa.text("CREATE TABLE racing (id INTEGER PRIMARY KEY, v INTEGER)"))
        conn.execute(sa.text("INSERT INTO racing VALUES (1, 0), (2, 0)"))
    both_hold_one = threading.Barrier(2)
    errors: list[DBAPIError] = []

    def transaction(first: int, second: int) -> None:
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE racing SET v = v + 1 WHERE id = :id"), {"id": first})
                both_hold_one.wait(timeout=30)
                conn.execute(sa.text("UPDATE racing SET v = v + 1 WHERE id = :id"), {"id": second})
        except DBAPIError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=transaction, args=order) for order in ((1, 2), (2, 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    engine.dispose()
    assert len(errors) == 1, f"expected one deadlock victim, got {errors}"
    return errors[0]


@pytest.mark.parametrize("backend", ["postgres", "mariadb"])
def test_a_real_deadlock_is_transient_and_runs_again(backend: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(f"fresh_{backend}_url")
    victim = _deadlock(url)
    assert is_transient(victim)
    calls: list[int] = []

    def unit_of_work() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise victim
        return "done"

    assert run_again_on_transient(unit_of_work) == "done"
    assert len(calls) == 2


def test_other_database_errors_are_not_run_again(fresh_postgres_url: str) -> None:
    engine = sa.create_engine(fresh_postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE unique_names (name VARCHAR(20) PRIMARY KEY)"))
    calls: list[Any] = []

    def unit_of_work() -> None:
        calls.append(1)
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO unique_names VALUES ('HAVM1')"))

    unit_of_work()
    with pytest.raises(IntegrityError) as info:
        run_again_on_transient(unit_of_work)
    engine.dispose()
    assert not is_transient(info.value)
    assert len(calls) == 2  # the first insert, and the refused one exactly once


def test_a_retry_gives_up_after_its_attempts() -> None:
    class Busy(Exception):
        def __str__(self) -> str:
            return "database is locked"

    attempts: list[int] = []

    def always_busy() -> None:
        attempts.append(1)
        raise DBAPIError("COMMIT", {}, Busy())

    with pytest.raises(DBAPIError):
        run_again_on_transient(always_busy, attempts=3)
    assert len(attempts) == 3
