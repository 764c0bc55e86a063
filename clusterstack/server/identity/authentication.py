"""Who is calling, and may they call this command: API keys, login sessions and role rules.

The dispatcher asks these functions for every request. A disabled or locked user, or a user of a disabled or
locked account, gets no Caller: its keys and sessions stop working at once (CloudStack refuses them too).
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clusterstack.server.api.caller import Caller
from clusterstack.server.api.registry import ADMIN, DOMAIN_ADMIN, USER, ApiCommand
from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.identity import (
    ROLE_TYPE_ADMIN,
    ROLE_TYPE_DOMAIN_ADMIN,
    ROLE_TYPE_USER,
    Account,
    Domain,
    Role,
    RolePermission,
    User,
)
from clusterstack.server.db.models.sessions import LoginSession
from clusterstack.server.identity import secret_store
from clusterstack.server.identity.secret_store import SecretStoreError
from clusterstack.server.settings import define_setting
from clusterstack.server.settings import get as get_setting
from clusterstack.server.state import ServerState

ENABLED = "enabled"

SESSION_TIMEOUT = define_setting(
    "session.timeout", 30, "Advanced",
    "Minutes a login session may stay idle before it expires (CloudStack's web session timeout)", minimum=1,
)
# last_access is written at most this often, so that a busy session does not write on every request
_TOUCH_INTERVAL = timedelta(seconds=30)

# The command bitmask bit that goes with each role type (CloudStack's RoleType masks).
ROLE_TYPE_MASK = {ROLE_TYPE_ADMIN: ADMIN, ROLE_TYPE_DOMAIN_ADMIN: DOMAIN_ADMIN, ROLE_TYPE_USER: USER}


def hash_session_key(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()


def _caller_row_query() -> Any:
    return (
        select(User, Account, Domain, Role)
        .join(Account, User.account_id == Account.id)
        .join(Domain, Account.domain_id == Domain.id)
        .join(Role, Account.role_id == Role.id)
        .where(User.removed.is_(None), Account.removed.is_(None), Domain.removed.is_(None))
    )


def make_caller(user: User, account: Account, domain: Domain, role: Role, session_key: str | None = None) -> Caller:
    return Caller(
        user_id=user.id,
        user_uuid=user.uuid,
        username=user.username,
        account_id=account.id,
        account_uuid=account.uuid,
        account_name=account.name,
        account_type=account.type,
        domain_id=domain.id,
        domain_uuid=domain.uuid,
        domain_name=domain.name,
        domain_path=domain.path,
        role_id=role.id,
        role_type=role.role_type,
        session_key=session_key,
    )


def is_active(user: User, account: Account) -> bool:
    """A user may act only while both it and its account are enabled."""
    return user.state == ENABLED and account.state == ENABLED


def caller_for_api_key(db: Session, server: ServerState, api_key: str) -> tuple[Caller, str] | None:
    """The caller owning `api_key` and its decrypted secret key; None for an unknown key or an inactive user."""
    row = db.execute(_caller_row_query().where(User.api_key == api_key)).first()
    if row is None:
        return None
    user, account, domain, role = row
    if not is_active(user, account) or user.secret_key_encrypted is None:
        return None
    try:
        secret = secret_store.for_data_dir(server.data_dir).decrypt(user.secret_key_encrypted)
    except SecretStoreError:
        return None
    return make_caller(user, account, domain, role), secret


def caller_for_session(
    db: Session, server: ServerState, session_key: str, session_id: str | None = None
) -> Caller | None:
    """The caller of a live login session whose key is `session_key` and, when `session_id` is given, whose
    JSESSIONID cookie is `session_id` (the API always gives it; the live channel matches the cookie itself);
    an idle-expired session is removed and answers None."""
    session = db.scalar(select(LoginSession).where(LoginSession.key_hash == hash_session_key(session_key)))
    if session is None:
        return None
    if session_id is not None and not hmac.compare_digest(session.uuid.encode(), session_id.encode()):
        return None
    now = utcnow()
    if now - session.last_access > timedelta(minutes=get_setting(db, SESSION_TIMEOUT)):
        db.delete(session)
        return None
    row = db.execute(_caller_row_query().where(User.id == session.user_id)).first()
    if row is None:
        return None
    user, account, domain, role = row
    if not is_active(user, account):
        return None
    if now - session.last_access > _TOUCH_INTERVAL:
        session.last_access = now
    return make_caller(user, account, domain, role, session_key=session_key)


def caller_for_user_id(db: Session, user_id: int) -> Caller | None:
    """The caller a background job acts as (the user who submitted it), if that user still exists."""
    row = db.execute(_caller_row_query().where(User.id == user_id)).first()
    if row is None:
        return None
    return make_caller(*row)


def rule_matches(rule: str, command_name: str) -> bool:
    """A rule is a command name or a pattern with `*` wildcards (CloudStack's Rule), compared case-insensitively."""
    rule = rule.lower()
    name = command_name.lower()
    if "*" not in rule:
        return rule == name
    return fnmatch.fnmatchcase(name, rule.replace("[", "[[]").replace("?", "[?]"))


def is_default_root_admin_role(role: Role) -> bool:
    return role.role_type == ROLE_TYPE_ADMIN and role.is_default


def is_allowed(db: Session, caller: Caller, command: ApiCommand) -> bool:
    """CloudStack's DynamicRoleBasedAPIAccessChecker: the default Root Admin role may call everything; otherwise
    the role's rules in order, first match wins; with no match, the command's default roles decide."""
    role = db.get(Role, caller.role_id)
    if role is None or role.removed is not None:
        return False
    if is_default_root_admin_role(role):
        return True
    rules = db.execute(
        select(RolePermission.rule, RolePermission.permission)
        .where(RolePermission.role_id == role.id, RolePermission.removed.is_(None))
        .order_by(RolePermission.sort_order, RolePermission.id)
    ).all()
    for rule, permission in rules:
        if rule_matches(rule, command.name):
            return permission == "allow"
    return bool(command.roles & ROLE_TYPE_MASK.get(role.role_type, 0))
