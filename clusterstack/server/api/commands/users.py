"""Users: createUser, listUsers, updateUser (incl. password change), deleteUser, disable/enable/lockUser, and
their API keys (registerUserKeys, getUserKeys).

disableUser is asynchronous, as in CloudStack: the request checks the user and who asks and answers a job id;
the job disables the user and answers it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from clusterstack.server import events
from clusterstack.server.api.caller import Caller
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import param_error, permission_denied
from clusterstack.server.api.listing import ListResponse, paged_list
from clusterstack.server.api.lookup import keyword_pattern
from clusterstack.server.api.registry import (
    ACCOUNT_SCOPE_PARAMS,
    ADMIN,
    ALL_ROLES,
    DOMAIN_ADMIN,
    PAGING_PARAMS,
    JobTarget,
    Param,
    api_command,
    define_entity,
)
from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.identity import Account, Domain, User
from clusterstack.server.db.models.sessions import LoginSession
from clusterstack.server.identity import passwords, scope, secret_store
from clusterstack.server.identity.api_keys import register_keys
from clusterstack.server.identity.listing_scope import scope_accounts
from clusterstack.server.identity.removal import drop_sessions
from clusterstack.server.identity.rendering import render_user
from clusterstack.server.identity.secret_store import SecretStoreError
from clusterstack.server.settings import define_setting
from clusterstack.server.settings import get as get_setting

ADMINS = ADMIN | DOMAIN_ADMIN


def username_taken(db: Session, username: str, domain_id: int, except_user: int | None = None) -> bool:
    query = (
        select(User.id).join(Account, User.account_id == Account.id)
        .where(User.username == username, Account.domain_id == domain_id, User.removed.is_(None),
               Account.removed.is_(None))
    )
    if except_user is not None:
        query = query.where(User.id != except_user)
    return db.scalar(query.limit(1)) is not None


def check_password(password: str) -> None:
    if not password or not password.strip():
        raise param_error("Password cannot be empty or blank.")


def new_user(db: Session, account: Account, p: dict[str, Any]) -> User:
    """Validate and add a user to `account` (createUser, createAccount)."""
    if username_taken(db, p["username"], account.domain_id):
        domain = db.get(Domain, account.domain_id)
        raise param_error(f"The user {p['username']} already exists in domain {domain.name if domain else ''}")
    check_password(p["password"])
    user = User(
        username=p["username"], password_hash=passwords.hash_password(p["password"]), account_id=account.id,
        firstname=p.get("firstname", ""), lastname=p.get("lastname", ""), email=p.get("email"),
        timezone=p.get("timezone"), state="enabled",
    )
    db.add(user)
    db.flush()
    return user


SAME_ACCOUNT_OPERATIONS = define_setting(
    "allow.operations.on.users.in.same.account", True, "Hidden",
    "Allow operations on users among them in the same account",
)


def _target(ctx: CallContext, p: dict[str, Any], *, self_allowed: bool,
            same_account: bool = False) -> tuple[User, Account]:
    """The user named by id that the caller may act on. With `same_account`, a caller may also act on another
    user of its own account while allow.operations.on.users.in.same.account is true (CloudStack's
    checkCallerRoleTypeAllowedForUserOrAccountOperations, used by registerUserKeys and getUserKeys)."""
    user = scope.find_user(ctx.db, p["id"])
    if same_account and user.account_id == ctx.user.account_id and get_setting(ctx.db, SAME_ACCOUNT_OPERATIONS):
        account = ctx.db.get(Account, user.account_id)
        assert account is not None
        return user, account
    account = scope.check_user_access(ctx.db, ctx.user, user, self_allowed=self_allowed)
    return user, account


def _record(ctx: CallContext, event_type: str, text: str, user: User) -> None:
    events.record_event(ctx.db, event_type, text, ctx.actor, resource_type="User", resource_uuid=user.uuid,
                        resource_name=user.username)


def _answer(ctx: CallContext, user: User) -> dict[str, Any]:
    return {"user": render_user(ctx.db, user, ctx.user.domain_path)}


@api_command(
    "createUser",
    description="Creates a user for an account that already exists",
    params=[
        Param("account", required=True, description="Creates the user under the specified account. If no "
              "account is specified, the username will be used as the account name."),
        Param("username", required=True, description="Unique username."),
        Param("password", required=True, description="Clear text password (Default hashed to SHA256SALT). If you "
              "wish to use any other hashing algorithm, you would need to write a custom authentication adapter."),
        Param("firstname", required=True, description="firstname"),
        Param("lastname", required=True, description="lastname"),
        Param("email", required=True, description="email"),
        Param("domainid", "uuid", description="Creates the user under the specified domain. Has to be "
              "accompanied with the account parameter"),
        Param("timezone", description="Specifies a timezone for this command. For more information on the "
              "timezone parameter, see Time Zone Format."),
        Param("userid", description="User UUID, required for adding account from external provisioning system"),
    ],
    response="user",
    roles=ADMINS,
)
def create_user(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    caller = ctx.user
    domain = scope.find_domain(ctx.db, p["domainid"], "domainid") if "domainid" in p else \
        scope.live_domain(ctx.db, caller.domain_id)
    scope.check_domain_access(caller, domain)
    account = scope.find_account_by_name(ctx.db, p["account"], domain)
    scope.check_account_access(ctx.db, caller, account)
    user = new_user(ctx.db, account, p)
    if "userid" in p:
        user.uuid = p["userid"]
    _record(ctx, "USER.CREATE", f"User Name: {user.username}, Account: {account.name}, Domain: {domain.name}",
            user)
    return _answer(ctx, user)


@api_command(
    "listUsers",
    description="Lists user accounts",
    params=[
        Param("id", "uuid", description="List user by ID."),
        Param("username", description="List user by the username"),
        Param("accounttype", "integer", description="List users by account type. Valid types include admin, "
              "domain-admin, read-only-admin, or user."),
        Param("state", description="List users by state of the user account."),
        *ACCOUNT_SCOPE_PARAMS,
        *PAGING_PARAMS,
    ],
    response="user",
    roles=ALL_ROLES,
)
def list_users(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    query = (
        select(User).join(Account, User.account_id == Account.id)
        .where(User.removed.is_(None), Account.removed.is_(None))
    )
    caller = ctx.user
    if not (caller.is_root_admin or caller.is_domain_admin):
        # a user lists only itself, as in CloudStack
        if p.get("id", caller.user_uuid) != caller.user_uuid:
            raise permission_denied("Calling user is not authorized to see the user requested by id")
        query = query.where(User.id == caller.user_id)
    query = scope_accounts(ctx.db, caller, query, p)
    if "id" in p:
        query = query.where(User.uuid == p["id"])
    if "username" in p:
        query = query.where(User.username == p["username"])
    if "accounttype" in p:
        query = query.where(Account.type == p["accounttype"])
    if "state" in p:
        query = query.where(User.state == p["state"].lower())
    if "keyword" in p:
        pattern = keyword_pattern(p["keyword"])
        query = query.where(User.username.like(pattern, escape="\\") | User.firstname.like(pattern, escape="\\")
                            | User.lastname.like(pattern, escape="\\") | User.email.like(pattern, escape="\\"))
    query = query.order_by(User.id)
    caller_path = ctx.user.domain_path
    return paged_list(ctx.db, "user", query, p, lambda u: render_user(ctx.db, u, caller_path))


def _change_password(ctx: CallContext, user: User, p: dict[str, Any]) -> None:
    caller: Caller = ctx.user
    check_password(p["password"])
    if not (caller.is_root_admin or caller.is_domain_admin):
        current = p.get("currentpassword")
        if not current:
            raise param_error("To set a new password the current password must be provided.")
        if not passwords.verify_password(user.password_hash, current):
            raise param_error("Current password is incorrect.")
    user.password_hash = passwords.hash_password(p["password"])
    user.login_attempts = 0
    # other sessions of the user end with the old password; the caller's own session stays
    ctx.db.execute(
        delete(LoginSession).where(LoginSession.user_id == user.id)
        .where(LoginSession.key_hash != _own_session_hash(caller))
    )


def _own_session_hash(caller: Caller) -> str:
    from clusterstack.server.identity.authentication import hash_session_key

    return hash_session_key(caller.session_key) if caller.session_key else ""


@api_command(
    "updateUser",
    description="Updates a user account",
    params=[
        Param("id", "uuid", required=True, description="User uuid"),
        Param("username", description="Unique username"),
        Param("password", description="Clear text password (default hashed to SHA256SALT). If you wish to use "
              "any other hashing algorithm, you would need to write a custom authentication adapter. Can't be "
              "passed when command is executed via integration.api.port"),
        Param("currentpassword", description="Current password that was being used by the user. You must inform "
              "the current password when updating the password."),
        Param("firstname", description="first name"),
        Param("lastname", description="last name"),
        Param("email", description="email"),
        Param("timezone", description="Specifies a timezone for this command. For more information on the "
              "timezone parameter, see Time Zone Format."),
        Param("userapikey", description="The API key for the user. Must be specified with userSecretKey"),
        Param("usersecretkey", description="The secret key for the user. Must be specified with userApiKey"),
    ],
    response="user",
    roles=ALL_ROLES,
)
def update_user(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    user, account = _target(ctx, p, self_allowed=True)
    if ("userapikey" in p) != ("usersecretkey" in p):
        raise param_error("Please provide a userApiKey/userSecretKey pair")
    if "username" in p and p["username"] != user.username:
        if username_taken(ctx.db, p["username"], account.domain_id, except_user=user.id):
            raise param_error(f"The username {p['username']} already exists in the domain")
        user.username = p["username"]
    if "password" in p:
        _change_password(ctx, user, p)
    for name in ("firstname", "lastname", "email", "timezone"):
        if name in p:
            setattr(user, name, p[name])
    if "userapikey" in p:
        clash = ctx.db.scalar(select(User.id).where(User.api_key == p["userapikey"], User.id != user.id))
        if clash is not None:
            raise param_error("The api key already exists in the system")
        user.api_key = p["userapikey"]
        user.secret_key_encrypted = secret_store.for_data_dir(ctx.server.data_dir).encrypt(p["usersecretkey"])
    ctx.db.flush()
    changed = sorted(k for k in p if k not in ("id", "password", "currentpassword", "usersecretkey"))
    text = f"User id {user.uuid} updated" + (" (password changed)" if "password" in p else "")
    if changed:
        text += ": " + ", ".join(changed)
    _record(ctx, "USER.UPDATE", text, user)
    return _answer(ctx, user)


@api_command(
    "deleteUser",
    description="Deletes a user for an account",
    params=[Param("id", "uuid", required=True, description="id of the user to be deleted")],
    response="success",
    roles=ADMINS,
)
def delete_user(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    user, _ = _target(ctx, p, self_allowed=False)
    if user.is_default:
        raise param_error(f"The user {user.username} is the default user and can't be removed")
    if user.id == ctx.user.user_id:
        raise param_error("A user can't delete itself")
    user.removed = utcnow()
    user.state = "disabled"
    user.api_key = None
    user.secret_key_encrypted = None
    drop_sessions(ctx.db, [user.id])
    _record(ctx, "USER.DELETE", f"Deleted user {user.username}", user)
    return {"success": True}


def _changeable(ctx: CallContext, p: dict[str, Any], state: str) -> User:
    user, _ = _target(ctx, p, self_allowed=False)
    if user.id == ctx.user.user_id and state != "enabled":
        raise param_error(f"A user can't {'lock' if state == 'locked' else 'disable'} itself")
    return user


def _set_state(ctx: CallContext, p: dict[str, Any], state: str, event_type: str) -> dict[str, Any]:
    user = _changeable(ctx, p, state)
    user.state = state
    if state == "enabled":
        user.login_attempts = 0
    else:
        drop_sessions(ctx.db, [user.id])
    verb = {"enabled": "Enabled", "disabled": "Disabled", "locked": "Locked"}[state]
    _record(ctx, event_type, f"{verb} user {user.username}", user)
    return _answer(ctx, user)


@api_command(
    "disableUser",
    description="Disables a user account",
    params=[Param("id", "uuid", required=True, description="Disables user by user ID.")],
    response="user",
    roles=ADMINS,
    isasync=True,
    resumable=True,
    prepare=lambda ctx, p: JobTarget("User", _changeable(ctx, p, "disabled").uuid),
)
def disable_user(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    return _set_state(ctx, p, "disabled", "USER.DISABLE")


@api_command(
    "enableUser",
    description="Enables a user account",
    params=[Param("id", "uuid", required=True, description="Enables user by user ID.")],
    response="user",
    roles=ADMINS,
)
def enable_user(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    return _set_state(ctx, p, "enabled", "USER.ENABLE")


@api_command(
    "lockUser",
    description="Locks a user account",
    params=[Param("id", "uuid", required=True, description="Locks user by user ID.")],
    response="user",
    roles=ADMINS,
)
def lock_user(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    return _set_state(ctx, p, "locked", "USER.LOCK")


define_entity("userkeys", [
    ("apikey", "string", "the api key of the registered user"),
    ("secretkey", "string", "the secret key of the registered user"),
])


@api_command(
    "registerUserKeys",
    description="This command allows a user to register for the developer API, returning a secret key and an "
    "API key. This request is made through the integration API port, so it is a privileged command and must be "
    "made on behalf of a user. It is up to the implementer just how the username and password are entered, and "
    "then how that translates to an integration API request. Both secret key and API key should be returned to "
    "the user",
    params=[Param("id", "uuid", required=True, description="User id")],
    response="userkeys",
    roles=ALL_ROLES,
)
def register_user_keys(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    user, _ = _target(ctx, p, self_allowed=True, same_account=True)
    api_key, secret_key = register_keys(user, secret_store.for_data_dir(ctx.server.data_dir))
    _record(ctx, "REGISTER.USER.KEY", f"Registered API keys for user {user.username}", user)
    return {"userkeys": {"apikey": api_key, "secretkey": secret_key}}


@api_command(
    "getUserKeys",
    description="This command allows the user to query the seceret and API keys for the account",
    params=[Param("id", "uuid", required=True, description="ID of the user whose keys are required")],
    response="userkeys",
    roles=ALL_ROLES,
    since="4.10.0",
)
def get_user_keys(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    user, _ = _target(ctx, p, self_allowed=True, same_account=True)
    if user.api_key is None or user.secret_key_encrypted is None:
        return {"userkeys": {}}
    try:
        secret_key = secret_store.for_data_dir(ctx.server.data_dir).decrypt(user.secret_key_encrypted)
    except SecretStoreError:
        raise permission_denied("The secret key of this user cannot be read with this management server's "
                                "secret.key; register new keys") from None
    return {"userkeys": {"apikey": user.api_key, "secretkey": secret_key}}



@api_command(
    "moveUser",
    description="Moves a user to another account in the same domain.",
    params=[
        Param("id", "uuid", required=True, description="id of the user to be moved."),
        Param("account", description="Moves the user under the specified account. If no account name is "
              "specified, it is necessary to provide an account id."),
        Param("accountid", "uuid", description="Moves the user under the specified account. If no account id is "
              "specified, it is necessary to provide an account name."),
    ],
    response="success",
    roles=ADMIN,
    since="4.11",
)
def move_user(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    """As CloudStack's AccountManagerImpl.moveUser: within the user's domain, to an enabled account named by
    `account` or to the account `accountid`; the user keeps its id and keys, its sessions end."""
    if "account" not in p and "accountid" not in p:
        raise param_error("provide either an account name or an account id!")
    user, old = _target(ctx, p, self_allowed=False)
    target = None
    if p.get("account"):
        target = ctx.db.scalar(select(Account).where(
            Account.name == p["account"], Account.domain_id == old.domain_id, Account.state == "enabled",
            Account.removed.is_(None)))
    if target is None and "accountid" in p:
        target = scope.find_account(ctx.db, p["accountid"], "accountid")
    if target is None:
        raise param_error(f"Unable to find an enabled account named {p['account']} in the domain of user "
                          f"{user.username}")
    scope.check_account_access(ctx.db, ctx.user, target)
    if target.domain_id != old.domain_id:
        raise param_error("moving a user from an account in one domain to an account in another domain is not "
                          "supported!")
    if target.id != old.id:
        user.account_id = target.id
        drop_sessions(ctx.db, [user.id])
        _record(ctx, "USER.MOVE", f"Moved user {user.username} from account {old.name} to account {target.name}",
                user)
    return {"success": True}
