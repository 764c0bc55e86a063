"""Resource tags: createTags, deleteTags, listTags, and the `tags[0].key=` filters of the instance, volume and
template listings, as CloudStack's TaggedResourceManagerImpl and QueryManagerImpl do them.

A tag belongs to its resource's owner; whoever may act on the resource may tag it. createTags and deleteTags are
asynchronous in CloudStack and answer `success`; a key already on a resource fails the job (CloudStack's
"tag ... already on ..."), and deleteTags that matches nothing fails with "Failed to delete tags".
clusterstack keeps tags on the resources it has: instances (UserVm), volumes, templates and ISOs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from clusterstack.server import events
from clusterstack.server.api.access import check_access, scope_owned
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import internal_error, param_error
from clusterstack.server.api.listing import ListResponse, page_window
from clusterstack.server.api.lookup import keyword_pattern
from clusterstack.server.api.registry import (
    ACCOUNT_SCOPE_PARAMS,
    ALL_ROLES,
    PAGING_PARAMS,
    Param,
    api_command,
    define_entity,
)
from clusterstack.server.db.models.catalog import FORMAT_ISO, VMTemplate
from clusterstack.server.db.models.identity import Account, Domain
from clusterstack.server.db.models.instances import VMInstance, Volume
from clusterstack.server.db.models.tags import TAGGABLE_TYPES, ResourceTag

# CloudStack's ResourceObjectType names (api/src/main/java/com/cloud/server/ResourceTag.java): a name among them
# that clusterstack keeps no tags on is refused as such, any other name as an invalid resource type
CLOUDSTACK_RESOURCE_TYPES = (
    "UserVm", "Template", "VnfTemplate", "ISO", "Volume", "Snapshot", "Backup", "Network", "DomainRouter", "Nic",
    "LoadBalancer", "PortForwardingRule", "FirewallRule", "SecurityGroup", "SecurityGroupRule", "PublicIpAddress",
    "Project", "Account", "Vpc", "NetworkACL", "StaticRoute", "VMSnapshot", "RemoteAccessVpn", "Zone",
    "ServiceOffering", "Storage", "PrivateGateway", "NetworkACLList", "VpnGateway", "CustomerGateway",
    "VpnConnection", "User", "DiskOffering", "AutoScaleVmProfile", "AutoScaleVmGroup", "LBStickinessPolicy",
    "LBHealthCheckPolicy", "SnapshotPolicy", "GuestOsCategory", "GuestOs", "NetworkOffering", "VpcOffering",
    "Domain", "ObjectStore",
)

define_entity("tag", [
    ("key", "string", "tag key name"),
    ("value", "string", "tag value"),
    ("resourcetype", "string", "resource type"),
    ("resourceid", "string", "id of the resource"),
    ("account", "string", "the account associated with the tag"),
    ("domainid", "string", "the ID of the domain associated with the tag"),
    ("domain", "string", "the domain associated with the tag"),
    ("domainpath", "string", "path of the Domain associated with the tag"),
    ("customer", "string", "customer associated with the tag"),
])


@dataclass(frozen=True)
class _Kind:
    """How a taggable resource type is found: its model and what narrows the model's rows to this type."""

    model: Any
    condition: Any


def _kinds() -> dict[str, _Kind]:
    return {
        "UserVm": _Kind(VMInstance, VMInstance.removed.is_(None)),
        "Volume": _Kind(Volume, Volume.removed.is_(None)),
        "Template": _Kind(VMTemplate, VMTemplate.removed.is_(None) & (VMTemplate.format != FORMAT_ISO)),
        "ISO": _Kind(VMTemplate, VMTemplate.removed.is_(None) & (VMTemplate.format == FORMAT_ISO)),
    }


def resource_type(given: str) -> str:
    """CloudStack's name of a resource type given in any case (ResourceObjectType.getResourceObjectType)."""
    for name in TAGGABLE_TYPES:
        if name.lower() == given.strip().lower():
            return name
    for name in CLOUDSTACK_RESOURCE_TYPES:
        if name.lower() == given.strip().lower():
            raise param_error(f"The resource type {name} doesn't support resource tags in clusterstack: it keeps "
                              f"tags on {', '.join(TAGGABLE_TYPES)}")
    raise param_error(f"Invalid resource type {given}")


