"""Accounts: createAccount, listAccounts, updateAccount, deleteAccount, disableAccount, enableAccount,
lockAccount.

deleteAccount and disableAccount are asynchronous, as in CloudStack: the request checks the account and who
asks and answers a job id; the job does the work (deleteAccount answers `success`, disableAccount the account).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from clusterstack.server import events
from clusterstack.server.api.commands.users import new_user
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import internal_error, param_error, permission_denied
from clusterstack.server.api.listing import ListResponse, paged_list
from clusterstack.server.api.lookup import keyword_pattern, unused_uuid
from clusterstack.server.api.registry import (
    ADMIN,
    DOMAIN_ADMIN,
    PAGING_PARAMS,
    JobTarget,
    Param,
    api_command,
)
from clusterstack.server.api.registry import ALL_ROLES as EVERYONE
from clusterstack.server.db.models.identity import (
    ACCOUNT_TYPE_ADMIN,
    ACCOUNT_TYPE_FOR_ROLE_TYPE,
    Account,
    Role,
    User,
)
from clusterstack.server.identity import scope
from clusterstack.server.identity.listing_scope import scope_accounts
from clusterstack.server.identity.removal import drop_sessions
from clusterstack.server.identity.rendering import render_account
from clusterstack.server.orchestration import account_cleanup

ADMINS = ADMIN | DOMAIN_ADMIN
ROLE_TYPE_FOR_ACCOUNT_TYPE = {v: k for k, v in ACCOUNT_TYPE_FOR_ROLE_TYPE.items()}


def _role_for(ctx: CallContext, p: dict[str, Any]) -> tuple[Role, int]:
    """The role and account type of a new account, from roleid and/or accounttype."""
    if "roleid" in p:
        role = ctx.db.scalar(select(Role).where(Role.uuid == p["roleid"], Role.removed.is_(None)))
        if role is None:
            raise param_error(f"Unable to find role with specified roleid: {p['roleid']}")
        account_type = ACCOUNT_TYPE_FOR_ROLE_TYPE[role.role_type]
        if "accounttype" in p and p["accounttype"] != account_type:
            raise param_error("Provided accounttype does not match the type of the provided role")
        return role, account_type
    if "accounttype" not in p:
        raise param_error("Neither role type nor role ID is provided")
    role_type = ROLE_TYPE_FOR_ACCOUNT_TYPE.get(p["accounttype"])
    if role_type is None:
        raise param_error(f"Invalid account type {p['accounttype']} given; valid types are 0 (user), 1 (admin) and "
                          "2 (domain admin)")
    role = ctx.db.scalar(
        select(Role).where(Role.role_type == role_type, Role.is_default.is_(True), Role.removed.is_(None))
        .order_by(Role.id)
    )
    if role is None:
        raise param_error(f"No default role of type {role_type} exists")
    return role, p["accounttype"]


def _record(ctx: CallContext, event_type: str, text: str, account: Account) -> None:
    events.record_event(ctx.db, event_type, text, ctx.actor, resource_type="Account", resource_uuid=account.uuid,
                        resource_name=account.name)


def _target(ctx: CallContext, p: dict[str, Any]) -> Account:
    """The account named by id, or by account name and domainid, that the caller may act on."""
    if "id" in p:
        account = scope.find_account(ctx.db, p["id"])
    elif "account" in p and "domainid" in p:
        domain = scope.find_domain(ctx.db, p["domainid"], "domainid")
        scope.check_domain_access(ctx.user, domain)
        account = scope.find_account_by_name(ctx.db, p["account"], domain)
    else:
        raise param_error("Either accountId or (account name and domainId) must be specified")
    scope.check_account_access(ctx.db, ctx.user, account)
    return account


def _job_target(ctx: CallContext, p: dict[str, Any], action: str) -> JobTarget:
    """The synchronous part of deleteAccount and disableAccount (async in CloudStack): refuse at once what the
    job would refuse, and name the account as the job's target."""
    account = _target(ctx, p)
    _refuse_protected(ctx, account, action)
    return JobTarget("Account", account.uuid)


