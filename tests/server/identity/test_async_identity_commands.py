"""deleteAccount, disableAccount, deleteDomain and disableUser are asynchronous, as CloudStack declares them.

A client that knows CloudStack's API (Terraform's provider, Marvin) reads the job id of these commands and polls
queryAsyncJobResult; the `cs` client with fetch_result does the same. The reference of async flags is
../shared/reference/cloudstack-api.json, taken from CloudStack's @APICommand annotations (for these four:
DeleteAccountCmd, DisableAccountCmd, DeleteDomainCmd and DisableUserCmd extend BaseAsyncCmd).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clusterstack.server.api.registry import all_commands
from tests.server.identity.conftest import World, refused

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "cloudstack-api.json"


def test_async_flags_match_cloudstack() -> None:
    """Every command CloudStack also has is async exactly when CloudStack's is."""
    if not REFERENCE.exists():
        pytest.skip(f"CloudStack's API reference is not at {REFERENCE}")
    reference: dict[str, Any] = json.loads(REFERENCE.read_text())["commands"]
    differing = {c.name: c.isasync for c in all_commands()
                 if c.name in reference and reference[c.name]["isasync"] != c.isasync}
    assert differing == {}


def _raw(world: World, **params: Any) -> dict[str, Any]:
    """One signed request without waiting for its job: the answer as the wire carries it."""
    command = params.pop("command")
    answer: dict[str, Any] = getattr(world.admin, command)(fetch_result=False, **params)
    return answer


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_account_and_user_commands_answer_a_job(world: World) -> None:
    domain = world.domain("Async")
    account = world.account(domain)
    user_id = account["user"][0]["id"]

    answer = _raw(world, command="disableUser", id=user_id)
    assert set(answer) >= {"jobid", "id"} and answer["id"] == user_id
    # cs polls queryAsyncJobResult until the job ends and gives its jobresult
    assert world.admin.queryAsyncJobResult(jobid=answer["jobid"])["user"]["state"] == "disabled"

    disabled = world.admin.disableAccount(id=account["id"], lock=False)  # cs waits for the job
    assert disabled["account"]["state"] == "disabled"
    assert world.admin.deleteAccount(id=account["id"])["success"] is True
    assert world.admin.listAccounts(id=account["id"]) == {}

    answer = _raw(world, command="deleteDomain", id=domain["id"])
    assert answer["id"] == domain["id"] and "jobid" in answer
    assert world.admin.queryAsyncJobResult(jobid=answer["jobid"])["success"] is True
    assert domain["id"] not in [d["id"] for d in world.admin.listDomains(listall=True)["domain"]]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_refusals_come_before_the_job(world: World) -> None:
    """What CloudStack refuses for the caller or the target is refused at once, with no job to poll."""
    admin_account = world.admin.listAccounts(name="admin")["account"][0]
    assert refused(world.admin.deleteAccount, id=admin_account["id"])["errorcode"] == 531
    assert refused(world.admin.disableAccount, id=admin_account["id"], lock=True)["errorcode"] == 531
    assert refused(world.admin.deleteDomain, id=world.root_id)["errorcode"] == 531
    me = world.admin.listUsers(username="admin")["user"][0]
    assert refused(world.admin.disableUser, id=me["id"])["errorcode"] == 431
    assert world.admin.listAsyncJobs().get("asyncjobs", []) == []
