"""The prober on a real database: which rows it notices between two polls, including the awkward ones (a job
that starts and ends between polls, a row committed after a higher id, a job finishing far below the top)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import update

from clusterstack.server.db.engine import Database
from clusterstack.server.db.models.events import Event
from clusterstack.server.db.models.jobs import JOB_PENDING, JOB_SUCCEEDED, AsyncJob
from clusterstack.server.live.changes import Change, Owner
from clusterstack.server.live.probes import LATE_ROW_WINDOW, Prober


@pytest.fixture
def database(sqlite_url: str) -> Iterator[Database]:
    database = Database(sqlite_url)
    yield database
    database.dispose()


def _poll(database: Database, prober: Prober) -> Change | None:
    with database.session() as db:
        return prober.poll(db, {})


def _job(database: Database, account_id: int, status: int = JOB_PENDING, job_id: int | None = None) -> AsyncJob:
    with database.session() as db:
        job = AsyncJob(user_id=account_id, account_id=account_id, domain_id=1, cmd="stopVirtualMachine",
                       params="{}", status=status)
        if job_id is not None:
            job.id = job_id
        db.add(job)
    return job


def _finish(database: Database, job: AsyncJob) -> None:
    with database.session() as db:
        db.execute(update(AsyncJob).where(AsyncJob.id == job.id).values(status=JOB_SUCCEEDED))


def test_the_first_poll_is_a_baseline_and_a_quiet_poll_is_empty(database: Database) -> None:
    _job(database, 2)
    prober = Prober()
    assert _poll(database, prober) is None
    change = _poll(database, prober)
    assert change is not None and not change


def test_jobs_submitted_finished_and_both_between_polls(database: Database) -> None:
    prober = Prober()
    _poll(database, prober)
    submitted = _job(database, 2)
    change = _poll(database, prober)
    assert change is not None and change.owned == {"jobs": {Owner(2, 1)}} and change.finished_jobs == []
    _finish(database, submitted)
    quick = _job(database, 3, status=JOB_SUCCEEDED)  # started and ended between two polls
    change = _poll(database, prober)
    assert change is not None
    assert {job.uuid for job in change.finished_jobs} == {submitted.uuid, quick.uuid}
    assert change.owned["jobs"] == {Owner(2, 1), Owner(3, 1)}
    change = _poll(database, prober)
    assert change is not None and not change  # each end is told once


def test_a_pending_job_far_below_the_top_is_still_seen_to_finish(database: Database) -> None:
    old = _job(database, 2)
    prober = Prober()
    _poll(database, prober)
    for _ in range(LATE_ROW_WINDOW + 5):
        _job(database, 4, status=JOB_SUCCEEDED)
    _poll(database, prober)
    _finish(database, old)
    change = _poll(database, prober)
    assert change is not None and [job.uuid for job in change.finished_jobs] == [old.uuid]


def test_an_event_committed_after_a_higher_one_is_not_missed(database: Database) -> None:
    with database.session() as db:
        db.add(Event(id=10, type="VM.START", account_id=2, domain_id=1))
    prober = Prober()
    _poll(database, prober)
    with database.session() as db:
        db.add(Event(id=12, type="VM.STOP", account_id=2, domain_id=1))
    change = _poll(database, prober)
    assert change is not None and change.owned == {"events": {Owner(2, 1)}}
    with database.session() as db:  # id 11 was taken earlier by a transaction that commits only now
        db.add(Event(id=11, type="VM.CREATE", account_id=3, domain_id=1))
    change = _poll(database, prober)
    assert change is not None and change.owned == {"events": {Owner(3, 1)}}
