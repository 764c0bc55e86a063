"""createAccount accountid=/userid= and createDomain domainid= take only UUIDs, and one already used is refused with
431 naming the parameter, changing nothing (issue 11, defect 4: any string was taken, and a duplicate was 530)."""

from __future__ import annotations

import uuid

from .conftest import PASSWORD, World, refused


def _account(world: World, name: str, **ids: str) -> dict:
    return world.admin.createAccount(username=name, account=name, password=PASSWORD, email=f"{name}@example.org",
                                     firstname=name, lastname="X", accounttype=0, **ids)["account"]


def test_chosen_ids_are_uuids_and_unique(world: World) -> None:
    account_id, user_id, domain_id = (str(uuid.uuid4()) for _ in range(3))
    made = _account(world, "chosen", accountid=account_id.upper(), userid=user_id)
    assert made["id"] == account_id and made["user"][0]["id"] == user_id
    before = len(world.admin.listAccounts(listall=True)["account"])
    for params in ({"accountid": "not-a-uuid"}, {"userid": "1bad"}, {"accountid": account_id},
                   {"userid": user_id}):
        error = refused(world.admin.createAccount, username="second", account="second", password=PASSWORD,
                        email="s@example.org", firstname="S", lastname="X", accounttype=0, **params)
        assert error["errorcode"] == 431 and next(iter(params)) in error["errortext"]
    assert len(world.admin.listAccounts(listall=True)["account"]) == before
    assert world.admin.createDomain(name="Chosen", domainid=domain_id)["domain"]["id"] == domain_id
    for bad in ("x" * 40, domain_id):
        assert refused(world.admin.createDomain, name="Again", domainid=bad)["errorcode"] == 431
    assert [d["name"] for d in world.admin.listDomains(listall=True)["domain"]].count("Again") == 0
