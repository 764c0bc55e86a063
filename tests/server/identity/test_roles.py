"""Dynamic roles over HTTP: rules decide, first match wins, wildcards, 432 for a denied command."""

from __future__ import annotations

from .conftest import World, refused

UNKNOWN_COMMAND = "The given command does not exist or it is not available for user"


def test_default_roles_and_their_rules(world: World) -> None:
    roles = {r["name"]: r for r in world.admin.listRoles()["role"]}
    assert {n: r["type"] for n, r in roles.items()} == {"Root Admin": "Admin", "Domain Admin": "DomainAdmin",
                                                        "User": "User"}
    assert all(r["isdefault"] for r in roles.values())
    user_rules = world.admin.listRolePermissions(roleid=roles["User"]["id"])["rolepermission"]
    rules = {r["rule"] for r in user_rules}
    assert {"listUsers", "registerUserKeys", "login"} <= rules
    assert "createDomain" not in rules and "createAccount" not in rules
    assert all(r["permission"] == "allow" and r["rolename"] == "User" for r in user_rules)
    domain_admin_rules = {r["rule"] for r in world.admin.listRolePermissions(
        roleid=roles["Domain Admin"]["id"])["rolepermission"]}
    assert {"createAccount", "createDomain", "listUsers"} <= domain_admin_rules
    assert "createRole" not in domain_admin_rules
    assert refused(world.admin.deleteRole, id=roles["User"]["id"])["errorcode"] == 531
    assert refused(world.admin.updateRole, id=roles["User"]["id"], name="Renamed")["errorcode"] == 531


def test_a_denied_command_is_432_and_rules_apply_in_order(world: World) -> None:
    role = world.admin.createRole(name="Auditor", type="User", description="reads, never writes")["role"]
    assert (role["type"], role["isdefault"]) == ("User", False)
    account = world.account(roleid=role["id"], name="audrey")
    assert account["rolename"] == "Auditor" and account["accounttype"] == 0
    audrey = world.client(account)
    assert audrey.listUsers()["count"] == 1  # no rule yet: the command's default roles decide

    deny = world.admin.createRolePermission(roleid=role["id"], rule="listUsers", permission="deny")["rolepermission"]
    error = refused(audrey.listUsers)
    assert (error["errorcode"], error["errortext"]) == (432, UNKNOWN_COMMAND)
    assert audrey.listDomains()["count"] == 1

    wildcard = world.admin.createRolePermission(roleid=role["id"], rule="list*", permission="deny")["rolepermission"]
    assert refused(audrey.listDomains)["errorcode"] == 432
    allow_accounts = world.admin.createRolePermission(roleid=role["id"], rule="listAccounts",
                                                      permission="allow")["rolepermission"]
    assert refused(audrey.listAccounts)["errorcode"] == 432  # list* comes first
    world.admin.updateRolePermission(roleid=role["id"],
                                     ruleorder=[allow_accounts["id"], deny["id"], wildcard["id"]])
    assert audrey.listAccounts()["count"] == 1
    ordered = world.admin.listRolePermissions(roleid=role["id"])["rolepermission"]
    assert [r["rule"] for r in ordered] == ["listAccounts", "listUsers", "list*"]

    world.admin.updateRolePermission(roleid=role["id"], ruleid=deny["id"], permission="allow")
    assert audrey.listUsers()["count"] == 1
    world.admin.deleteRolePermission(id=wildcard["id"])
    assert audrey.listDomains()["count"] == 1
    # an admin-only command stays refused even without a rule
    assert refused(audrey.createDomain, name="X")["errorcode"] == 432

    events = {e.type for e in _events(world)}
    assert {"ROLE.CREATE", "ROLE.PERMISSION.CREATE", "ROLE.PERMISSION.UPDATE", "ROLE.PERMISSION.DELETE"} <= events


def _events(world: World) -> list:  # type: ignore[type-arg]
    from sqlalchemy import select

    from clusterstack.server.db.models.events import Event

    with world.server.state.database.session() as db:
        return list(db.scalars(select(Event)))


def test_rule_validation(sqlite_world: World) -> None:
    world = sqlite_world
    role = world.admin.createRole(name="Checker", type="User")["role"]
    assert refused(world.admin.createRolePermission, roleid=role["id"], rule="list Users",
                   permission="deny")["errorcode"] == 431
    assert refused(world.admin.createRolePermission, roleid=role["id"], rule="listUsers",
                   permission="maybe")["errorcode"] == 431
    world.admin.createRolePermission(roleid=role["id"], rule="listUsers", permission="deny")
    assert "already exists" in refused(world.admin.createRolePermission, roleid=role["id"], rule="listUsers",
                                       permission="allow")["errortext"]
    assert refused(world.admin.createRole, name="checker", type="User")["errorcode"] == 431
    assert refused(world.admin.createRole, name="Both", type="User", roleid=role["id"])["errorcode"] == 431
    assert refused(world.admin.createRole, name="Odd", type="Superuser")["errorcode"] == 431


def test_clone_update_and_delete_roles(world: World) -> None:
    source = world.admin.createRole(name="Base", type="User")["role"]
    world.admin.createRolePermission(roleid=source["id"], rule="list*", permission="allow")
    clone = world.admin.createRole(name="Copy", roleid=source["id"])["role"]
    assert clone["type"] == "User"
    assert [r["rule"] for r in world.admin.listRolePermissions(roleid=clone["id"])["rolepermission"]] == ["list*"]
    updated = world.admin.updateRole(id=clone["id"], name="Copy2", description="changed", type="DomainAdmin")["role"]
    assert (updated["name"], updated["description"], updated["type"]) == ("Copy2", "changed", "DomainAdmin")
    account = world.account(roleid=source["id"])
    error = refused(world.admin.deleteRole, id=source["id"])
    assert error["errorcode"] == 536
    assert refused(world.admin.updateRole, id=source["id"], type="DomainAdmin")["errorcode"] == 536
    world.admin.deleteAccount(id=account["id"])
    assert world.admin.deleteRole(id=source["id"])["success"] is True
    assert world.admin.listRoles(id=source["id"]) == {}
    assert world.admin.createRole(name="Base", type="User")["role"]["name"] == "Base"


def test_who_sees_which_roles(sqlite_world: World) -> None:
    world = sqlite_world
    domain = world.domain("Sub")
    dadmin = world.client(world.account(domain, accounttype=2))
    user = world.client(world.account(domain))
    assert {r["type"] for r in dadmin.listRoles()["role"]} == {"DomainAdmin", "User"}
    assert {r["type"] for r in user.listRoles()["role"]} == {"User"}
    assert {r["type"] for r in world.admin.listRoles()["role"]} == {"Admin", "DomainAdmin", "User"}
