"""deleteAccount and deleteDomain cleanup=true release what the account held, as CloudStack's do
(AccountManagerImpl.cleanupAccount, DomainManagerImpl.cleanupDomain): its instances are destroyed and expunged,
so their roles are gone from the failover cluster, its volumes are deleted and the pool's space given back, its
users and keys stop working. A failure half-way leaves the account removed but needing cleanup, and running the
command again finishes it.
"""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStackApiException

from .seed_cloud import build_seed, wait_until

PASSWORD = "S3cret-pass!"
GB = 1024**3


@pytest.fixture
def seed(live_server: Any, simulator: Any) -> dict[str, Any]:
    return build_seed(live_server, simulator)


def _account(seed: dict[str, Any], name: str, domain_id: str | None = None) -> tuple[dict[str, Any], Any]:
    admin = seed["cs"]
    params = {"domainid": domain_id} if domain_id else {}
    account = admin.createAccount(accounttype=0, account=name, username=name, password=PASSWORD,
                                  email=f"{name}@example.org", firstname=name, lastname="Test", **params)["account"]
    keys = admin.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    return account, seed["server"].cs(keys["apikey"], keys["secretkey"])


def _deploy(seed: dict[str, Any], client: Any, name: str, offering: str) -> dict[str, Any]:
    """Deployed by the account's own user; answered as the root admin sees it (instancename is for admins)."""
    vm = client.deployVirtualMachine(zoneid=seed["zone"], serviceofferingid=seed["offerings"][offering],
                                     templateid=seed["template"], name=name, displayname=name)["virtualmachine"]
    seen: dict[str, Any] = seed["cs"].listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    return seen


def _roles(seed: dict[str, Any]) -> set[str]:
    return {r["name"] for r in seed["sim"].report()["roles"]}


def _allocated(seed: dict[str, Any]) -> int:
    allocated: int = seed["cs"].listStoragePools()["storagepool"][0]["disksizeallocated"]
    return allocated


def _account_volumes(seed: dict[str, Any], account: dict[str, Any]) -> list[dict[str, Any]]:
    volumes: list[dict[str, Any]] = seed["cs"].listVolumes(listall=True).get("volume", [])
    return [v for v in volumes if v["account"] == account["name"]]


def test_delete_account_expunges_its_instances_and_volumes(seed: dict[str, Any]) -> None:
    admin = seed["cs"]
    before = _allocated(seed)
    account, client = _account(seed, "leaving")
    ha = _deploy(seed, client, "leavingha", "HA Offering")
    plain = _deploy(seed, client, "leavingplain", "Small Instance")
    offering = admin.createDiskOffering(name="Data", displaytext="Data", disksize=2)["diskoffering"]
    attached = client.createVolume(name="attached", zoneid=seed["zone"], diskofferingid=offering["id"])["volume"]
    client.attachVolume(id=attached["id"], virtualmachineid=ha["id"])
    loose = client.createVolume(name="loose", zoneid=seed["zone"], diskofferingid=offering["id"])["volume"]
    client.attachVolume(id=loose["id"], virtualmachineid=plain["id"])
    client.detachVolume(id=loose["id"])  # its VHDX exists on the CSV, held by no instance
    assert {ha["instancename"], plain["instancename"]} <= _roles(seed)
    assert _allocated(seed) == before + 2 * 20 * GB + 2 * 2 * GB

    assert admin.deleteAccount(id=account["id"])["success"] is True  # cs waits for the job

    assert not {ha["instancename"], plain["instancename"]} & _roles(seed)
    listed = admin.listVirtualMachines(listall=True).get("virtualmachine", [])
    assert not [v for v in listed if v["id"] in (ha["id"], plain["id"])]
    assert _account_volumes(seed, account) == []
    assert _allocated(seed) == before
    assert admin.listAccounts(id=account["id"]) == {}
    with pytest.raises(CloudStackApiException) as refused:
        client.listVirtualMachines()
    assert refused.value.error["errorcode"] == 401
    expunges = [e for e in admin.listEvents(listall=True, type="VM.EXPUNGE").get("event", [])
                if ha["name"] in e["description"] or plain["name"] in e["description"]]
    assert len(expunges) == 2


def _lose_quorum(seed: dict[str, Any]) -> None:
    seed["sim"].fault("disk-fail", disk="ClusterDisk2")
    seed["sim"].fault("node-down", node="HYPERVCLLOUD17")
    seed["sim"].fault("node-down", node="HYPERVCLLOUD13")
    wait_until(lambda: seed["sim"].report()["quorum"]["state"] == "Lost")
    # the server sees it lost (over WinRM, with every node down, the cluster does not answer at all)
    wait_until(lambda: _summary(seed).get("quorumstate") == "Lost" or _summary(seed)["state"] == "Unreachable")


