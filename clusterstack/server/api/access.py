"""Who may see and touch what: a user its account's resources, a domain admin its subtree, root all.

Owned resources carry `account_id` and `domain_id` columns; these helpers scope list queries and check
single-resource access the way CloudStack's AccountManager does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from clusterstack.server.api.caller import Caller
from clusterstack.server.api.errors import not_found, permission_denied
from clusterstack.server.db.models.identity import Account, Domain


def _domain_subtree(path: str) -> Select[Any]:
    return select(Domain.id).where(Domain.path.startswith(path, autoescape=True), Domain.removed.is_(None))


def _find_domain(db: Session, domain_uuid: str) -> Domain:
    domain = db.scalar(select(Domain).where(Domain.uuid == domain_uuid, Domain.removed.is_(None)))
    if domain is None:
        raise not_found("domain", domain_uuid)
    return domain


def resolve_account(db: Session, caller: Caller, account_name: str, domain: Domain) -> Account:
    account = db.scalar(
        select(Account).where(Account.name == account_name, Account.domain_id == domain.id, Account.removed.is_(None))
    )
    if account is None:
        raise not_found("account", f"{account_name} in domain {domain.name}", "name")
    if not can_access_domain(caller, domain.path):
        raise permission_denied(f"Account {caller.account_name} does not have permission to access account "
                                f"{account_name} in domain {domain.name}")
    return account


def can_access_domain(caller: Caller, domain_path: str) -> bool:
    if caller.is_root_admin:
        return True
    if caller.is_domain_admin:
        return caller.owns_domain_path(domain_path)
    return False


def scope_owned(db: Session, caller: Caller, query: Select[Any], model: Any, params: dict[str, Any]) -> Select[Any]:
    """Apply account/domainid/isrecursive/listall the way CloudStack's list commands do."""
    account_name = params.get("account")
    domain_uuid = params.get("domainid")
    listall = bool(params.get("listall"))
    recursive = bool(params.get("isrecursive"))

    if not (caller.is_root_admin or caller.is_domain_admin):
        if account_name is not None and account_name != caller.account_name:
            raise permission_denied(f"Account {caller.account_name} can only list its own resources")
        if domain_uuid is not None and domain_uuid != caller.domain_uuid:
            raise permission_denied(f"Account {caller.account_name} can only list its own resources")
        return query.where(model.account_id == caller.account_id)

    if domain_uuid is not None:
        domain = _find_domain(db, domain_uuid)
        if not can_access_domain(caller, domain.path):
            raise permission_denied(f"Account {caller.account_name} does not have permission to access domain "
                                    f"{domain.name}")
        if account_name is not None:
            account = resolve_account(db, caller, account_name, domain)
            return query.where(model.account_id == account.id)
        if recursive or listall:
            return query.where(model.domain_id.in_(_domain_subtree(domain.path)))
        return query.where(model.domain_id == domain.id)
    if account_name is not None:
        domain = _find_domain(db, caller.domain_uuid)
        account = resolve_account(db, caller, account_name, domain)
        return query.where(model.account_id == account.id)
    if listall:
        if caller.is_root_admin:
            return query
        return query.where(model.domain_id.in_(_domain_subtree(caller.domain_path)))
    return query.where(model.account_id == caller.account_id)


def check_access(db: Session, caller: Caller, resource: Any, description: str) -> None:
    """Raise 531 unless the caller may act on `resource` (an owned row with account_id and domain_id)."""
    if caller.is_root_admin:
        return
    if caller.is_domain_admin:
        domain = db.get(Domain, resource.domain_id)
        if domain is not None and caller.owns_domain_path(domain.path):
            return
    elif resource.account_id == caller.account_id:
        return
    raise permission_denied(f"Account {caller.account_name} does not have permission to access {description}")
