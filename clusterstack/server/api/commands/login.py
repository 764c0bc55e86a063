"""login and logout: sessions for the console and for clients that do not sign requests.

A session is a random sessionkey (stored only as its SHA-256) in the database, shared by every management
server. The JSESSIONID and sessionkey cookies are set, but a cookie alone authenticates nothing: every call
must carry the sessionkey as a parameter or header, as in CloudStack (this defeats cross-site requests), and
the JSESSIONID cookie of the same session (a leaked sessionkey alone authenticates nothing either).

Failed logins are throttled per username and per source address (identity/login_throttle.py). A lock after
incorrect.login.attempts.allowed consecutive failures is off by default; when set, it stops password logins
only (the user's API keys and sessions keep working, its state is unchanged), never locks the last enabled
root admin, and lifts when an administrator enables the user or sets its password.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select

from clusterstack.server import events
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import ApiError, permission_denied
from clusterstack.server.api.registry import ALL_ROLES, Param, api_command, define_entity
from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.identity import ROLE_TYPE_ADMIN, Account, Domain, Role, User
from clusterstack.server.db.models.sessions import LoginSession
from clusterstack.server.identity import passwords, scope
from clusterstack.server.identity.authentication import ENABLED, SESSION_TIMEOUT, hash_session_key
from clusterstack.server.identity.login_throttle import (
    CURRENT_ATTEMPT,
    FIRST_DELAY,
    FREE_ATTEMPTS,
    MAX_DELAY,
    LoginAttempt,
    ThrottlePolicy,
)
from clusterstack.server.settings import define_setting
from clusterstack.server.settings import get as get_setting

log = logging.getLogger("clusterstack.server.identity")

LOGIN_ATTEMPTS_ALLOWED = define_setting(
    "incorrect.login.attempts.allowed", 0, "Advanced",
    "Consecutive incorrect logins after which the user's password logins are locked until an administrator "
    "enables the user (0 = never lock; failed logins are throttled either way). The lock never applies to API "
    "keys and never locks the last enabled root admin", minimum=0,
)

define_entity("login", [
    ("username", "string", "Username"),
    ("userid", "string", "User ID"),
    ("domainid", "string", "Domain ID that the user belongs to"),
    ("timeout", "integer", "the time period before the session has expired"),
    ("account", "string", "the account name the user belongs to"),
    ("firstname", "string", "first name of the user"),
    ("lastname", "string", "last name of the user"),
    ("type", "string", "the account type (admin, domain-admin, read-only-admin, user)"),
    ("timezone", "string", "user time zone"),
    ("timezoneoffset", "string", "user time zoneoffset"),
    ("registered", "string", "Is user registered"),
    ("sessionkey", "string", "Session key that can be passed in subsequent Query command calls"),
])


def login_failed(username: str) -> ApiError:
    """One answer for every failure (unknown user, wrong password, wrong domain, disabled or locked)."""
    return permission_denied(f"Failed to authenticate user {username}; please provide valid credentials")


def _login_domain(ctx: CallContext, p: dict[str, Any]) -> Domain | None:
    if "domainId" in p:
        # as CloudStack's ApiServlet: the domain's UUID, else its numeric id
        given = p["domainId"].strip()
        key = Domain.id == int(given) if given.isdigit() else Domain.uuid == given
        return ctx.db.scalar(select(Domain).where(key, Domain.removed.is_(None)))
    return scope.find_domain_by_path(ctx.db, p.get("domain", "/"))


def is_login_locked(user: User, allowed: int) -> bool:
    return allowed > 0 and user.login_attempts >= allowed


def _other_enabled_root_admins(db: Any, user: User, allowed: int) -> int:
    query = (
        select(func.count(User.id))
        .join(Account, User.account_id == Account.id)
        .join(Role, Account.role_id == Role.id)
        .where(Role.role_type == ROLE_TYPE_ADMIN, User.id != user.id, User.state == ENABLED,
               Account.state == ENABLED, User.removed.is_(None), Account.removed.is_(None))
    )
    if allowed > 0:
        query = query.where(User.login_attempts < allowed)
    return int(db.scalar(query) or 0)


def _is_root_admin(db: Any, user: User) -> bool:
    return db.scalar(
        select(Role.role_type).join(Account, Account.role_id == Role.id).where(Account.id == user.account_id)
    ) == ROLE_TYPE_ADMIN


def _count_failure(ctx: CallContext, user_id: int) -> None:
    """Count a wrong password in its own transaction (the request's is rolled back); with a lock configured,
    lock the user's password logins after incorrect.login.attempts.allowed consecutive failures."""
    with ctx.server.database.session() as db:
        allowed = get_setting(db, LOGIN_ATTEMPTS_ALLOWED)
        if allowed <= 0:
            return
        user = db.get(User, user_id, with_for_update=True)
        if user is None or is_login_locked(user, allowed):
            return
        user.login_attempts += 1
        if not is_login_locked(user, allowed):
            return
        account = db.get(Account, user.account_id)
        actor = events.Actor(user_id=user.id, account_id=user.account_id,
                             domain_id=account.domain_id if account else None)
        if _is_root_admin(db, user) and _other_enabled_root_admins(db, user, allowed) == 0:
            user.login_attempts = allowed - 1  # stays one failure short: throttled, never locked
            log.warning("user %s (%s) not locked after %d incorrect logins: it is the last enabled root admin",
                        user.username, user.uuid, allowed)
            return
        log.warning("password logins of user %s (%s) locked after %d incorrect login attempts; its API keys "
                    "keep working; enableUser unlocks it", user.username, user.uuid, user.login_attempts)
        events.record_event(
            db, "USER.LOCK",
            f"Password logins of user {user.username} locked after {user.login_attempts} incorrect login "
            "attempts (API keys unaffected)",
            actor, level="WARN", resource_type="User", resource_uuid=user.uuid, resource_name=user.username,
        )


def _throttle_policy(ctx: CallContext) -> ThrottlePolicy:
    return ThrottlePolicy(get_setting(ctx.db, FREE_ATTEMPTS), get_setting(ctx.db, FIRST_DELAY),
                          get_setting(ctx.db, MAX_DELAY))


def _note_failure(ctx: CallContext, attempt: LoginAttempt | None, username: str) -> None:
    if attempt is None:
        return
    policy = _throttle_policy(ctx)
    failures = attempt.throttle.failed(username, attempt.source, policy)
    if failures == policy.free_attempts:
        log.warning("failed logins for user %s throttled after %d failures (last from %s)", username, failures,
                    attempt.source or "unknown")


ACCOUNT_TYPE_NAMES = {0: "USER", 1: "ADMIN", 2: "DOMAIN_ADMIN"}


@api_command(
    "login",
    description="Logs a user into the CloudStack. A successful login attempt will generate a JSESSIONID cookie "
    "value that can be passed in subsequent Query command calls until the \"logout\" command has been issued or "
    "the session has expired.",
    params=[
        Param("username", required=True, description="Username"),
        Param("password", required=True, description="Password"),
        Param("domain", description="Path of the domain that the user belongs to. Example: domain=/com/cloud/"
              "internal. If no domain is passed in, the ROOT (/) domain is assumed."),
        Param("domainId", description="The id of the domain that the user belongs to. If both domain and "
              "domainId are passed in, \"domainId\" parameter takes precedence."),
    ],
    response="login",
    roles=ALL_ROLES,
    authenticated=False,
)
def login(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    username: str = p["username"]
    attempt = CURRENT_ATTEMPT.get()
    if attempt is not None and attempt.throttle.wait_left(username, attempt.source) > 0:
        # answered as any failed login, without checking the password and without lengthening the wait
        raise login_failed(username)
    try:
        user, account, domain = _check_credentials(ctx, p, username)
    except ApiError:
        _note_failure(ctx, attempt, username)
        raise
    if attempt is not None:
        attempt.throttle.succeeded(username)
    return _open_session(ctx, user, account, domain)


def _check_credentials(ctx: CallContext, p: dict[str, Any], username: str) -> tuple[User, Account, Domain]:
    domain = _login_domain(ctx, p)
    if domain is None:
        raise login_failed(username)
    row = ctx.db.execute(
        select(User, Account)
        .join(Account, User.account_id == Account.id)
        .where(User.username == username, Account.domain_id == domain.id, User.removed.is_(None),
               Account.removed.is_(None))
    ).first()
    if row is None:
        passwords.verify_password(passwords.DUMMY_HASH, p["password"])  # same work whether or not the user exists
        raise login_failed(username)
    user, account = row
    if not passwords.verify_password(user.password_hash, p["password"]):
        _count_failure(ctx, user.id)
        raise login_failed(username)
    if user.state != ENABLED or account.state != ENABLED:
        raise login_failed(username)
    if is_login_locked(user, get_setting(ctx.db, LOGIN_ATTEMPTS_ALLOWED)):
        raise login_failed(username)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(p["password"])
    if user.login_attempts:
        user.login_attempts = 0
    return user, account, domain


def _open_session(ctx: CallContext, user: User, account: Account, domain: Domain) -> dict[str, Any]:
    timeout_minutes = get_setting(ctx.db, SESSION_TIMEOUT)
    # sessions nobody used within the timeout are dead: forget them (they are only checked when presented)
    ctx.db.execute(delete(LoginSession).where(LoginSession.last_access < utcnow() - timedelta(minutes=timeout_minutes)))
    session_key = secrets.token_urlsafe(32)
    session = LoginSession(key_hash=hash_session_key(session_key), user_id=user.id)
    ctx.db.add(session)
    ctx.db.flush()
    events.record_event(
        ctx.db, "USER.LOGIN", "user has logged in",
        events.Actor(user_id=user.id, account_id=account.id, domain_id=domain.id),
        resource_type="User", resource_uuid=user.uuid, resource_name=user.username,
    )
    ctx.response_cookies["JSESSIONID"] = session.uuid
    ctx.response_cookies["sessionkey"] = session_key
    return {
        "username": user.username,
        "userid": user.uuid,
        "domainid": domain.uuid,
        "timeout": timeout_minutes * 60,
        "account": account.name,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "type": ACCOUNT_TYPE_NAMES.get(account.type, "USER"),
        "timezone": user.timezone,
        "registered": "false",
        "sessionkey": session_key,
    }


define_entity("logout", [("description", "string", "Response description")])


@api_command(
    "logout",
    description="Logs out the user",
    params=[],
    response="logout",
    roles=ALL_ROLES,
)
def logout(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    caller = ctx.user
    if caller.session_key is not None:
        session = ctx.db.scalar(
            select(LoginSession).where(LoginSession.key_hash == hash_session_key(caller.session_key))
        )
        if session is not None:
            ctx.db.delete(session)
    events.record_event(ctx.db, "USER.LOGOUT", "user has logged out", caller.actor,
                        resource_type="User", resource_uuid=caller.user_uuid, resource_name=caller.username)
    ctx.clear_cookies.extend(["JSESSIONID", "sessionkey"])
    return {"description": "success"}

