"""Domains and accounts over HTTP: create, list, update, delete (with cleanup), their fields and events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from clusterstack.server.db.models.events import Event

from .conftest import PASSWORD, World, refused


def event_types(world: World) -> list[str]:
    with world.server.state.database.session() as db:
        return [e.type for e in db.scalars(select(Event).order_by(Event.id))]


def test_domain_tree(world: World) -> None:
    root = world.admin.listDomains()["domain"][0]
    assert (root["name"], root["path"], root["level"]) == ("ROOT", "ROOT", 0)
    assert "parentdomainid" not in root and root["haschild"] is False
    child = world.domain("Child")
    assert (child["path"], child["level"], child["parentdomainid"], child["parentdomainname"]) == \
        ("ROOT/Child", 1, root["id"], "ROOT")
    grand = world.domain("Grand", child)
    assert grand["path"] == "ROOT/Child/Grand"
    assert world.admin.listDomains(id=child["id"])["domain"][0]["haschild"] is True
    assert "already exists" in refused(world.admin.createDomain, name="child")["errortext"]
    assert refused(world.admin.createDomain, name="a/b")["errorcode"] == 431
    renamed = world.admin.updateDomain(id=child["id"], name="Kid", networkdomain="kid.example.org")["domain"]
    assert (renamed["name"], renamed["path"], renamed["networkdomain"]) == ("Kid", "ROOT/Kid", "kid.example.org")
    assert world.admin.listDomains(id=grand["id"])["domain"][0]["path"] == "ROOT/Kid/Grand"
    assert refused(world.admin.updateDomain, id=root["id"], name="TOP")["errorcode"] == 431
    assert refused(world.admin.deleteDomain, id=root["id"])["errorcode"] == 531
    by_level = world.admin.listDomains(listall=True, level=2)["domain"]
    assert [d["name"] for d in by_level] == ["Grand"]
    assert [d["name"] for d in world.admin.listDomainChildren(isrecursive=True)["domain"]] == ["Kid", "Grand"]
    assert [d["name"] for d in world.admin.listDomains(listall=True, keyword="ran")["domain"]] == ["Grand"]
    assert {"DOMAIN.CREATE", "DOMAIN.UPDATE"} <= set(event_types(world))


def test_delete_domain_needs_cleanup_when_not_empty(world: World) -> None:
    parent = world.domain("Busy")
    child = world.domain("Inner", parent)
    account = world.account(child, name="inner")
    inner = world.client(account)
    assert inner.listUsers()["count"] == 1
    error = refused(world.admin.deleteDomain, id=parent["id"])
    assert error["errorcode"] == 536 and "cleanup" in error["errortext"]
    assert world.admin.deleteDomain(id=parent["id"], cleanup=True)["success"] is True
    assert world.admin.listDomains(listall=True, name="Inner") == {}
    assert world.admin.listAccounts(listall=True, name="inner") == {}
    assert refused(inner.listUsers)["errorcode"] == 401
    empty = world.domain("Empty")
    assert world.admin.deleteDomain(id=empty["id"])["success"] is True
    assert world.domain("Busy")["path"] == "ROOT/Busy"  # the name is free again
    assert "DOMAIN.DELETE" in event_types(world)


def test_account_lifecycle(world: World) -> None:
    domain = world.domain("Sales")
    account = world.account(domain, name="acme", networkdomain="acme.example.org", timezone="Europe/Paris")
    assert (account["name"], account["accounttype"], account["roletype"], account["state"]) == \
        ("acme", 0, "User", "enabled")
    assert (account["domainid"], account["domain"], account["domainpath"]) == (domain["id"], "Sales", "ROOT/Sales")
    assert account["networkdomain"] == "acme.example.org"
    (user,) = account["user"]
    assert (user["username"], user["email"], user["timezone"]) == ("acme", "acme@example.org", "Europe/Paris")
    assert "password" not in user and "secretkey" not in user
    assert "already exists" in refused(world.admin.createAccount, accounttype=0, account="acme", username="x",
                                       password=PASSWORD, firstname="a", lastname="b", email="e@example.org",
                                       domainid=domain["id"])["errortext"]
    assert refused(world.admin.createAccount, username="y", password=PASSWORD, firstname="a", lastname="b",
                   email="e@example.org")["errortext"] == "Neither role type nor role ID is provided"
    updated = world.admin.updateAccount(id=account["id"], newname="acme2")["account"]
    assert updated["name"] == "acme2"
    by_name = world.admin.updateAccount(account="acme2", domainid=domain["id"], networkdomain="")["account"]
    assert "networkdomain" not in by_name
    domain_admin_role = world.admin.listRoles(name="Domain Admin")["role"][0]
    assert refused(world.admin.updateAccount, id=account["id"], roleid=domain_admin_role["id"])["errorcode"] == 431
    assert world.admin.listAccounts(listall=True, state="enabled", keyword="acme")["account"][0]["id"] == \
        account["id"]
    world.admin.disableAccount(id=account["id"], lock=False)
    assert world.admin.listAccounts(listall=True, state="disabled")["account"][0]["name"] == "acme2"
    world.admin.enableAccount(id=account["id"])
    assert world.admin.deleteAccount(id=account["id"])["success"] is True
    assert world.admin.listAccounts(id=account["id"]) == {}
    assert world.admin.listUsers(id=user["id"]) == {}
    assert {"ACCOUNT.CREATE", "USER.CREATE", "ACCOUNT.UPDATE", "ACCOUNT.DISABLE", "ACCOUNT.ENABLE",
            "ACCOUNT.DELETE"} <= set(event_types(world))


def test_admin_accounts_and_their_limits(sqlite_world: World) -> None:
    world = sqlite_world
    admin_account = world.admin.listAccounts(name="admin")["account"][0]
    assert (admin_account["accounttype"], admin_account["rolename"], admin_account["isdefault"]) == \
        (1, "Root Admin", True)
    assert refused(world.admin.deleteAccount, id=admin_account["id"])["errorcode"] == 531
    assert refused(world.admin.disableAccount, id=admin_account["id"], lock=True)["errorcode"] == 531
    second_root = world.account(accounttype=1, name="root2")
    assert second_root["rolename"] == "Root Admin"
    assert world.client(second_root).listDomains(listall=True)["count"] == 1
    domain = world.domain("Branch")
    branch_admin = world.client(world.account(domain, accounttype=2, name="branchadmin"))
    error = refused(branch_admin.createAccount, accounttype=1, username="evil", password=PASSWORD,
                    firstname="e", lastname="v", email="e@example.org", domainid=domain["id"])
    assert error["errorcode"] == 531
    made: Any = branch_admin.createAccount(accounttype=0, username="clerk", password=PASSWORD, firstname="c",
                                           lastname="k", email="c@example.org")["account"]
    assert made["domainid"] == domain["id"]  # a domain admin creates in its own domain by default
    sub = branch_admin.createDomain(name="Desk")["domain"]
    assert sub["path"] == "ROOT/Branch/Desk"