def _resource(ctx: CallContext, kind_name: str, given_id: str) -> Any:
    kind = _kinds()[kind_name]
    row = ctx.db.scalar(select(kind.model).where(kind.model.uuid == given_id, kind.condition))
    if row is None:
        raise param_error(f"Unable to find resource by uuid {given_id} and type {kind_name}")
    check_access(ctx.db, ctx.user, row, f"{kind_name} {given_id}")
    return row


def _pairs(entries: list[dict[str, str]], *, values_required: bool) -> list[tuple[str, str | None]]:
    """tags[i].key / tags[i].value, the later of two equal keys winning (a map, as CloudStack parses it)."""
    pairs: dict[str, str | None] = {}
    for entry in entries:
        key = entry.get("key")
        if key is None:
            raise param_error("Invalid parameter tags: every tags[i] needs a key")
        value = entry.get("value")
        if value is None and values_required:
            raise param_error(f"No value is passed in for key {key}")
        pairs[key] = value
    return list(pairs.items())


def tag_filter(db: Session, kind_name: str, entries: list[dict[str, str]], id_column: Any) -> Any:
    """The WHERE of a listing's `tags` filter: resources carrying any of the given key=value pairs, as
    CloudStack's QueryManagerImpl joins resource_tags (the pairs OR-ed)."""
    pairs = _pairs(entries, values_required=True)
    matching = or_(*(and_(ResourceTag.key == key, ResourceTag.value == value) for key, value in pairs))
    return id_column.in_(select(ResourceTag.resource_id).where(ResourceTag.resource_type == kind_name, matching))


