"""Who may see and touch which domain, account and user (CloudStack's AccountManager.checkAccess).

The root admin reaches everything; a domain admin its own domain and every domain below it; a user only its
own account (and, for user operations, only itself). A caller that may not see a row is told it does not
exist or is refused with 531, never shown the row.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from clusterstack.server.api.caller import Caller
from clusterstack.server.api.errors import param_error, permission_denied
from clusterstack.server.db.models.identity import ACCOUNT_TYPE_ADMIN, Account, Domain, User


def live_domain(db: Session, domain_id: int) -> Domain:
    domain = db.get(Domain, domain_id)
    if domain is None or domain.removed is not None:
        raise param_error("Unable to find domain")
    return domain


def find_domain(db: Session, uuid: str, param: str = "id") -> Domain:
    domain = db.scalar(select(Domain).where(Domain.uuid == uuid, Domain.removed.is_(None)))
    if domain is None:
        raise param_error(f"Unable to find domain with specified {param}: {uuid}")
    return domain


def find_domain_by_path(db: Session, given: str) -> Domain | None:
    """A domain named by path as operators type it: "/", "ROOT", "/Child", "ROOT/Child", "/Child/"."""
    text = given.strip()
    if text.upper() == "ROOT" or text.upper().startswith("ROOT/"):
        text = text[4:]
    path = "/" + text.strip("/") + "/" if text.strip("/") else "/"
    return db.scalar(select(Domain).where(Domain.path == path, Domain.removed.is_(None)))


def can_reach_domain(caller: Caller, domain: Domain) -> bool:
    if caller.is_root_admin:
        return True
    if caller.is_domain_admin:
        return domain.path.startswith(caller.domain_path)
    return domain.id == caller.domain_id


def check_domain_access(caller: Caller, domain: Domain) -> None:
    if not can_reach_domain(caller, domain):
        raise permission_denied(f"Account {caller.account_name} does not have permission to operate within "
                                f"domain id={domain.uuid}")


def check_domain_admin_access(caller: Caller, domain: Domain) -> None:
    """For changes to a domain itself: root anything, a domain admin only domains strictly below its own."""
    if caller.is_root_admin:
        return
    if caller.is_domain_admin and domain.path.startswith(caller.domain_path) and domain.id != caller.domain_id:
        return
    raise permission_denied(f"Account {caller.account_name} does not have permission to operate on domain "
                            f"id={domain.uuid}")


def can_reach_account(db: Session, caller: Caller, account: Account) -> bool:
    if caller.is_root_admin:
        return True
    if account.type == ACCOUNT_TYPE_ADMIN:
        return False  # a root admin account is out of reach of everyone below root, wherever its domain is
    if caller.is_domain_admin:
        return live_domain(db, account.domain_id).path.startswith(caller.domain_path)
    return account.id == caller.account_id


def check_account_access(db: Session, caller: Caller, account: Account) -> None:
    if not can_reach_account(db, caller, account):
        raise permission_denied(f"Account {caller.account_name} does not have permission to operate on account "
                                f"id={account.uuid}")


def check_user_access(db: Session, caller: Caller, user: User, *, self_allowed: bool, param: str = "id") -> Account:
    """Admins reach users of accounts they reach; a plain user only itself, and only when `self_allowed`.

    A user out of the caller's reach is answered as a user that does not exist: the refusal must not tell a
    domain admin that a user exists in another domain, nor which account owns it."""
    account = db.get(Account, user.account_id)
    assert account is not None
    if caller.is_root_admin or caller.is_domain_admin:
        if can_reach_account(db, caller, account):
            return account
    elif self_allowed and user.id == caller.user_id:
        return account
    raise param_error(f"Unable to find user with specified {param}: {user.uuid}")


def find_account(db: Session, uuid: str, param: str = "id") -> Account:
    account = db.scalar(select(Account).where(Account.uuid == uuid, Account.removed.is_(None)))
    if account is None:
        raise param_error(f"Unable to find account with specified {param}: {uuid}")
    return account


def find_account_by_name(db: Session, name: str, domain: Domain) -> Account:
    account = db.scalar(
        select(Account).where(Account.name == name, Account.domain_id == domain.id, Account.removed.is_(None))
    )
    if account is None:
        raise param_error(f"Unable to find account by name {name} in domain {domain.uuid}")
    return account


def find_user(db: Session, uuid: str, param: str = "id") -> User:
    user = db.scalar(select(User).where(User.uuid == uuid, User.removed.is_(None)))
    if user is None:
        raise param_error(f"Unable to find user with specified {param}: {uuid}")
    return user
