"""Scoping list queries of accounts and users: a user its own account, a domain admin its subtree, root all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from clusterstack.server.api.caller import Caller
from clusterstack.server.api.errors import permission_denied
from clusterstack.server.db.models.identity import Account, Domain
from clusterstack.server.identity import scope


def subtree_ids(path: str) -> Select[Any]:
    return select(Domain.id).where(Domain.path.startswith(path, autoescape=True), Domain.removed.is_(None))


def scope_accounts(db: Session, caller: Caller, query: Select[Any], params: dict[str, Any]) -> Select[Any]:
    """Narrow `query` (which selects from or joins Account) the way CloudStack's buildACLSearchParameters does.

    A user: its own account. An admin: with domainid, that domain (its subtree with isrecursive or listall),
    or one account of it by name; with an id or listall, everything it reaches (root all, a domain admin its
    subtree); otherwise its own account only.
    """
    if not (caller.is_root_admin or caller.is_domain_admin):
        if params.get("account") not in (None, caller.account_name) or \
                params.get("domainid") not in (None, caller.domain_uuid):
            raise permission_denied(f"Account {caller.account_name} can only list its own resources")
        return query.where(Account.id == caller.account_id)
    if "domainid" in params:
        domain = scope.find_domain(db, params["domainid"], "domainid")
        scope.check_domain_access(caller, domain)
        if "account" in params:
            return query.where(Account.domain_id == domain.id, Account.name == params["account"])
        if params.get("isrecursive") or params.get("listall"):
            return query.where(Account.domain_id.in_(subtree_ids(domain.path)))
        return query.where(Account.domain_id == domain.id)
    if "account" in params:
        return query.where(Account.domain_id == caller.domain_id, Account.name == params["account"])
    if "id" in params or params.get("listall"):
        if caller.is_root_admin:
            return query
        return query.where(Account.domain_id.in_(subtree_ids(caller.domain_path)))
    return query.where(Account.id == caller.account_id)