def _summary(seed: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = seed["cs"].listFailoverClusters()["failovercluster"][0]
    return summary


def _regain_quorum(seed: dict[str, Any]) -> None:
    seed["sim"].fault("disk-repair", disk="ClusterDisk2")
    seed["sim"].fault("node-up", node="HYPERVCLLOUD13")
    seed["sim"].fault("node-up", node="HYPERVCLLOUD17")
    wait_until(lambda: seed["sim"].report()["quorum"]["state"] != "Lost")
    wait_until(lambda: all(h["state"] == "Up" for h in seed["cs"].listHosts()["host"]))


def test_a_cleanup_that_fails_half_way_is_finished_by_a_retry(seed: dict[str, Any]) -> None:
    admin = seed["cs"]
    account, client = _account(seed, "stuck")
    vm = _deploy(seed, client, "stuckvm", "HA Offering")
    _lose_quorum(seed)

    with pytest.raises(CloudStackApiException) as failed:
        admin.deleteAccount(id=account["id"])
    error = failed.value.error
    assert error["errorcode"] == 530
    assert "stuckvm" in error["errortext"] and "deleteAccount again" in error["errortext"]
    # removed (no longer listed, its users gone) but its instance is still there: the account needs cleanup
    assert admin.listAccounts(id=account["id"]) == {}
    assert [v["id"] for v in admin.listVirtualMachines(listall=True)["virtualmachine"]] == [vm["id"]]
    assert vm["instancename"] in _roles(seed)

    _regain_quorum(seed)
    assert admin.deleteAccount(id=account["id"])["success"] is True
    assert vm["instancename"] not in _roles(seed)
    assert admin.listVirtualMachines(listall=True).get("virtualmachine", []) == []
    with pytest.raises(CloudStackApiException) as again:  # nothing left to clean up: the account is gone
        admin.deleteAccount(id=account["id"])
    assert again.value.error["errorcode"] == 431


def test_delete_domain_with_cleanup_expunges_the_instances_of_its_subtree(seed: dict[str, Any]) -> None:
    admin = seed["cs"]
    before = _allocated(seed)
    parent = admin.createDomain(name="Leaving")["domain"]
    child = admin.createDomain(name="LeavingChild", parentdomainid=parent["id"])["domain"]
    top, top_client = _account(seed, "topacct", parent["id"])
    low, low_client = _account(seed, "lowacct", child["id"])
    vms = [_deploy(seed, top_client, "topvm", "HA Offering"),
           _deploy(seed, low_client, "lowvm", "Small Instance")]
    assert {v["instancename"] for v in vms} <= _roles(seed)

    with pytest.raises(CloudStackApiException) as refused:  # without cleanup, a domain with accounts stays
        admin.deleteDomain(id=parent["id"])
    assert refused.value.error["errorcode"] == 536

    assert admin.deleteDomain(id=parent["id"], cleanup=True)["success"] is True
    assert not {v["instancename"] for v in vms} & _roles(seed)
    assert admin.listVirtualMachines(listall=True).get("virtualmachine", []) == []
    assert _allocated(seed) == before
    domains = {d["id"] for d in admin.listDomains(listall=True)["domain"]}
    assert not {parent["id"], child["id"]} & domains
    assert admin.listAccounts(id=top["id"]) == {} and admin.listAccounts(id=low["id"]) == {}


def test_the_account_cleanup_task_finishes_what_a_failed_delete_left(seed: dict[str, Any]) -> None:
    """CloudStack's AccountCleanupTask: every account.cleanup.interval seconds, removed accounts that still need
    cleanup are cleaned up again, without anyone running deleteAccount."""
    admin = seed["cs"]
    account, client = _account(seed, "leftover")
    vm = _deploy(seed, client, "leftovervm", "Small Instance")
    _lose_quorum(seed)
    with pytest.raises(CloudStackApiException):
        admin.deleteAccount(id=account["id"])
    assert vm["instancename"] in _roles(seed)

    _regain_quorum(seed)
    admin.updateConfiguration(name="account.cleanup.interval", value="1")
    wait_until(lambda: vm["instancename"] not in _roles(seed))
    wait_until(lambda: admin.listVirtualMachines(listall=True).get("virtualmachine", []) == [])
    with pytest.raises(CloudStackApiException) as gone:  # nothing is left to clean up
        admin.deleteAccount(id=account["id"])
    assert gone.value.error["errorcode"] == 431
