"""queryAsyncJobResult and listAsyncJobs: what became of a job, in the command's own response shape."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from clusterstack.server.api.access import check_access, scope_owned
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.listing import ListResponse, paged_list
from clusterstack.server.api.lookup import find_by_uuid
from clusterstack.server.api.registry import ACCOUNT_SCOPE_PARAMS, PAGING_PARAMS, Param, api_command, define_entity
from clusterstack.server.db.models.identity import Account, User
from clusterstack.server.db.models.jobs import JOB_PENDING, AsyncJob

define_entity("asyncjobs", [
    ("jobid", "string", "the ID of the async job"),
    ("accountid", "string", "the account id that executed the async command"),
    ("account", "string", "the account that executed the async command"),
    ("userid", "string", "the user that executed the async command"),
    ("cmd", "string", "the async command executed"),
    ("jobstatus", "integer", "the current job status: 0 pending, 1 succeeded, 2 failed"),
    ("jobprocstatus", "integer", "the progress information of the PENDING job"),
    ("jobresultcode", "integer", "the result code for the job"),
    ("jobresulttype", "string", "the result type"),
    ("jobresult", "responseobject", "the result reason"),
    ("jobinstancetype", "string", "the instance/entity object related to the job"),
    ("jobinstanceid", "string", "the unique ID of the instance/entity object related to the job"),
    ("created", "date", "the created date of the job"),
    ("completed", "date", "the completed date of the job"),
    ("managementserverid", "string", "the msid of the management server on which the job is running"),
])


def render_job(db: Any, job: AsyncJob) -> dict[str, Any]:
    account = db.get(Account, job.account_id)
    user = db.get(User, job.user_id)
    answer: dict[str, Any] = {
        "jobid": job.uuid,
        "accountid": account.uuid if account else None,
        "account": account.name if account else None,
        "userid": user.uuid if user else None,
        "cmd": job.cmd,
        "jobstatus": job.status,
        "jobprocstatus": job.proc_status,
        "jobresultcode": job.result_code,
        "jobresulttype": "object",
        "jobinstancetype": job.instance_type,
        "jobinstanceid": job.instance_uuid,
        "created": job.created,
        "completed": job.completed,
        "managementserverid": job.owner_msid,
    }
    if job.status != JOB_PENDING and job.result is not None:
        answer["jobresult"] = json.loads(job.result)
    return answer


@api_command(
    "queryAsyncJobResult", description="Retrieves the current status of asynchronous job.", response="asyncjobs",
    params=[Param("jobid", "uuid", required=True, description="the ID of the asynchronous job")],
)
def query_async_job_result(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    job = find_by_uuid(ctx.db, AsyncJob, p["jobid"], "async job", "jobid")
    check_access(ctx.db, ctx.user, job, f"async job {job.uuid}")
    return render_job(ctx.db, job)


@api_command(
    "listAsyncJobs", description="Lists all pending asynchronous jobs for the account.", response="asyncjobs",
    params=[
        Param("startdate", "date", description="The start date of the async job (yyyy-MM-dd'T'HH:mm:ss+0000)"),
        Param("id", "uuid", description="the id of the async job"),
        *PAGING_PARAMS, *ACCOUNT_SCOPE_PARAMS,
    ],
)
def list_async_jobs(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    query = select(AsyncJob).where(AsyncJob.removed.is_(None))
    query = scope_owned(ctx.db, ctx.user, query, AsyncJob, p)
    if "id" in p:
        query = query.where(AsyncJob.uuid == p["id"])
    if "startdate" in p:
        query = query.where(AsyncJob.created >= p["startdate"])
    if "keyword" in p:
        query = query.where(AsyncJob.cmd.ilike(f"%{p['keyword']}%"))
    return paged_list(ctx.db, "asyncjobs", query.order_by(AsyncJob.id.desc()), p, lambda j: render_job(ctx.db, j))
