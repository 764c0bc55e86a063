"""The isolation matrix: a user sees and touches only its own account, a domain admin its subtree, root all.

Every identity command that takes an id is called by the root admin, by the domain admin of D1 and by a plain
user of D1, on targets in ROOT, in D1 itself, in D1's child D1a and in the sibling D2. A refused call must
change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cs
import pytest

from .conftest import World

PLACES = ("ROOT", "D1", "D1a", "D2")
CALLERS = ("root", "d1admin", "u1")


class Matrix:
    def __init__(self, world: World) -> None:
        self.world = world
        root = {"id": world.root_id}
        d1 = world.domain("D1")
        self.domains = {"ROOT": root, "D1": d1, "D1a": world.domain("D1a", d1), "D2": world.domain("D2")}
        self.d1admin_account = world.account(d1, accounttype=2, name="d1admin")
        self.u1_account = world.account(d1, name="u1")
        self.clients = {"root": world.admin, "d1admin": world.client(self.d1admin_account),
                        "u1": world.client(self.u1_account)}

    def reaches(self, caller: str, place: str) -> bool:
        """Whether the caller may act on an account (or user) in `place`."""
        return caller == "root" or (caller == "d1admin" and place in ("D1", "D1a"))


def outcome(call: Callable[..., Any], **params: Any) -> str:
    try:
        answer = call(**params)
    except cs.CloudStackApiException as exc:
        return f"refused {(exc.error or {}).get('errorcode')}"
    return "ok" if answer else "empty"


@pytest.fixture
def matrix(sqlite_world: World) -> Matrix:
    return Matrix(sqlite_world)


def _check(results: list[tuple[str, str, str, str, str]]) -> None:
    wrong = [f"{command} by {caller} on {place}: expected {want}, got {got}"
             for command, caller, place, want, got in results if want != got]
    assert wrong == [], "\n".join(wrong)
    outcomes = {got for *_, got in results}
    assert "ok" in outcomes and any(o.startswith("refused") for o in outcomes)


USER_COMMANDS: dict[str, tuple[Callable[[Any, str], dict[str, Any]], bool]] = {
    # name: (how to call it on a user id, whether it changes the user)
    "listUsers": (lambda c, uid: c.listUsers(id=uid), False),
    "updateUser": (lambda c, uid: c.updateUser(id=uid, firstname="Changed"), True),
    "disableUser": (lambda c, uid: c.disableUser(id=uid), True),
    "enableUser": (lambda c, uid: c.enableUser(id=uid), True),
    "lockUser": (lambda c, uid: c.lockUser(id=uid), True),
    "deleteUser": (lambda c, uid: c.deleteUser(id=uid), True),
    "registerUserKeys": (lambda c, uid: c.registerUserKeys(id=uid), True),
    "getUserKeys": (lambda c, uid: c.getUserKeys(id=uid), False),
}
ADMIN_ONLY_USER_COMMANDS = {"disableUser", "enableUser", "lockUser", "deleteUser"}


def _expected_for_user(matrix: Matrix, command: str, caller: str, place: str) -> str:
    if caller == "u1" and command in ADMIN_ONLY_USER_COMMANDS:
        return "refused 432"
    if matrix.reaches(caller, place):
        return "ok"
    # a domain admin's list is scoped to its subtree; a user listing another user by id is refused (CloudStack's
    # own answer); acting on a user out of reach is answered as for a user that does not exist, so that the
    # refusal tells neither that the user exists nor which account owns it (issue 11, defect 7)
    if command == "listUsers":
        return "empty" if caller == "d1admin" else "refused 531"
    return "refused 431"


def test_user_commands(matrix: Matrix) -> None:
    world, results = matrix.world, []
    for command, (call, _) in USER_COMMANDS.items():
        for caller in CALLERS:
            for place in PLACES:
                target = world.account(matrix.domains[place])["user"][0]
                before = world.admin.listUsers(id=target["id"])["user"][0]
                got = outcome(lambda: call(matrix.clients[caller], target["id"]))  # noqa: B023
                want = _expected_for_user(matrix, command, caller, place)
                results.append((command, caller, place, want, got))
                if got != "ok":
                    assert world.admin.listUsers(id=target["id"])["user"][0] == before
    _check(results)


def test_user_commands_on_oneself(matrix: Matrix) -> None:
    results = []
    for caller, account in (("u1", matrix.u1_account), ("d1admin", matrix.d1admin_account)):
        user_id = account["user"][0]["id"]
        for command, (call, _) in USER_COMMANDS.items():
            want = "ok"
            if command in ADMIN_ONLY_USER_COMMANDS:
                want = "refused 432" if caller == "u1" else "refused 431"
                if command == "enableUser" and caller == "d1admin":
                    want = "ok"
            got = outcome(lambda: call(matrix.clients[caller], user_id))  # noqa: B023
            results.append((command, caller, "self", want, got))
            if command == "registerUserKeys" and got == "ok":
                matrix.clients[caller] = matrix.world.client(account)
    _check(results)


ACCOUNT_COMMANDS: dict[str, Callable[[Any, dict[str, Any]], dict[str, Any]]] = {
    "listAccounts": lambda c, a: c.listAccounts(id=a["id"]),
    "updateAccount": lambda c, a: c.updateAccount(id=a["id"], newname=a["name"] + "-renamed"),
    "disableAccount": lambda c, a: c.disableAccount(id=a["id"], lock=False),
    "enableAccount": lambda c, a: c.enableAccount(id=a["id"]),
    "lockAccount": lambda c, a: c.lockAccount(account=a["name"], domainid=a["domainid"]),
    "deleteAccount": lambda c, a: c.deleteAccount(id=a["id"]),
}


def test_account_commands(matrix: Matrix) -> None:
    world, results = matrix.world, []
    for command, call in ACCOUNT_COMMANDS.items():
        for caller in CALLERS:
            for place in PLACES:
                target = world.account(matrix.domains[place])
                before = world.admin.listAccounts(id=target["id"])["account"][0]
                got = outcome(lambda: call(matrix.clients[caller], target))  # noqa: B023
                if caller == "u1" and command != "listAccounts":
                    want = "refused 432"
                elif matrix.reaches(caller, place):
                    want = "ok"
                else:
                    want = "refused 531"
                results.append((command, caller, place, want, got))
                if got != "ok":
                    assert world.admin.listAccounts(id=target["id"])["account"][0] == before
    _check(results)


def test_account_commands_on_own_account(matrix: Matrix) -> None:
    results = []
    for caller, account in (("u1", matrix.u1_account), ("d1admin", matrix.d1admin_account)):
        for command, call in ACCOUNT_COMMANDS.items():
            if command == "listAccounts":
                want = "ok"
            elif caller == "u1":
                want = "refused 432"
            else:
                want = {"updateAccount": "ok", "enableAccount": "ok"}.get(command, "refused 531")
            got = outcome(lambda: call(matrix.clients[caller], account))  # noqa: B023
            results.append((command, caller, "own", want, got))
            if command == "updateAccount" and got == "ok":
                account["name"] += "-renamed"
    _check(results)


DOMAIN_COMMANDS: dict[str, Callable[[Any, dict[str, Any]], dict[str, Any]]] = {
    "listDomains": lambda c, d: c.listDomains(id=d["id"]),
    "listDomainChildren": lambda c, d: c.listDomainChildren(id=d["id"]),
    "updateDomain": lambda c, d: c.updateDomain(id=d["id"], networkdomain="changed.example.org"),
    "deleteDomain": lambda c, d: c.deleteDomain(id=d["id"], cleanup=True),
}


def test_domain_commands(matrix: Matrix) -> None:
    """Targets: a fresh child of ROOT (outside D1), a fresh child of D1 (inside), and D1 itself."""
    world, results = matrix.world, []
    for command, call in DOMAIN_COMMANDS.items():
        for caller in CALLERS:
            for where in ("outside", "inside", "own"):
                if where == "own":
                    target = matrix.domains["D1"]
                else:
                    parent = matrix.domains["D1"] if where == "inside" else None
                    target = world.domain(f"T{len(results)}", parent)
                    world.domain(f"C{len(results)}", target)
                before = world.admin.listDomains(id=target["id"])["domain"][0]
                want = _expected_for_domain(command, caller, where)
                if where == "own" and command == "deleteDomain" and caller == "root":
                    continue  # D1 holds the other callers; deleting it is covered elsewhere
                got = outcome(lambda: call(matrix.clients[caller], target))  # noqa: B023
                results.append((command, caller, where, want, got))
                if got != "ok" and command != "deleteDomain":
                    assert world.admin.listDomains(id=target["id"])["domain"][0] == before
                if got != "ok" and command == "deleteDomain":
                    assert world.admin.listDomains(id=target["id"])["count"] == 1
    _check(results)


def _expected_for_domain(command: str, caller: str, where: str) -> str:
    if command.startswith("list"):
        if caller == "root" or (caller == "d1admin" and where in ("inside", "own")) or \
                (caller == "u1" and where == "own"):
            return "empty" if caller == "u1" and command == "listDomainChildren" else "ok"
        return "refused 531"
    if caller == "u1":
        return "refused 432"
    if caller == "root" or (caller == "d1admin" and where == "inside"):
        return "ok"
    return "refused 531"


ROLE_COMMANDS: dict[str, Callable[[Any, dict[str, Any]], dict[str, Any]]] = {
    "listRoles": lambda c, r: c.listRoles(id=r["id"]),
    "updateRole": lambda c, r: c.updateRole(id=r["id"], description="changed"),
    "createRolePermission": lambda c, r: c.createRolePermission(roleid=r["id"], rule="listZones",
                                                                permission="deny"),
    "listRolePermissions": lambda c, r: c.listRolePermissions(roleid=r["id"]),
    "updateRolePermission": lambda c, r: c.updateRolePermission(roleid=r["id"], ruleid=r["rule"],
                                                                permission="allow"),
    "deleteRolePermission": lambda c, r: c.deleteRolePermission(id=r["rule"]),
    "deleteRole": lambda c, r: c.deleteRole(id=r["id"]),
}


def test_role_commands(matrix: Matrix) -> None:
    world, results = matrix.world, []
    for command, call in ROLE_COMMANDS.items():
        for caller in CALLERS:
            for role_type in ("Admin", "User"):
                role = world.admin.createRole(name=f"R{len(results)}", type=role_type)["role"]
                rule = world.admin.createRolePermission(roleid=role["id"], rule="list*", permission="deny")
                target = {**role, "rule": rule["rolepermission"]["id"]}
                if caller == "root":
                    want = "ok"
                elif command == "listRoles":
                    want = "ok" if role_type == "User" else "empty"
                else:
                    want = "refused 432"
                got = outcome(lambda: call(matrix.clients[caller], target))  # noqa: B023
                results.append((command, caller, role_type, want, got))
                if got != "ok":
                    kept = world.admin.listRolePermissions(roleid=role["id"])["rolepermission"]
                    assert [(r["rule"], r["permission"]) for r in kept] == [("list*", "deny")]
    _check(results)


def test_list_scoping(world: World) -> None:
    """Without an id: what each caller's lists hold (SQLite and PostgreSQL: prefix matching on paths)."""
    m = Matrix(world)
    others = {place: world.account(m.domains[place], name=f"in{place}") for place in PLACES}
    # a domain whose name shares D1's prefix must not count as D1's subtree
    lookalike = world.domain("D1_x")
    world.account(lookalike, name="lookalike")

    def names(answer: dict[str, Any], key: str, field: str = "name") -> set[str]:
        return {item[field] for item in answer.get(key, [])}

    root_accounts = names(world.admin.listAccounts(listall=True), "account")
    assert {"admin", "d1admin", "u1", "lookalike", *(a["name"] for a in others.values())} <= root_accounts
    d1_view = names(m.clients["d1admin"].listAccounts(listall=True), "account")
    assert d1_view == {"d1admin", "u1", "inD1", "inD1a"}
    assert names(m.clients["d1admin"].listUsers(listall=True), "user", "username") == d1_view
    assert names(m.clients["u1"].listAccounts(listall=True), "account") == {"u1"}
    assert names(m.clients["u1"].listUsers(listall=True), "user", "username") == {"u1"}
    assert names(m.clients["d1admin"].listDomains(listall=True), "domain") == {"D1", "D1a"}
    assert names(m.clients["u1"].listDomains(listall=True), "domain") == {"D1"}
    assert names(world.admin.listDomains(listall=True), "domain") == {"ROOT", "D1", "D1a", "D2", "D1_x"}
    assert names(world.admin.listDomains(), "domain") == {"ROOT", "D1", "D1a", "D2", "D1_x"}
    assert names(m.clients["d1admin"].listDomains(), "domain") == {"D1"}
    assert names(world.admin.listDomainChildren(id=m.domains["D1"]["id"]), "domain") == {"D1a"}
    direct = world.admin.listAccounts(domainid=m.domains["D1"]["id"])
    assert names(direct, "account") == {"d1admin", "u1", "inD1"}
    recursive = world.admin.listAccounts(domainid=m.domains["D1"]["id"], isrecursive=True)
    assert names(recursive, "account") == {"d1admin", "u1", "inD1", "inD1a"}
    refused_scope = outcome(m.clients["d1admin"].listAccounts, domainid=m.domains["D2"]["id"])
    assert refused_scope == "refused 531"
    assert outcome(m.clients["u1"].listUsers, account="inD1", domainid=m.domains["D1"]["id"]) == "refused 531"


def test_root_admin_accounts_inside_a_subtree_are_out_of_the_domain_admins_reach(matrix: Matrix) -> None:
    world = matrix.world
    boss = world.account(matrix.domains["D1a"], accounttype=1, name="boss")
    d1admin = matrix.clients["d1admin"]
    user_id = boss["user"][0]["id"]
    for call, params in ((d1admin.updateUser, {"id": user_id, "password": "Taken-over-1"}),
                         (d1admin.registerUserKeys, {"id": user_id}),
                         (d1admin.getUserKeys, {"id": user_id}),
                         (d1admin.disableUser, {"id": user_id}),
                         (d1admin.deleteAccount, {"id": boss["id"]}),
                         (d1admin.updateAccount, {"id": boss["id"], "newname": "mine"})):
        on_user = "id" in params and params["id"] == user_id
        assert outcome(call, **params) == ("refused 431" if on_user else "refused 531")
    assert world.api(command="login", username="boss", password="S3cret-pass!",
                     domain="/D1/D1a").status_code == 200
