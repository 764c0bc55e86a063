"""First start: domain ROOT, the default roles, account and user `admin` / `password`; a warning while unchanged.

Two management servers may start at once on one database. The bootstrap runs in one transaction whose first
write inserts the Root Admin role, whose name is unique: the loser of the race blocks on that row (or on
SQLite's write lock), fails with an integrity error once the winner commits, and finds everything in place.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from clusterstack.server import app
from clusterstack.server.api.registry import all_commands
from clusterstack.server.db.models.identity import (
    ACCOUNT_TYPE_ADMIN,
    ROLE_TYPE_ADMIN,
    ROLE_TYPE_DOMAIN_ADMIN,
    ROLE_TYPE_USER,
    Account,
    Domain,
    Role,
    RolePermission,
    User,
)
from clusterstack.server.identity import passwords, secret_store
from clusterstack.server.identity.authentication import ROLE_TYPE_MASK
from clusterstack.server.state import ServerState

log = logging.getLogger("clusterstack.server.identity")

ROOT_DOMAIN_NAME = "ROOT"
ROOT_DOMAIN_PATH = "/"
ADMIN_USERNAME = "admin"
ADMIN_ACCOUNT = "admin"

# CloudStack's default roles (names, types and descriptions as in its roles table)
DEFAULT_ROLES: tuple[tuple[str, str, str], ...] = (
    ("Root Admin", ROLE_TYPE_ADMIN, "Default root admin role"),
    ("Domain Admin", ROLE_TYPE_DOMAIN_ADMIN, "Default domain admin role"),
    ("User", ROLE_TYPE_USER, "Default user role"),
)

# Worded without `name=value` templates: the log's redaction must find nothing to hide in it.
DEFAULT_PASSWORD_WARNING = (
    "The password of user 'admin' is still CloudStack's default. Change it now, with updateUser (the admin's user "
    "id and a new password) or in the console: anyone who can reach the API can log in as admin."
)


def default_rules(role_type: str) -> list[tuple[str, str]]:
    """The rules a default role starts with: allow every command its type may call (commands.properties)."""
    if role_type == ROLE_TYPE_ADMIN:
        return [("*", "allow")]
    mask = ROLE_TYPE_MASK[role_type]
    return [(command.name, "allow") for command in all_commands() if command.roles & mask]


def root_domain_id(db: Session) -> int | None:
    return db.scalar(
        select(Domain.id).where(Domain.parent_id.is_(None), Domain.path == ROOT_DOMAIN_PATH,
                                Domain.removed.is_(None)).order_by(Domain.id)
    )


def _is_bootstrapped(state: ServerState) -> bool:
    with state.database.session() as db:
        return db.scalar(select(Role.id).where(Role.name == DEFAULT_ROLES[0][0])) is not None


def _create_everything(db: Session) -> None:
    roles: dict[str, Role] = {}
    for name, role_type, description in DEFAULT_ROLES:
        role = Role(name=name, role_type=role_type, description=description, is_default=True)
        db.add(role)
        db.flush()  # the first flush is the unique insert that decides a race between two servers
        for order, (rule, permission) in enumerate(default_rules(role_type)):
            db.add(RolePermission(role_id=role.id, rule=rule, permission=permission, sort_order=order))
        roles[role_type] = role
    root = Domain(name=ROOT_DOMAIN_NAME, parent_id=None, path=ROOT_DOMAIN_PATH, level=0)
    db.add(root)
    db.flush()
    account = Account(name=ADMIN_ACCOUNT, type=ACCOUNT_TYPE_ADMIN, domain_id=root.id,
                      role_id=roles[ROLE_TYPE_ADMIN].id, state="enabled")
    db.add(account)
    db.flush()
    db.add(User(username=ADMIN_USERNAME, password_hash=passwords.hash_password(passwords.DEFAULT_ADMIN_PASSWORD),
                account_id=account.id, firstname="Admin", lastname="User", state="enabled", is_default=True))


def ensure_bootstrapped(state: ServerState) -> None:
    """Create ROOT, the default roles and the admin on an empty database; do nothing on a bootstrapped one."""
    if _is_bootstrapped(state):
        return
    try:
        with state.database.session() as db:
            _create_everything(db)
        log.info("Created domain ROOT, the default roles and user admin")
    except (IntegrityError, OperationalError):
        if not _is_bootstrapped(state):
            raise
        log.info("Another management server bootstrapped identity first")


def admin_has_default_password(state: ServerState) -> bool:
    with state.database.session() as db:
        root_id = root_domain_id(db)
        users = db.scalars(
            select(User).join(Account, User.account_id == Account.id)
            .where(User.username == ADMIN_USERNAME, Account.domain_id == root_id, User.removed.is_(None))
        )
        return any(passwords.verify_password(u.password_hash, passwords.DEFAULT_ADMIN_PASSWORD) for u in users)


def warn_if_default_password(state: ServerState) -> bool:
    if not admin_has_default_password(state):
        return False
    log.warning(DEFAULT_PASSWORD_WARNING)
    print(f"WARNING: {DEFAULT_PASSWORD_WARNING}", file=sys.stderr, flush=True)
    return True


class IdentityService:
    """Started with the server: the key file, the bootstrap, the default-password warning."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.default_password_in_use = False

    def start(self) -> None:
        secret_store.for_data_dir(self.state.data_dir)
        ensure_bootstrapped(self.state)
        self.default_password_in_use = warn_if_default_password(self.state)

    def stop(self) -> None:
        pass


def _factory(state: ServerState) -> Any:
    return IdentityService(state)


app.register_service("identity", _factory)
