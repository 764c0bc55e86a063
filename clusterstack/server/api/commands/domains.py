"""Domains: createDomain, listDomains, listDomainChildren, updateDomain, deleteDomain.

A domain's path ("/" for ROOT, "/Child/", "/Child/Grandchild/") makes subtrees a prefix match. deleteDomain is
asynchronous, as in CloudStack: the request checks the domain and who asks and answers a job id; the job
deletes and answers `success`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update

from clusterstack.server import events
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import in_use, internal_error, param_error, permission_denied
from clusterstack.server.api.listing import ListResponse, paged_list
from clusterstack.server.api.lookup import keyword_pattern, unused_uuid
from clusterstack.server.api.registry import (
    ADMIN,
    ALL_ROLES,
    DOMAIN_ADMIN,
    PAGING_PARAMS,
    JobTarget,
    Param,
    api_command,
)
from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.identity import Account, Domain
from clusterstack.server.db.models.limits import ResourceCount, ResourceLimit
from clusterstack.server.identity import scope
from clusterstack.server.identity.listing_scope import subtree_ids
from clusterstack.server.identity.rendering import render_domain
from clusterstack.server.orchestration import account_cleanup

ADMINS = ADMIN | DOMAIN_ADMIN


def _record(ctx: CallContext, event_type: str, text: str, domain: Domain) -> None:
    events.record_event(ctx.db, event_type, text, ctx.actor, resource_type="Domain", resource_uuid=domain.uuid,
                        resource_name=domain.name)


def _check_name(ctx: CallContext, name: str, parent: Domain, except_id: int | None = None) -> None:
    if not name.strip() or "/" in name:
        raise param_error(f"Invalid domain name {name}: it must not be empty or contain '/'")
    query = select(Domain.id).where(func.lower(Domain.name) == name.lower(), Domain.parent_id == parent.id,
                                    Domain.removed.is_(None))
    if except_id is not None:
        query = query.where(Domain.id != except_id)
    if ctx.db.scalar(query.limit(1)) is not None:
        raise param_error(f"Domain with name {name} already exists for the parent id={parent.uuid}")


@api_command(
    "createDomain",
    description="Creates a domain",
    params=[
        Param("name", required=True, description="creates domain with this name"),
        Param("parentdomainid", "uuid", description="assigns new domain a parent domain by domain ID of the "
              "parent.  If no parent domain is specified, the ROOT domain is assumed."),
        Param("networkdomain", description="Network domain for networks in the domain"),
        Param("domainid", description="Domain UUID, required for adding domain from another Region"),
    ],
    response="domain",
    roles=ADMINS,
)
def create_domain(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    caller = ctx.user
    if "parentdomainid" in p:
        parent = scope.find_domain(ctx.db, p["parentdomainid"], "parentdomainid")
    else:
        # ROOT for the root admin (as in CloudStack); a domain admin's own domain, the top of what it manages
        root = scope.find_domain_by_path(ctx.db, "/") if caller.is_root_admin else None
        parent = root or scope.live_domain(ctx.db, caller.domain_id)
    scope.check_domain_access(caller, parent)
    if not caller.is_root_admin and not caller.is_domain_admin:
        raise permission_denied(f"Account {caller.account_name} can't create domains")
    _check_name(ctx, p["name"], parent)
    domain = Domain(name=p["name"], parent_id=parent.id, path=f"{parent.path}{p['name']}/", level=parent.level + 1,
                    network_domain=p.get("networkdomain"), state="Active")
    if "domainid" in p:
        domain.uuid = unused_uuid(ctx.db, Domain, "domainid", p["domainid"], "domain")
    ctx.db.add(domain)
    ctx.db.flush()
    _record(ctx, "DOMAIN.CREATE", f"Domain Name: {domain.name}, Parent Domain Id: {parent.uuid}", domain)
    return {"domain": render_domain(ctx.db, domain)}


LIST_PARAMS = (
    Param("id", "uuid", description="List domain by domain ID."),
    Param("name", description="List domain by domain name."),
    Param("level", "integer", description="List domains by domain level."),
    Param("listall", "boolean", description="If set to false, list only resources belonging to the command's "
          "caller; if set to true - list resources that the caller is authorized to see. Default value is false"),
    Param("details", "list", collection_type="string", description="comma separated list of domain details "
          "requested, value can be a list of [ all, resource, min]"),
)


def _filters(query: Any, p: dict[str, Any]) -> Any:
    if "name" in p:
        query = query.where(Domain.name == p["name"])
    if "level" in p:
        query = query.where(Domain.level == p["level"])
    if "keyword" in p:
        query = query.where(Domain.name.like(keyword_pattern(p["keyword"]), escape="\\"))
    return query.order_by(Domain.path, Domain.id)


@api_command(
    "listDomains",
    description="Lists domains and provides detailed information for listed domains",
    params=[*LIST_PARAMS, *PAGING_PARAMS],
    response="domain",
    roles=ALL_ROLES,
)
def list_domains(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    caller = ctx.user
    query = select(Domain).where(Domain.removed.is_(None))
    if "id" in p:
        domain = scope.find_domain(ctx.db, p["id"])
        scope.check_domain_access(caller, domain)
        query = query.where(Domain.id == domain.id)
    elif caller.is_root_admin:
        pass  # as in CloudStack: the root admin lists every domain, with or without listall
    elif p.get("listall") and caller.is_domain_admin:
        query = query.where(Domain.id.in_(subtree_ids(caller.domain_path)))
    else:
        query = query.where(Domain.id == caller.domain_id)
    return paged_list(ctx.db, "domain", _filters(query, p), p, lambda d: render_domain(ctx.db, d))


@api_command(
    "listDomainChildren",
    description="Lists all children domains belonging to a specified domain",
    params=[
        Param("id", "uuid", description="list children of the domain by the domain ID. If not specified, the "
              "caller's domain is used"),
        Param("name", description="list children domains by name"),
        Param("isrecursive", "boolean", description="to return the entire tree, use the value \"true\". To return "
              "the first level children, use the value \"false\"."),
        Param("listall", "boolean", description="If set to false, list only resources belonging to the "
              "command's caller; if set to true - list resources that the caller is authorized to see. Default "
              "value is false"),
        *PAGING_PARAMS,
    ],
    response="domain",
    roles=ALL_ROLES,
)
def list_domain_children(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    caller = ctx.user
    parent = scope.find_domain(ctx.db, p["id"]) if "id" in p else scope.live_domain(ctx.db, caller.domain_id)
    scope.check_domain_access(caller, parent)
    query = select(Domain).where(Domain.removed.is_(None))
    if not (caller.is_root_admin or caller.is_domain_admin):
        # a user sees no domain but its own, so it has no children to list
        query = query.where(Domain.id.is_(None))
    elif p.get("isrecursive") or p.get("listall"):
        query = query.where(Domain.id.in_(subtree_ids(parent.path)), Domain.id != parent.id)
    else:
        query = query.where(Domain.parent_id == parent.id)
    return paged_list(ctx.db, "domain", _filters(query, p), p, lambda d: render_domain(ctx.db, d))


@api_command(
    "updateDomain",
    description="Updates a domain with a new name",
    params=[
        Param("id", "uuid", required=True, description="ID of domain to update"),
        Param("name", description="updates domain with this name"),
        Param("networkdomain", description="Network domain for the domain's networks; empty string will update "
              "domainName with NULL value"),
    ],
    response="domain",
    roles=ADMINS,
)
def update_domain(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    domain = scope.find_domain(ctx.db, p["id"])
    scope.check_domain_admin_access(ctx.user, domain)
    if "name" in p and p["name"] != domain.name:
        if domain.parent_id is None:
            raise param_error("ROOT domain can not be edited with a new name")
        parent = scope.live_domain(ctx.db, domain.parent_id)
        _check_name(ctx, p["name"], parent, except_id=domain.id)
        old_path = domain.path
        new_path = f"{parent.path}{p['name']}/"
        for row in ctx.db.scalars(select(Domain).where(Domain.path.startswith(old_path, autoescape=True))):
            row.path = new_path + row.path[len(old_path):]
        domain.name = p["name"]
    if "networkdomain" in p:
        domain.network_domain = p["networkdomain"] or None
    ctx.db.flush()
    _record(ctx, "DOMAIN.UPDATE", f"Updated domain {domain.name}", domain)
    return {"domain": render_domain(ctx.db, domain)}


def _deletable(ctx: CallContext, p: dict[str, Any]) -> tuple[Domain, list[int], list[int]]:
    """The domain to delete, its subtree's domain ids and its accounts (live, or removed with cleanup pending);
    refuses what may not be deleted."""
    caller = ctx.user
    domain = scope.find_domain(ctx.db, p["id"])
    if domain.parent_id is None:
        raise permission_denied("Can't delete the ROOT domain")
    scope.check_domain_admin_access(caller, domain)
    subtree = list(ctx.db.scalars(select(Domain.id).where(Domain.id.in_(subtree_ids(domain.path)))))
    accounts = list(ctx.db.scalars(
        select(Account.id).where(Account.domain_id.in_(subtree),
                                 Account.removed.is_(None) | Account.needs_cleanup.is_(True))))
    if not p.get("cleanup") and (len(subtree) > 1 or accounts):
        raise in_use(f"Can't delete the domain yet because it has {len(subtree) - 1} child domain(s) and "
                     f"{len(accounts)} account(s); delete them first or use cleanup=true")
    if caller.account_id in accounts:
        raise permission_denied("A caller can't delete the domain of its own account")
    return domain, subtree, accounts


def _clean_up(ctx: CallContext, domain: Domain, subtree: list[int]) -> None:
    """cleanup=true: the subtree goes Inactive (no new accounts or users), then every account in it is deleted and
    its resources released, deepest domains first (CloudStack's DomainManagerImpl.cleanupDomain). If an account
    still needs cleanup afterwards, the domain is not removed: it goes back to Active and the job fails, and
    deleteDomain again finishes the work."""
    db = ctx.db
    db.execute(update(Domain).where(Domain.id.in_(subtree)).values(state="Inactive"))
    db.commit()
    failures: list[str] = []
    for account in account_cleanup.accounts_of_subtree(db, domain):
        if account.removed is None:
            account_cleanup.mark_removed(db, account)
            events.record_event(db, "ACCOUNT.DELETE", f"Deleted account {account.name} as a part of domain "
                                f"{domain.name} cleanup", ctx.actor, resource_type="Account",
                                resource_uuid=account.uuid, resource_name=account.name)
            db.commit()
        report = account_cleanup.clean_up_account(ctx, account)
        failures.extend(f"account {account.name}: {failure}" for failure in report.failures)
    pending = account_cleanup.pending_cleanups(db, subtree)
    if pending:
        domain.state = "Active"
        db.commit()
        detail = "; ".join(failures) or f"accounts needing cleanup: {', '.join(pending)}"
        raise internal_error(f"Failed to clean up domain resources and sub domains, delete failed on domain "
                             f"{domain.name} ({detail}); run deleteDomain with cleanup=true again to finish")


@api_command(
    "deleteDomain",
    description="Deletes a specified domain; with cleanup=true, its child domains and accounts too, the accounts' "
    "instances destroyed and expunged (their failover-cluster roles removed) and volumes deleted.",
    params=[
        Param("id", "uuid", required=True, description="ID of domain to delete"),
        Param("cleanup", "boolean", description="true if all domain resources (child domains, accounts) have to "
              "be cleaned up, false otherwise"),
    ],
    response="success",
    roles=ADMINS,
    isasync=True,
    resumable=True,
    prepare=lambda ctx, p: JobTarget("Domain", _deletable(ctx, p)[0].uuid),
)
def delete_domain(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    domain, subtree, _accounts = _deletable(ctx, p)
    if p.get("cleanup"):
        _clean_up(ctx, domain, subtree)
    db = ctx.db
    db.execute(delete(ResourceCount).where(ResourceCount.domain_id.in_(subtree)))
    db.execute(delete(ResourceLimit).where(ResourceLimit.domain_id.in_(subtree)))
    db.execute(update(Domain).where(Domain.id.in_(subtree)).values(removed=utcnow(), state="Inactive"))
    _record(ctx, "DOMAIN.DELETE", f"Deleted domain {domain.name}" + (" with cleanup" if p.get("cleanup") else ""),
            domain)
    return {"success": True}