def _refuse_protected(ctx: CallContext, account: Account, action: str) -> None:
    if account.id == 1:
        raise permission_denied(f"The default admin account can't be {action}")
    if account.id == ctx.user.account_id:
        raise permission_denied(f"The caller's own account can't be {action}")


ACCOUNT_IDENTITY_PARAMS = (
    Param("id", "uuid", description="Account id"),
    Param("account", description="Account name"),
    Param("domainid", "uuid", description="The domain ID of the account. If used with the account parameter, "
          "names the account in this domain"),
)


@api_command(
    "createAccount",
    description="Creates an account",
    params=[
        Param("accounttype", "integer", description="Type of the account. Specify 0 for user, 1 for root admin, "
              "and 2 for domain admin"),
        Param("roleid", "uuid", description="Creates the account under the specified role."),
        Param("username", required=True, description="Unique username."),
        Param("password", required=True, description="Clear text password (Default hashed to SHA256SALT). If you "
              "wish to use any other hashing algorithm, you would need to write a custom authentication adapter."),
        Param("firstname", required=True, description="firstname"),
        Param("lastname", required=True, description="lastname"),
        Param("email", required=True, description="email"),
        Param("account", description="Name of the account to be created. The user will be added to this newly "
              "created account. If no account is specified, the username will be used as the account name."),
        Param("domainid", "uuid", description="Creates the user under the specified domain."),
        Param("networkdomain", description="Network domain for the account's networks"),
        Param("timezone", description="Specifies a timezone for this command."),
        Param("accountid", description="Account UUID, required for adding account from external provisioning "
              "system"),
        Param("userid", description="User UUID, required for adding account from external provisioning system"),
        Param("accountdetails", "map", description="details for the account used to store specific parameters"),
    ],
    response="account",
    roles=ADMINS,
)
def create_account(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    caller = ctx.user
    role, account_type = _role_for(ctx, p)
    domain = scope.find_domain(ctx.db, p["domainid"], "domainid") if "domainid" in p else \
        scope.live_domain(ctx.db, caller.domain_id)
    scope.check_domain_access(caller, domain)
    if not caller.is_root_admin and account_type == ACCOUNT_TYPE_ADMIN:
        raise permission_denied(f"Account {caller.account_name} can't create an account of type admin")
    name = p.get("account") or p["username"]
    exists = ctx.db.scalar(
        select(Account.id).where(Account.name == name, Account.domain_id == domain.id, Account.removed.is_(None))
    )
    if exists is not None:
        raise param_error(f"The specified account: {name} already exists")
    account = Account(name=name, type=account_type, domain_id=domain.id, role_id=role.id, state="enabled",
                      network_domain=p.get("networkdomain"))
    if "accountid" in p:
        account.uuid = unused_uuid(ctx.db, Account, "accountid", p["accountid"], "account")
    user_uuid = unused_uuid(ctx.db, User, "userid", p["userid"], "user") if "userid" in p else None
    ctx.db.add(account)
    ctx.db.flush()
    user = new_user(ctx.db, account, p)
    if user_uuid is not None:
        user.uuid = user_uuid
    _record(ctx, "ACCOUNT.CREATE", f"Successfully completed creating Account. Account Name: {name}, Domain Id: "
            f"{domain.uuid}", account)
    events.record_event(ctx.db, "USER.CREATE", f"User Name: {user.username}, Account: {name}, Domain: "
                        f"{domain.name}", ctx.actor, resource_type="User", resource_uuid=user.uuid,
                        resource_name=user.username)
    ctx.db.flush()
    return {"account": render_account(ctx.db, account)}


@api_command(
    "listAccounts",
    description="Lists accounts and provides detailed account information for listed accounts",
    params=[
        Param("id", "uuid", description="List account by account ID"),
        Param("name", description="List account by account name"),
        Param("accounttype", "integer", description="List accounts by account type. Valid account types are 1 "
              "(admin), 2 (domain-admin), and 0 (user)."),
        Param("state", description="List accounts by state. Valid states are enabled, disabled, and locked."),
        Param("roleid", "uuid", description="List accounts by the role"),
        Param("domainid", "uuid", description="list only resources belonging to the domain specified"),
        Param("isrecursive", "boolean", description="defaults to false, but if true, lists all resources from "
              "the parent specified by the domainId till leaves."),
        Param("listall", "boolean", description="If set to false, list only resources belonging to the "
              "command's caller; if set to true - list resources that the caller is authorized to see. Default "
              "value is false"),
        Param("iscleanuprequired", "boolean", description="list accounts by cleanuprequired attribute (values are "
              "true or false)"),
        Param("details", "list", collection_type="string", description="comma separated list of account details "
              "requested, value can be a list of [ all, resource, min]"),
        *PAGING_PARAMS,
    ],
    response="account",
    roles=EVERYONE,
)
def list_accounts(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    query = select(Account).where(Account.removed.is_(None))
    if "id" in p:
        # an id that names no live account lists nothing (as CloudStack); one out of reach is refused
        found = ctx.db.scalar(select(Account).where(Account.uuid == p["id"], Account.removed.is_(None)))
        if found is not None:
            scope.check_account_access(ctx.db, ctx.user, found)
        query = query.where(Account.uuid == p["id"])
    query = scope_accounts(ctx.db, ctx.user, query, p)
    if "name" in p:
        query = query.where(Account.name == p["name"])
    if "accounttype" in p:
        query = query.where(Account.type == p["accounttype"])
    if "state" in p:
        query = query.where(Account.state == p["state"].lower())
    if "roleid" in p:
        query = query.where(Account.role_id.in_(select(Role.id).where(Role.uuid == p["roleid"])))
    if "iscleanuprequired" in p:
        query = query.where(Account.needs_cleanup.is_(p["iscleanuprequired"]))
    if "keyword" in p:
        query = query.where(Account.name.like(keyword_pattern(p["keyword"]), escape="\\"))
    query = query.order_by(Account.id)
    return paged_list(ctx.db, "account", query, p, lambda a: render_account(ctx.db, a))


@api_command(
    "updateAccount",
    description="Updates account information for the authenticated user",
    params=[
        *ACCOUNT_IDENTITY_PARAMS,
        Param("newname", description="new name for the account"),
        Param("networkdomain", description="Network domain for the account's networks; empty string will update "
              "domainName with NULL value"),
        Param("roleid", "uuid", description="The UUID of the dynamic role to set for the account"),
        Param("accountdetails", "map", description="Details for the account used to store specific parameters"),
    ],
    response="account",
    roles=ADMINS,
)
def update_account(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    account = _target(ctx, p)
    changes: list[str] = []
    if "newname" in p and p["newname"] != account.name:
        if not p["newname"].strip():
            raise param_error("The new account name can't be empty")
        taken = ctx.db.scalar(select(Account.id).where(
            Account.name == p["newname"], Account.domain_id == account.domain_id, Account.removed.is_(None)))
        if taken is not None:
            raise param_error(f"There already exists an account with the name: {p['newname']} in the domain")
        account.name = p["newname"]
        changes.append("name")
    if "networkdomain" in p:
        account.network_domain = p["networkdomain"] or None
        changes.append("networkdomain")
    if "roleid" in p:
        role = ctx.db.scalar(select(Role).where(Role.uuid == p["roleid"], Role.removed.is_(None)))
        if role is None:
            raise param_error(f"Unable to find role with specified roleid: {p['roleid']}")
        if ACCOUNT_TYPE_FOR_ROLE_TYPE[role.role_type] != account.type:
            raise param_error("The role type of the new role must match the account type of the account")
        if account.id == ctx.user.account_id:
            raise permission_denied("The caller can't change the role of its own account")
        account.role_id = role.id
        changes.append("role")
    _record(ctx, "ACCOUNT.UPDATE", f"Updated account {account.name}" +
            (f": {', '.join(changes)}" if changes else ""), account)
    ctx.db.flush()
    return {"account": render_account(ctx.db, account)}


def _deleting(ctx: CallContext, p: dict[str, Any]) -> Account:
    """The account deleteAccount works on: a live one, or a removed one whose cleanup is still pending (a retry
    finishes it)."""
    account = ctx.db.scalar(select(Account).where(
        Account.uuid == p["id"], Account.removed.is_(None) | Account.needs_cleanup.is_(True)))
    if account is None:
        raise param_error(f"Unable to find account with specified id: {p['id']}")
    scope.check_account_access(ctx.db, ctx.user, account)
    _refuse_protected(ctx, account, "deleted")
    return account


@api_command(
    "deleteAccount",
    description="Deletes an account and all its users, including the account's resources: its instances are "
    "destroyed and expunged (their failover-cluster roles removed), its volumes deleted. An account whose cleanup "
    "failed half-way is removed but needs cleanup; deleteAccount again finishes it.",
    params=[Param("id", "uuid", required=True, description="Account id")],
    response="success",
    roles=ADMINS,
    isasync=True,
    resumable=True,
    prepare=lambda ctx, p: JobTarget("Account", _deleting(ctx, p).uuid),
)
def delete_account(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    account = _deleting(ctx, p)
    if account.removed is None:
        account_cleanup.mark_removed(ctx.db, account)
        _record(ctx, "ACCOUNT.DELETE", f"Deleted account {account.name}", account)
        ctx.db.commit()  # removed (and needing cleanup) before any resource is touched, as in CloudStack
    report = account_cleanup.clean_up_account(ctx, account)
    if not report.complete:
        raise internal_error(f"Account {account.name} is removed, but not all of its resources could be released "
                             f"({'; '.join(report.failures)}); it needs cleanup: run deleteAccount again to finish")
    return {"success": True}


def _set_state(ctx: CallContext, account: Account, state: str, event_type: str, verb: str) -> dict[str, Any]:
    if state != "enabled":
        _refuse_protected(ctx, account, verb.lower())
    account.state = state
    if state != "enabled":
        drop_sessions(ctx.db, select(User.id).where(User.account_id == account.id))
    _record(ctx, event_type, f"{verb} account {account.name}", account)
    ctx.db.flush()
    return {"account": render_account(ctx.db, account)}


@api_command(
    "disableAccount",
    description="Disables an account",
    params=[
        *ACCOUNT_IDENTITY_PARAMS,
        Param("lock", "boolean", required=True, description="If true, only lock the account; else disable the "
              "account"),
    ],
    response="account",
    roles=ADMINS,
    isasync=True,
    resumable=True,
    prepare=lambda ctx, p: _job_target(ctx, p, "locked" if p["lock"] else "disabled"),
)
def disable_account(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    account = _target(ctx, p)
    if p["lock"]:
        return _set_state(ctx, account, "locked", "ACCOUNT.DISABLE", "Locked")
    return _set_state(ctx, account, "disabled", "ACCOUNT.DISABLE", "Disabled")


@api_command(
    "enableAccount",
    description="Enables an account",
    params=list(ACCOUNT_IDENTITY_PARAMS),
    response="account",
    roles=ADMINS,
)
def enable_account(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    return _set_state(ctx, _target(ctx, p), "enabled", "ACCOUNT.ENABLE", "Enabled")


@api_command(
    "lockAccount",
    description="This deprecated function used to locks an account. Look for the API DisableAccount instead",
    params=[
        Param("account", required=True, description="Locks the specified account."),
        Param("domainid", "uuid", required=True, description="Locks the specified account on this domain."),
    ],
    response="account",
    roles=ADMINS,
)
def lock_account(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    return _set_state(ctx, _target(ctx, p), "locked", "ACCOUNT.DISABLE", "Locked")

