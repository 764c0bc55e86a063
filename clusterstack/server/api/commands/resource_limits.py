"""Resource limits and counts: listResourceLimits, updateResourceLimit, updateResourceCount.

Type numbers and names are CloudStack's Resource.ResourceType (0 user_vm ... 11 secondary_storage). A limit
is an explicit row or, failing that, the default: unlimited (-1) for root admin accounts and the ROOT domain,
otherwise the `max.account.*` / `max.domain.*` setting. Usage is counted from the rows themselves (instances,
volumes, templates), so it can never drift; updateResourceCount recalculates and records it. Commands that
create resources (registerTemplate now, deployVirtualMachine and createVolume later) call `check_limit`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clusterstack.server import settings
from clusterstack.server.api.access import can_access_domain, resolve_account
from clusterstack.server.api.caller import Caller
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import limit_exceeded, param_error, permission_denied
from clusterstack.server.api.listing import ListResponse, page_window
from clusterstack.server.api.lookup import find_by_uuid
from clusterstack.server.api.registry import (
    ADMIN,
    ALL_ROLES,
    DOMAIN_ADMIN,
    PAGING_PARAMS,
    Param,
    api_command,
    define_entity,
)
from clusterstack.server.db.models.catalog import VMTemplate
from clusterstack.server.db.models.identity import ACCOUNT_TYPE_ADMIN, Account, Domain
from clusterstack.server.db.models.instances import VMInstance, Volume
from clusterstack.server.db.models.limits import (
    RESOURCE_TYPE_BY_NAME,
    RESOURCE_TYPES,
    UNLIMITED,
    ResourceCount,
    ResourceLimit,
)
from clusterstack.server.identity.rendering import display_path

GIB = 1024**3

# CloudStack's default limits (Config: max.account.* and max.domain.*); storage limits in GiB.
_ACCOUNT_DEFAULTS = {0: ("user.vms", 20), 1: ("public.ips", 20), 2: ("volumes", 20), 3: ("snapshots", 20),
                     4: ("templates", 20), 5: ("projects", 10), 6: ("networks", 20), 7: ("vpcs", 20),
                     8: ("cpus", 40), 9: ("memory", 40960), 10: ("primary.storage", 200),
                     11: ("secondary.storage", 400)}
_DOMAIN_DEFAULTS = {0: ("user.vms", 40), 1: ("public.ips", 40), 2: ("volumes", 40), 3: ("snapshots", 40),
                    4: ("templates", 40), 5: ("projects", 50), 6: ("networks", 40), 7: ("vpcs", 40),
                    8: ("cpus", 80), 9: ("memory", 81920), 10: ("primary.storage", 400),
                    11: ("secondary.storage", 800)}
_UNIT = {9: " (MiB)", 10: " (GiB)", 11: " (GiB)"}
ACCOUNT_LIMIT_SETTINGS = {
    number: settings.define_setting(f"max.account.{suffix}", default, "Account Defaults",
                                    f"The default maximum number of {RESOURCE_TYPES[number]}{_UNIT.get(number, '')} "
                                    "that can be used by an account", minimum=-1)
    for number, (suffix, default) in _ACCOUNT_DEFAULTS.items()
}
DOMAIN_LIMIT_SETTINGS = {
    number: settings.define_setting(f"max.domain.{suffix}", default, "Domain Defaults",
                                    f"The default maximum number of {RESOURCE_TYPES[number]}{_UNIT.get(number, '')} "
                                    "that can be used by a domain", minimum=-1)
    for number, (suffix, default) in _DOMAIN_DEFAULTS.items()
}
# storage limits are kept in GiB in settings, in bytes everywhere else (as CloudStack's resource counts)
_STORAGE_TYPES = (10, 11)

define_entity("resourcelimit", [
    ("account", "string", "the account of the resource limit"),
    ("domainid", "string", "the domain ID of the resource limit"),
    ("domain", "string", "the domain name of the resource limit"),
    ("domainpath", "string", "path of the domain to which the resource limit belongs"),
    ("resourcetype", "string", "resource type. Values include 0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11. See the "
     "resourceType parameter for more information on these values."),
    ("resourcetypename", "string", "resource type name. Values include user_vm, public_ip, volume, snapshot, "
     "template, project, network, vpc, cpu, memory, primary_storage, secondary_storage."),
    ("max", "long", "the maximum number of the resource. A -1 means the resource currently has no limit."),
    ("projectid", "string", "the project id of the resource limit"),
    ("project", "string", "the project name of the resource limit"),
])
define_entity("resourcecount", [
    ("account", "string", "the account for which resource count's are updated"),
    ("domainid", "string", "the domain ID for which resource count's are updated"),
    ("domain", "string", "the domain name for which resource count's are updated"),
    ("resourcetype", "string", "resource type. Values include 0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11. See the "
     "resourceType parameter for more information on these values."),
    ("resourcetypename", "string", "resource type name. Values include user_vm, public_ip, volume, snapshot, "
     "template, project, network, vpc, cpu, memory, primary_storage, secondary_storage."),
    ("resourcecount", "long", "resource count"),
    ("projectid", "string", "the project id for which resource count's are updated"),
    ("project", "string", "the project name for which resource count's are updated"),
])

_RESOURCE_TYPE_HELP = ("Type of resource. Values are 0, 1, 2, 3, 4, 6, 7, 8, 9, 10 and 11. 0 - Instance. "
                       "Number of instances a user can create. 1 - IP. 2 - Volume. 3 - Snapshot. 4 - Template. "
                       "5 - Project. 6 - Network. 7 - VPC. 8 - CPU. 9 - Memory (MiB). 10 - Primary Storage "
                       "(GiB). 11 - Secondary Storage (GiB).")


@dataclass(frozen=True)
class Owner:
    """Whose limit or count: one account, or one domain (then its whole subtree counts)."""

    domain: Domain
    account: Account | None = None


def _default_limit(db: Session, owner: Owner, resource_type: int) -> int:
    if owner.account is not None:
        if owner.account.type == ACCOUNT_TYPE_ADMIN:
            return UNLIMITED
        value = settings.get(db, ACCOUNT_LIMIT_SETTINGS[resource_type])
    else:
        if owner.domain.parent_id is None:
            return UNLIMITED
        value = settings.get(db, DOMAIN_LIMIT_SETTINGS[resource_type])
    if value != UNLIMITED and resource_type in _STORAGE_TYPES:
        return int(value) * GIB
    return int(value)


def _owner_filter(model: Any, owner: Owner) -> Any:
    if owner.account is not None:
        return model.account_id == owner.account.id
    return model.account_id.in_(
        select(Account.id).join(Domain, Account.domain_id == Domain.id)
        .where(Domain.path.startswith(owner.domain.path, autoescape=True)))


def limit_of(db: Session, owner: Owner, resource_type: int) -> int:
    account_id = owner.account.id if owner.account is not None else None
    domain_id = None if owner.account is not None else owner.domain.id
    row = db.scalar(select(ResourceLimit).where(
        ResourceLimit.type == resource_type,
        ResourceLimit.account_id.is_(None) if account_id is None else ResourceLimit.account_id == account_id,
        ResourceLimit.domain_id.is_(None) if domain_id is None else ResourceLimit.domain_id == domain_id))
    return row.max if row is not None else _default_limit(db, owner, resource_type)


def usage_of(db: Session, owner: Owner, resource_type: int) -> int:
    """What `owner` uses of `resource_type`, counted from the rows (0 for types clusterstack has no rows of)."""
    live_vm = VMInstance.removed.is_(None) & VMInstance.state.notin_(("Destroyed", "Expunging", "Error"))
    if resource_type == 0:
        query = select(func.count(VMInstance.id)).where(live_vm)
        model: Any = VMInstance
    elif resource_type == 8:
        query = select(func.coalesce(func.sum(VMInstance.cpu), 0)).where(live_vm)
        model = VMInstance
    elif resource_type == 9:
        query = select(func.coalesce(func.sum(VMInstance.ram_size), 0)).where(live_vm)
        model = VMInstance
    elif resource_type in (2, 10):
        live_volume = Volume.removed.is_(None) & Volume.state.notin_(("Destroy", "Expunging", "Expunged"))
        column = func.count(Volume.id) if resource_type == 2 else func.coalesce(func.sum(Volume.size), 0)
        query = select(column).where(live_volume)
        model = Volume
    elif resource_type in (4, 11):
        column = func.count(VMTemplate.id) if resource_type == 4 else func.coalesce(func.sum(VMTemplate.size), 0)
        query = select(column).where(VMTemplate.removed.is_(None))
        if resource_type == 4:
            query = query.where(VMTemplate.format != "ISO")
        model = VMTemplate
    else:
        return 0
    return int(db.scalar(query.where(_owner_filter(model, owner))) or 0)


def check_limit(db: Session, account: Account, resource_type: int, amount: int = 1) -> None:
    """Refuse (532) when `amount` more of `resource_type` would exceed the account's or a domain's limit."""
    domain = db.get(Domain, account.domain_id)
    assert domain is not None
    owners = [Owner(domain, account)]
    current: Domain | None = domain
    while current is not None:
        owners.append(Owner(current))
        current = db.get(Domain, current.parent_id) if current.parent_id is not None else None
    name = RESOURCE_TYPES[resource_type]
    for owner in owners:
        limit = limit_of(db, owner, resource_type)
        if limit == UNLIMITED:
            continue
        if usage_of(db, owner, resource_type) + amount > limit:
            if owner.account is not None:
                raise limit_exceeded(f"Maximum number of resources of type '{name}' for account name="
                                     f"{account.name} in domain id={domain.uuid} has been exceeded.")
            raise limit_exceeded(f"Maximum number of resources of type '{name}' for domain id="
                                 f"{owner.domain.uuid} has been exceeded.")


def _resource_type(p: dict[str, Any]) -> int | None:
    if "resourcetype" in p:
        number = p["resourcetype"]
        if number not in RESOURCE_TYPES:
            raise param_error(f"Invalid parameter resourcetype value={number}: please specify a valid resource "
                              "type (0 to 11)")
        if "resourcetypename" in p and RESOURCE_TYPE_BY_NAME.get(p["resourcetypename"]) != number:
            raise param_error("Invalid parameter resourcetypename: it does not match resourcetype")
        return int(number)
    if "resourcetypename" in p:
        name = p["resourcetypename"]
        if name not in RESOURCE_TYPE_BY_NAME:
            allowed = ", ".join(RESOURCE_TYPES.values())
            raise param_error(f"Invalid parameter resourcetypename value={name}: must be one of {allowed}")
        return RESOURCE_TYPE_BY_NAME[name]
    return None


def _owner(db: Session, caller: Caller, p: dict[str, Any], *, default_to_caller_account: bool) -> Owner:
    """account + domainid -> that account; domainid alone -> that domain; neither -> the caller's account
    (or, for updates by admins, the caller's domain)."""
    if "domainid" in p:
        domain = find_by_uuid(db, Domain, p["domainid"], "domain", "domainid")
    else:
        domain = db.get(Domain, caller.domain_id)
        assert domain is not None
    if "account" in p:
        return Owner(domain, resolve_account(db, caller, p["account"], domain))
    if "domainid" in p or not default_to_caller_account:
        return Owner(domain)
    account = db.get(Account, caller.account_id)
    assert account is not None
    return Owner(domain, account)


def _check_may_see(caller: Caller, owner: Owner) -> None:
    if caller.is_root_admin:
        return
    if owner.account is not None and owner.account.id == caller.account_id:
        return
    if caller.is_domain_admin and can_access_domain(caller, owner.domain.path):
        return
    if owner.account is None and caller.domain_path.startswith(owner.domain.path):
        return  # a domain the caller lives in: its limits are visible, as in CloudStack
    raise permission_denied(f"Account {caller.account_name} does not have permission to access the resource "
                            "limits asked for")


def render_limit(owner: Owner, resource_type: int, maximum: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "domainid": owner.domain.uuid,
        "domain": owner.domain.name,
        "domainpath": display_path(owner.domain),
        "resourcetype": str(resource_type),
        "resourcetypename": RESOURCE_TYPES[resource_type],
        "max": maximum,
    }
    if owner.account is not None:
        out = {"account": owner.account.name, **out}
    return out


@api_command(
    "listResourceLimits", description="Lists resource limits.", response="resourcelimit", roles=ALL_ROLES,
    params=[
        Param("id", "long", description="Lists resource limits by ID."),
        Param("resourcetype", "integer", description=_RESOURCE_TYPE_HELP),
        Param("resourcetypename", description="Type of resource (wins over resourceType if both are provided). "
              "Values are: user_vm, public_ip, volume, snapshot, template, project, network, vpc, cpu, memory, "
              "primary_storage, secondary_storage", since="4.9.0"),
        Param("account", description="list resources by account. Must be used with the domainId parameter."),
        Param("domainid", "uuid", description="list only resources belonging to the domain specified"),
        Param("isrecursive", "boolean", description="defaults to false, but if true, lists all resources from "
              "the parent specified by the domainId till leaves."),
        Param("listall", "boolean", description="If set to false, list only resources belonging to the "
              "command's caller; if set to true - list resources that the caller is authorized to see."),
        Param("projectid", "uuid", description="list resource limits by project (projects are not supported)"),
        *PAGING_PARAMS,
    ],
)
def list_resource_limits(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    db = ctx.db
    caller = ctx.user
    if not (caller.is_root_admin or caller.is_domain_admin) and "account" in p:
        if p["account"] != caller.account_name or p.get("domainid", caller.domain_uuid) != caller.domain_uuid:
            raise permission_denied(f"Account {caller.account_name} can only list its own resource limits")
        p = {k: v for k, v in p.items() if k not in ("account", "domainid")}
    owner = _owner(db, caller, p, default_to_caller_account=True)
    _check_may_see(caller, owner)
    types = [t for t in [_resource_type(p)] if t is not None] or list(RESOURCE_TYPES)
    if "projectid" in p:
        return ListResponse("resourcelimit", [], 0)
    items = []
    for number in types:
        items.append(render_limit(owner, number, limit_of(db, owner, number)))
    if "id" in p:
        rows = {r.type: r.id for r in db.scalars(select(ResourceLimit).where(ResourceLimit.id == p["id"]))}
        items = [item for item in items if int(item["resourcetype"]) in rows]
    if "keyword" in p:
        items = [item for item in items if p["keyword"].lower() in item["resourcetypename"]]
    window = page_window(db, p)
    offset, limit = window if window is not None else (0, len(items))
    return ListResponse("resourcelimit", items[offset:offset + limit], len(items))


@api_command(
    "updateResourceLimit", description="Updates resource limits for an account or domain.",
    response="resourcelimit", roles=ADMIN | DOMAIN_ADMIN,
    params=[
        Param("resourcetype", "integer", required=True, description=_RESOURCE_TYPE_HELP),
        Param("max", "long", description="Maximum resource limit."),
        Param("account", description="Update resource for a specified account. Must be used with the domainId "
              "parameter."),
        Param("domainid", "uuid", description="Update resource limits for all accounts in specified domain. If "
              "used with the account parameter, updates resource limits for a specified account in specified "
              "domain."),
        Param("projectid", "uuid", description="Update resource limits for project (projects are not supported)"),
    ],
)
def update_resource_limit(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    caller = ctx.user
    resource_type = _resource_type(p)
    assert resource_type is not None
    maximum = p.get("max", UNLIMITED)
    if maximum < UNLIMITED:
        raise param_error("Please specify either '-1' for an infinite limit, or a limit that is at least '0'.")
    if "projectid" in p:
        raise param_error("Projects are not supported: resource limits apply to accounts and domains")
    owner = _owner(db, caller, p, default_to_caller_account=False)
    if owner.account is not None:
        if owner.account.type == ACCOUNT_TYPE_ADMIN:
            raise param_error("Can't update system account or root admin account resource limits")
        if owner.account.id == caller.account_id and not caller.is_root_admin:
            raise permission_denied("Only a parent domain admin can change the resource limits of its account")
    else:
        if owner.domain.parent_id is None:
            raise param_error("Cannot update resource limit for the ROOT domain: it is unlimited")
        if not caller.is_root_admin and (owner.domain.id == caller.domain_id
                                         or not can_access_domain(caller, owner.domain.path)):
            raise permission_denied(f"Account {caller.account_name} cannot change the resource limits of domain "
                                    f"{owner.domain.name}: only an admin of a parent domain can")
    if owner.account is None:
        # a domain's limit cannot be lower than what a subdomain is allowed
        for child in db.scalars(select(Domain).where(Domain.parent_id == owner.domain.id,
                                                     Domain.removed.is_(None))):
            child_limit = limit_of(db, Owner(child), resource_type)
            if maximum != UNLIMITED and (child_limit == UNLIMITED or child_limit > maximum):
                raise param_error(f"Domain {owner.domain.name} has a sub-domain {child.name} with a higher "
                                  f"limit for {RESOURCE_TYPES[resource_type]}; lower that one first")
    account_id = owner.account.id if owner.account is not None else None
    domain_id = None if owner.account is not None else owner.domain.id
    row = db.scalar(select(ResourceLimit).where(
        ResourceLimit.type == resource_type,
        ResourceLimit.account_id.is_(None) if account_id is None else ResourceLimit.account_id == account_id,
        ResourceLimit.domain_id.is_(None) if domain_id is None else ResourceLimit.domain_id == domain_id))
    if row is None:
        db.add(ResourceLimit(type=resource_type, account_id=account_id, domain_id=domain_id, max=maximum))
    else:
        row.max = maximum
    return {"resourcelimit": render_limit(owner, resource_type, maximum)}


@api_command(
    "updateResourceCount", description="Recalculate and update resource count for an account or domain. This "
    "also executes some cleanup tasks before calculating resource counts.", response="resourcecount",
    roles=ADMIN | DOMAIN_ADMIN,
    params=[
        Param("domainid", "uuid", required=True, description="If account parameter specified then updates "
              "resource counts for a specified account in this domain else update resource counts for all "
              "accounts & child domains in specified domain."),
        Param("account", description="Update resource count for a specified account. Must be used with the "
              "domainId parameter."),
        Param("resourcetype", "integer", description=_RESOURCE_TYPE_HELP + " If not specified, all types are "
              "recalculated."),
        Param("projectid", "uuid", description="Update resource limits for project (projects are not supported)"),
    ],
)
def update_resource_count(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    db = ctx.db
    caller = ctx.user
    owner = _owner(db, caller, p, default_to_caller_account=False)
    _check_may_see(caller, owner)
    types = [t for t in [_resource_type(p)] if t is not None] or list(RESOURCE_TYPES)
    account_id = owner.account.id if owner.account is not None else None
    domain_id = None if owner.account is not None else owner.domain.id
    items = []
    for number in types:
        used = usage_of(db, owner, number)
        row = db.scalar(select(ResourceCount).where(
            ResourceCount.type == number,
            ResourceCount.account_id.is_(None) if account_id is None else ResourceCount.account_id == account_id,
            ResourceCount.domain_id.is_(None) if domain_id is None else ResourceCount.domain_id == domain_id))
        if row is None:
            db.add(ResourceCount(type=number, account_id=account_id, domain_id=domain_id, count=used))
        else:
            row.count = used
        item: dict[str, Any] = {"domainid": owner.domain.uuid, "domain": owner.domain.name,
                                "resourcetype": str(number), "resourcetypename": RESOURCE_TYPES[number],
                                "resourcecount": used}
        if owner.account is not None:
            item = {"account": owner.account.name, **item}
        items.append(item)
    return ListResponse("resourcecount", items, len(items))