def attach_tags(db: Session, kind_name: str, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill the `tags` of each listed resource (rendered, with its UUID as `id`), in one query."""
    uuids = [item["id"] for item in listed]
    if not uuids:
        return listed
    found: dict[str, list[dict[str, Any]]] = {}
    rows = db.execute(_rendered().where(ResourceTag.resource_type == kind_name, ResourceTag.resource_uuid.in_(uuids))
                      .order_by(ResourceTag.id))
    for row in rows:
        found.setdefault(row.resource_uuid, []).append(_render(row))
    for item in listed:
        item["tags"] = found.get(item["id"], [])
    return listed


def _rendered() -> Any:
    return (select(ResourceTag.resource_id, ResourceTag.key, ResourceTag.value, ResourceTag.resource_type,
                   ResourceTag.resource_uuid, ResourceTag.customer, Account.name.label("account"),
                   Domain.uuid.label("domain_uuid"), Domain.name.label("domain"), Domain.path.label("domain_path"))
            .join(Account, Account.id == ResourceTag.account_id).join(Domain, Domain.id == ResourceTag.domain_id))


def _render(row: Any) -> dict[str, Any]:
    path = "ROOT" + row.domain_path.rstrip("/") if row.domain_path != "/" else "ROOT"
    return {"key": row.key, "value": row.value, "resourcetype": row.resource_type, "resourceid": row.resource_uuid,
            "account": row.account, "domainid": row.domain_uuid, "domain": row.domain, "domainpath": path,
            "customer": row.customer}


def _prepare_create(ctx: CallContext, p: dict[str, Any]) -> None:
    kind_name = resource_type(p["resourcetype"])
    for key, value in _pairs(p["tags"], values_required=False):
        if not key.strip():
            raise param_error("Invalid parameter tags: a tag's key can't be blank")
        if value is None or value == "":
            raise param_error(f"Value for the key {key} is either null or empty")
        if len(key) > 255 or len(value) > 255:
            raise param_error(f"Invalid parameter tags: key and value are at most 255 characters ({key})")
    for given_id in p["resourceids"]:
        _resource(ctx, kind_name, given_id)


@api_command(
    "createTags", description="Creates resource tag(s)", response="success", roles=ALL_ROLES, isasync=True,
    prepare=_prepare_create,
    params=[
        Param("resourcetype", required=True, description="type of the resource: UserVm, Volume, Template, ISO"),
        Param("resourceids", "list", required=True, description="list of resources to create the tags for"),
        Param("tags", "map", required=True, description="Map of tags (key/value pairs)"),
        Param("customer", description="identifies client specific tag. When the value is not null, the tag can't "
              "be used by cloudStack code internally"),
    ],
)
def create_tags(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    _prepare_create(ctx, p)
    kind_name = resource_type(p["resourcetype"])
    for key, value in _pairs(p["tags"], values_required=False):
        for given_id in p["resourceids"]:
            resource = _resource(ctx, kind_name, given_id)
            taken = ctx.db.scalar(select(ResourceTag.id).where(
                ResourceTag.resource_type == kind_name, ResourceTag.resource_id == resource.id,
                ResourceTag.key == key))
            if taken is not None:
                raise internal_error(f"tag {key} already on {kind_name} with id {resource.uuid}")
            ctx.db.add(ResourceTag(key=key, value=value or "", resource_type=kind_name, resource_id=resource.id,
                                   resource_uuid=resource.uuid, account_id=resource.account_id,
                                   domain_id=resource.domain_id, customer=p.get("customer")))
    ctx.db.flush()
    events.record_event(ctx.db, "CREATE_TAGS", f"Created tags on {kind_name} {', '.join(p['resourceids'])}",
                        ctx.actor)
    return {"success": True}


def _prepare_delete(ctx: CallContext, p: dict[str, Any]) -> None:
    resource_type(p["resourcetype"])


@api_command(
    "deleteTags", description="Deleting resource tag(s)", response="success", roles=ALL_ROLES, isasync=True,
    prepare=_prepare_delete,
    params=[
        Param("resourcetype", required=True, description="Delete tag by resource type"),
        Param("resourceids", "list", required=True, description="Delete tags for resource id(s)"),
        Param("tags", "map", description="Delete tags matching key/value pairs"),
    ],
)
def delete_tags(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    kind_name = resource_type(p["resourcetype"])
    wanted = _pairs(p.get("tags") or [], values_required=False)
    found = ctx.db.scalars(select(ResourceTag).where(ResourceTag.resource_type == kind_name,
                                                     ResourceTag.resource_uuid.in_(p["resourceids"])))
    doomed = []
    for tag in found:
        # a key matches without regard to case, and so does a value when one is given (CloudStack's deleteTags)
        if not wanted or any(tag.key.lower() == key.lower() and (value is None or tag.value.lower() == value.lower())
                             for key, value in wanted):
            doomed.append(tag)
    if not doomed:
        raise internal_error("Failed to delete tags")
    for tag in doomed:
        check_access(ctx.db, ctx.user, tag, f"the tags of {kind_name} {tag.resource_uuid}")
    ctx.db.execute(delete(ResourceTag).where(ResourceTag.id.in_([t.id for t in doomed])))
    events.record_event(ctx.db, "DELETE_TAGS", f"Deleted tags on {kind_name} {', '.join(p['resourceids'])}",
                        ctx.actor)
    return {"success": True}


@api_command(
    "listTags", description="List resource tag(s)", response="tag", roles=ALL_ROLES,
    params=[
        Param("resourcetype", description="list by resource type"),
        Param("resourceid", description="list by resource id"),
        Param("key", description="list by key"),
        Param("value", description="list by value"),
        Param("customer", description="list by customer name"),
        *ACCOUNT_SCOPE_PARAMS,
        *PAGING_PARAMS,
    ],
)
def list_tags(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    db = ctx.db
    where: list[Any] = []
    if "resourcetype" in p:
        where.append(ResourceTag.resource_type == resource_type(p["resourcetype"]))
    if "resourceid" in p:
        where.append(ResourceTag.resource_uuid == p["resourceid"])
    for param, column in (("key", ResourceTag.key), ("value", ResourceTag.value),
                          ("customer", ResourceTag.customer)):
        if param in p:
            where.append(column == p[param])
    if "keyword" in p:
        pattern = keyword_pattern(p["keyword"])
        where.append(ResourceTag.key.ilike(pattern, escape="\\") | ResourceTag.value.ilike(pattern, escape="\\"))
    total = db.scalar(scope_owned(db, ctx.user, select(func.count(ResourceTag.id)).where(*where), ResourceTag,
                                  p)) or 0
    if total == 0:
        return ListResponse("tag", [], 0)
    window = page_window(db, p)
    offset, limit = window if window is not None else (0, None)
    query = scope_owned(db, ctx.user, _rendered().where(*where), ResourceTag, p)
    rows = db.execute(query.order_by(ResourceTag.id).offset(offset).limit(limit))
    return ListResponse("tag", [_render(row) for row in rows], total)
