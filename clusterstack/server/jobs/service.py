"""The async-job service: jobs live in the database and run on a pool of worker threads.

A worker claims a pending job with a conditional UPDATE (and FOR UPDATE SKIP LOCKED where the database has
it), so two management servers on one database never run the same job twice. The claimer holds a lease it
renews while the job runs; a job whose lease ran out (its server died) is run again if its command is
resumable and failed with a clear message otherwise: never lost, never stuck pending.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from clusterstack.server import settings
from clusterstack.server.api import errors
from clusterstack.server.api.caller import Caller
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import ApiError
from clusterstack.server.api.params import parse_params
from clusterstack.server.api.registry import JobTarget, find_command
from clusterstack.server.api.responses import clean, payload_of
from clusterstack.server.app import register_service
from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.jobs import JOB_FAILED, JOB_PENDING, JOB_STATE_NAMES, JOB_SUCCEEDED, AsyncJob
from clusterstack.server.db.transient import ATTEMPTS, run_again_on_transient
from clusterstack.server.identity import authentication
from clusterstack.server.metrics import ASYNC_JOBS
from clusterstack.server.state import ServerState

log = logging.getLogger("clusterstack.server.jobs")

JOB_WORKERS = settings.define_setting(
    "job.workers", 4, "Advanced", "Worker threads running async jobs on each management server", minimum=1,
    dynamic=False,
)
JOB_LEASE = settings.define_setting(
    "job.lease.seconds", 15, "Advanced",
    "A running job's lease; a job whose server stopped renewing it is taken over after this long", minimum=3,
    dynamic=False,
)
# Idle workers look at the database this often. A job submitted here wakes them at once (in process, when its
# request commits); the poll only finds jobs that another server's workers did not take (all busy, or the server
# died and the job's lease ran out), for which a few seconds more do not matter.
POLL_SECONDS = 5.0


@dataclass(frozen=True)
class _Claimed:
    """A job this server just claimed: what running it needs."""

    id: int
    uuid: str
    cmd: str
    params: str
    attempts: int
    caller: Caller | None


class JobService:
    def __init__(self, state: ServerState) -> None:
        self.state = state
        self._stop = threading.Event()
        self._wake = threading.Condition()
        self._pending_wakes = 0
        self._running: set[int] = set()
        self._running_lock = threading.Lock()
        with state.database.session() as db:
            self.workers = int(settings.get(db, JOB_WORKERS))
            self.lease_seconds = float(settings.get(db, JOB_LEASE))
        self._threads = [threading.Thread(target=self._work, name=f"job-worker-{i}", daemon=True)
                         for i in range(self.workers)]
        self._threads.append(threading.Thread(target=self._renew_leases, name="job-leases", daemon=True))

    # ---- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)

    def wake(self) -> None:
        """One more job may be runnable: one idle worker looks (a busy one looks anyway when it is done)."""
        with self._wake:
            self._pending_wakes += 1
            self._wake.notify()

    # ---- submitting ------------------------------------------------------------------------------------------

    def submit(self, db: Session, caller: Caller, command_name: str, params: dict[str, str],
               target: JobTarget | None) -> str:
        """Record a job in the request's unit of work; workers here are woken when it commits."""
        job = AsyncJob(user_id=caller.user_id, account_id=caller.account_id, domain_id=caller.domain_id,
                       cmd=command_name, params=json.dumps(params, sort_keys=True),
                       instance_type=target.instance_type if target else None,
                       instance_uuid=target.instance_uuid if target else None)
        db.add(job)
        db.flush()
        sa_event.listen(db, "after_commit", lambda _session: self.wake(), once=True)
        return job.uuid

    # ---- running ----------------------------------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                job = self._claim()
            except Exception:
                log.exception("claiming a job failed")
                job = None
            if job is None:
                with self._wake:
                    if self._pending_wakes == 0:
                        self._wake.wait(POLL_SECONDS)
                    self._pending_wakes = max(0, self._pending_wakes - 1)
                continue
            with self._running_lock:
                self._running.add(job.id)
            try:
                self._run(job)
            except Exception:
                log.exception("job %s could not be settled", job.id)
            finally:
                with self._running_lock:
                    self._running.discard(job.id)

    def _claim(self) -> Any:
        """Take one runnable job (pending and unowned, or pending with a lease that ran out): its row, with
        `attempts` counting this one, or None."""
        database = self.state.database
        with database.session() as db:
            now = utcnow()
            runnable = (AsyncJob.status == JOB_PENDING) & or_(AsyncJob.owner_msid.is_(None),
                                                              AsyncJob.lease_expires < now)
            query = (select(AsyncJob.id, AsyncJob.uuid, AsyncJob.cmd, AsyncJob.params, AsyncJob.user_id,
                            (AsyncJob.attempts + 1).label("attempts"))
                     .where(runnable).order_by(AsyncJob.id).limit(1))
            if database.backend != "sqlite":
                query = query.with_for_update(skip_locked=True)
            job = db.execute(query).first()
            if job is None:
                return None
            caller = authentication.caller_for_user_id(db, job.user_id)  # (read before the write below locks)
            taken = db.execute(
                update(AsyncJob).where(AsyncJob.id == job.id, runnable)
                .values(owner_msid=self.state.msid, lease_expires=now + timedelta(seconds=self.lease_seconds),
                        attempts=AsyncJob.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                return None
            return _Claimed(job.id, job.uuid, job.cmd, job.params, job.attempts, caller)

    def _run(self, job: _Claimed) -> None:
        job_id, job_uuid, attempts, cmd = job.id, job.uuid, job.attempts, job.cmd
        command = find_command(cmd)
        params = json.loads(job.params)
        caller = job.caller
        if command is None:
            self._finish(job_id, JOB_FAILED, errors.UNSUPPORTED_ACTION_ERROR,
                         {"errorcode": errors.UNSUPPORTED_ACTION_ERROR, "errortext": f"Unknown command {cmd}"})
            return
        if attempts > 1 and not getattr(command, "resumable", False):
            text = (f"Job interrupted: the management server running {cmd} stopped before it finished; "
                    "nothing was left half-done that the command does not clean up. Run it again")
            self._finish(job_id, JOB_FAILED, errors.INTERNAL_ERROR,
                         {"errorcode": errors.INTERNAL_ERROR, "cserrorcode": errors.CS_CLOUD_RUNTIME,
                          "errortext": text})
            return
        if caller is None:
            self._finish(job_id, JOB_FAILED, errors.ACCOUNT_ERROR,
                         {"errorcode": errors.ACCOUNT_ERROR, "errortext": "The job's user no longer exists or "
                          "is disabled"})
            return
        log.info("(job:%s) Executing %s for %s", job_uuid[:8], cmd, caller.username)
        def unit_of_work() -> None:
            with self.state.database.session() as db:
                ctx = CallContext(db=db, caller=caller, server=self.state, command=command.name,
                                  request_id=job_uuid[:8], job_uuid=job_uuid)
                parsed = parse_params(command, params)
                result = clean(payload_of(command.handler(ctx, parsed)))
                # the job succeeds in the same commit as its work: one write less, and never one without the other
                self._settle(db, job_id, JOB_SUCCEEDED, 0, result)

        try:
            # A resumable job picks up where the cluster is (that is what makes it survive a restart), so one the
            # database aborted as a deadlock or serialization failure is run again rather than failed after the
            # cluster already acted; the follower repairs whatever a job that still fails leaves behind.
            run_again_on_transient(unit_of_work, attempts=ATTEMPTS if getattr(command, "resumable", False) else 1,
                                   on_retry=lambda exc, attempt: log.info(
                                       "(job:%s) the database aborted attempt %d of %s (%s); running it again",
                                       job_uuid[:8], attempt, cmd, str(getattr(exc, "orig", exc)).splitlines()[0]))
        except ApiError as err:
            log.info("(job:%s) %s failed: %s", job_uuid[:8], cmd, err.text)
            self._finish(job_id, JOB_FAILED, err.errorcode,
                         {"errorcode": err.errorcode, "cserrorcode": err.cserrorcode, "errortext": err.text})
            return
        except Exception as exc:
            log.exception("(job:%s) %s failed unexpectedly", job_uuid[:8], cmd)
            self._finish(job_id, JOB_FAILED, errors.INTERNAL_ERROR,
                         {"errorcode": errors.INTERNAL_ERROR, "cserrorcode": errors.CS_CLOUD_RUNTIME,
                          "errortext": f"Internal error executing {cmd}: {exc.__class__.__name__}: {exc}"})
            return
        log.info("(job:%s) Complete %s", job_uuid[:8], cmd)

    def _finish(self, job_id: int, status: int, code: int, result: dict[str, Any]) -> None:
        with self.state.database.session() as db:
            self._settle(db, job_id, status, code, result)

    def _settle(self, db: Session, job_id: int, status: int, code: int, result: dict[str, Any]) -> None:
        db.execute(
            update(AsyncJob).where(AsyncJob.id == job_id, AsyncJob.owner_msid == self.state.msid,
                                   AsyncJob.status == JOB_PENDING)
            .values(status=status, result_code=code, result=json.dumps(result), completed=utcnow(),
                    lease_expires=None)
            .execution_options(synchronize_session=False)
        )

    def _renew_leases(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            with self._running_lock:
                running = list(self._running)
            if not running:
                continue
            try:
                with self.state.database.session() as db:
                    db.execute(
                        update(AsyncJob).where(AsyncJob.id.in_(running), AsyncJob.owner_msid == self.state.msid)
                        .values(lease_expires=utcnow() + timedelta(seconds=self.lease_seconds))
                        .execution_options(synchronize_session=False)
                    )
            except Exception:
                log.exception("renewing job leases failed")

    # ---- metrics ----------------------------------------------------------------------------------------------

    def update_metrics(self) -> None:
        with self.state.database.session() as db:
            counts = dict(db.execute(select(AsyncJob.status, func.count()).group_by(AsyncJob.status)).all())
        for status, name in JOB_STATE_NAMES.items():
            ASYNC_JOBS.labels(name).set(counts.get(status, 0))


register_service("jobs", JobService)
