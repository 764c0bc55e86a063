"""Templates and ISOs: registerTemplate, listTemplates, updateTemplate, deleteTemplate, registerIso, listIsos,
updateIso, deleteIso.

A Hyper-V template is a VHD or VHDX disk image. clusterstack's storage is a Cluster Shared Volume prepared
outside CloudStack (PreSetup), so registering an image records it as already in place: status
"Download Complete", isready true. Nothing is downloaded from `url`; the URL is kept for the record (and for
a later copy step, once one exists).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from clusterstack.server import events
from clusterstack.server.api.access import check_access, resolve_account, scope_owned
from clusterstack.server.api.commands.guest_os import ensure_guest_os
from clusterstack.server.api.commands.resource_limits import check_limit
from clusterstack.server.api.commands.tags import attach_tags, tag_filter
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import param_error, permission_denied
from clusterstack.server.api.listing import ListResponse, paged_list
from clusterstack.server.api.lookup import filter_row_id, find_by_uuid, keyword_pattern
from clusterstack.server.api.registry import (
    ACCOUNT_SCOPE_PARAMS,
    ALL_ROLES,
    PAGING_PARAMS,
    TAGS_PARAM,
    JobTarget,
    Param,
    api_command,
    define_entity,
    entity_fields,
)
from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.catalog import (
    FORMAT_ISO,
    STATUS_DOWNLOADED,
    TEMPLATE_FILTERS,
    TEMPLATE_FORMATS,
    GuestOS,
    VMTemplate,
    seed_uuid,
)
from clusterstack.server.db.models.identity import Account, Domain
from clusterstack.server.db.models.infrastructure import HYPERVISOR_HYPERV, Zone, hypervisor_type
from clusterstack.server.db.models.instances import VMInstance

TEMPLATE_RESOURCE_TYPE = 4
DEFAULT_OS_TYPE = "Other (64-bit)"
_ARCHIVE_SUFFIXES = ("", ".zip", ".gz", ".bz2")

define_entity("template", [
    ("id", "string", "the template ID"),
    ("name", "string", "the template name"),
    ("displaytext", "string", "the template display text"),
    ("ispublic", "boolean", "true if this template is a public template, false otherwise"),
    ("created", "date", "the date this template was created"),
    ("isready", "boolean", "true if the template is ready to be deployed from, false otherwise."),
    ("passwordenabled", "boolean", "true if the reset password feature is enabled, false otherwise"),
    ("format", "string", "the format of the template."),
    ("isfeatured", "boolean", "true if this template is a featured template, false otherwise"),
    ("crossZones", "boolean", "true if the template is managed across all Zones, false otherwise"),
    ("ostypeid", "string", "the ID of the OS type for this template."),
    ("ostypename", "string", "the name of the OS type for this template."),
    ("account", "string", "the account name to which the template belongs"),
    ("accountid", "string", "the account id to which the template belongs"),
    ("domain", "string", "the name of the domain to which the template belongs"),
    ("domainid", "string", "the ID of the domain to which the template belongs"),
    ("zoneid", "string", "the ID of the zone for this template"),
    ("zonename", "string", "the name of the zone for this template"),
    ("status", "string", "the status of the template"),
    ("size", "long", "the size of the template"),
    ("templatetype", "string", "the type of the template"),
    ("hypervisor", "string", "the hypervisor on which the template runs"),
    ("isextractable", "boolean", "true if the template is extractable, false otherwise"),
    ("checksum", "string", "checksum of the template"),
    ("bootable", "boolean", "true if the ISO is bootable, false otherwise"),
    ("requireshvm", "boolean", "true if template requires HVM enabled, false otherwise"),
    ("isdynamicallyscalable", "boolean", "true if template contains XS/VMWare tools inorder to support dynamic "
     "scaling of VM cpu/memory"),
    ("sshkeyenabled", "boolean", "true if template is sshkey enabled, false otherwise"),
    ("bits", "int", "the processor bit size"),
    ("url", "string", "the URL which the template/iso is registered from"),
    ("directdownload", "boolean", "KVM Only: true if template is directly downloaded to Primary Storage "
     "bypassing Secondary Storage"),
    ("deployasis", "boolean", "VMware only: true if template is deployed without orchestrating disks and "
     "networks but \"as-is\" defined in the template."),
    ("details", "map", "additional key/value details tied with template"),
    ("tags", "list", "the list of resource tags associated"),
    ("hasannotations", "boolean", "true if the entity/resource has annotations"),
])
define_entity("iso", [(f.name, f.type, f.description) for f in entity_fields("template")])


def render_template(db: Session, template: VMTemplate, *, show_url: bool = True) -> dict[str, Any]:
    os_type = db.get(GuestOS, template.guest_os_id) if template.guest_os_id is not None else None
    account = db.get(Account, template.account_id)
    domain = db.get(Domain, template.domain_id)
    zone = db.get(Zone, template.zone_id) if template.zone_id is not None else None
    out: dict[str, Any] = {
        "id": template.uuid,
        "name": template.name,
        "displaytext": template.display_text,
        "ispublic": template.is_public,
        "created": template.created,
        "isready": template.ready,
        "passwordenabled": template.password_enabled,
        "format": template.format,
        "isfeatured": template.featured,
        "crossZones": template.cross_zones,
        "ostypeid": os_type.uuid if os_type else None,
        "ostypename": os_type.display_name if os_type else None,
        "account": account.name if account else None,
        "accountid": account.uuid if account else None,
        "domain": domain.name if domain else None,
        "domainid": domain.uuid if domain else None,
        "zoneid": zone.uuid if zone else None,
        "zonename": zone.name if zone else None,
        "status": template.status,
        "size": template.size,
        "templatetype": template.template_type,
        "hypervisor": template.hypervisor_type,
        "isextractable": template.extractable,
        "checksum": template.checksum,
        "bootable": template.bootable,
        "requireshvm": template.requires_hvm,
        "isdynamicallyscalable": template.dynamically_scalable,
        "sshkeyenabled": False,
        "bits": template.bits,
        "url": template.url if show_url else None,
        "directdownload": False,
        "deployasis": False,
        "details": json.loads(template.details) if template.details else None,
        "tags": [],
        "hasannotations": False,
    }
    if template.is_iso:
        for key in ("hypervisor", "passwordenabled", "requireshvm", "sshkeyenabled", "deployasis"):
            out.pop(key, None)
    return out


def _check_url(url: str, formats: tuple[str, ...]) -> str:
    url = url.strip()
    parsed = urlparse(url)
    if parsed.scheme.lower() not in ("http", "https") or not parsed.netloc:
        raise param_error(f"Unsupported scheme for url: {url}")
    path = parsed.path.lower()
    if not any(path.endswith(f".{fmt.lower()}{suffix}") for fmt in formats for suffix in _ARCHIVE_SUFFIXES):
        raise param_error(f"Please specify a valid URL. URL:{url} is an invalid for the format "
                          f"{'/'.join(f.lower() for f in formats)}")
    return url


def _zone_choice(db: Session, p: dict[str, Any]) -> Zone | None:
    """zoneid (or zoneids, as registerTemplate also takes it): one zone's UUID, or -1 for every zone (cross-zone).
    None means cross-zone."""
    zones = p.get("zoneids")
    if zones is not None and "zoneid" not in p:
        if len(zones) != 1:
            raise param_error("Invalid parameter zoneids: a template here is in one zone or in every zone; give "
                              "one zone id, or zoneid=-1 for every zone")
        chosen = zones[0]
    elif "zoneid" in p:
        chosen = p["zoneid"]
    else:
        raise param_error("Unable to execute API command registertemplate due to missing parameter zoneid (or "
                          "zoneids)")
    if chosen == "-1":
        return None
    return find_by_uuid(db, Zone, chosen, "zone", "zoneid")


def _os_type(db: Session, p: dict[str, Any]) -> GuestOS:
    if "ostypeid" in p:
        return find_by_uuid(db, GuestOS, p["ostypeid"], "OS type", "ostypeid")
    ensure_guest_os(db)
    os_type = db.scalar(select(GuestOS).where(GuestOS.uuid == seed_uuid("guest_os", DEFAULT_OS_TYPE)))
    assert os_type is not None
    return os_type


def _owner(ctx: CallContext, p: dict[str, Any]) -> tuple[Account, Domain]:
    """The account a template is registered for: `account` + `domainid` (admins), else the caller's."""
    db = ctx.db
    caller = ctx.user
    if "account" in p or "domainid" in p:
        if "domainid" in p:
            domain = find_by_uuid(db, Domain, p["domainid"], "domain", "domainid")
        else:
            domain = db.get(Domain, caller.domain_id)
            assert domain is not None
        if "account" not in p:
            raise param_error("Invalid parameter account: must be given together with domainid")
        if p["account"] == caller.account_name and domain.id == caller.domain_id:
            account = db.get(Account, caller.account_id)
        else:
            account = resolve_account(db, caller, p["account"], domain)
        assert account is not None
        return account, domain
    account = db.get(Account, caller.account_id)
    domain = db.get(Domain, caller.domain_id)
    assert account is not None and domain is not None
    return account, domain


def _register(ctx: CallContext, p: dict[str, Any], *, iso: bool) -> VMTemplate:
    db = ctx.db
    caller = ctx.user
    kind = "ISO" if iso else "template"
    name = p["name"].strip()
    if not name:
        raise param_error(f"Invalid parameter name: the {kind} name cannot be blank")
    if iso:
        image_format = FORMAT_ISO
        hypervisor = None
        url = _check_url(p["url"], (FORMAT_ISO,))
    else:
        image_format = p["format"]
        hypervisor = hypervisor_type(p["hypervisor"])
        if hypervisor is None:
            raise param_error(f"Invalid parameter hypervisor value={p['hypervisor']}: clusterstack runs Hyper-V "
                              f"only (hypervisor={HYPERVISOR_HYPERV})")
        if p.get("isrouting"):
            raise param_error("Routing templates are not supported: clusterstack runs no system VMs")
        url = _check_url(p["url"], (image_format,))
    if p.get("isfeatured") and not caller.is_root_admin:
        raise permission_denied("Only admins can create featured templates")
    bits = p.get("bits", 64)
    if bits not in (32, 64):
        raise param_error(f"Invalid parameter bits value={bits}: must be 32 or 64")
    zone = _zone_choice(db, p)
    os_type = _os_type(db, p)
    account, domain = _owner(ctx, p)
    if not iso:
        check_limit(db, account, TEMPLATE_RESOURCE_TYPE)
    details = {key: value for entry in p.get("details", []) for key, value in entry.items()}
    template = VMTemplate(
        name=name,
        display_text=(p.get("displaytext") or "").strip() or name,
        format=image_format,
        hypervisor_type=hypervisor,
        template_type="USER",
        url=url,
        checksum=p.get("checksum"),
        guest_os_id=os_type.id,
        zone_id=zone.id if zone else None,
        cross_zones=zone is None,
        account_id=account.id,
        domain_id=domain.id,
        is_public=bool(p.get("ispublic", False)),
        featured=bool(p.get("isfeatured", False)),
        extractable=bool(p.get("isextractable", False)),
        bootable=bool(p.get("bootable", True)),
        password_enabled=bool(p.get("passwordenabled", False)),
        requires_hvm=bool(p.get("requireshvm", True)),
        dynamically_scalable=bool(p.get("isdynamicallyscalable", False)),
        bits=bits,
        status=STATUS_DOWNLOADED,
        ready=True,
        details=json.dumps(details) if details else None,
    )
    db.add(template)
    db.flush()
    event = "ISO.CREATE" if iso else "TEMPLATE.CREATE"
    events.record_event(db, event, f"Successfully registered {kind} {name}", ctx.actor,
                        resource_type="Iso" if iso else "Template", resource_uuid=template.uuid,
                        resource_name=name)
    return template


_COMMON_REGISTER_PARAMS = [
    Param("name", required=True, description="the name of the template"),
    Param("displaytext", length=4096, description="The display text of the template, defaults to the 'name'."),
    Param("url", required=True, length=2048, description="the URL of where the template is hosted. Possible "
          "URL include http:// and https://"),
    Param("ostypeid", "uuid", description="the ID of the OS Type that best represents the OS of this template. "
          "Defaults to Other (64-bit)."),
    Param("account", description="an optional accountName. Must be used with domainId."),
    Param("domainid", "uuid", description="an optional domainId. If the account parameter is used, domainId must "
          "also be used."),
    Param("checksum", description="the checksum value of this template."),
    Param("isextractable", "boolean", description="true if the template or its derivatives are extractable; "
          "default is false"),
    Param("isfeatured", "boolean", description="true if this template is a featured template, false otherwise"),
    Param("ispublic", "boolean", description="true if the template is available to all accounts; default is "
          "true"),
    Param("projectid", "uuid", description="Register template for the project (projects are not supported)"),
]


@api_command(
    "registerTemplate", description="Registers an existing template into the CloudStack cloud.",
    response="template", roles=ALL_ROLES,
    params=[
        *_COMMON_REGISTER_PARAMS,
        Param("zoneid", "uuid", sentinel="-1", description="the ID of the zone the template is to be hosted on, or "
              "-1 for all zones (this or zoneids is required)"),
        Param("zoneids", "list", collection_type="uuid", description="the zone the template is to be hosted on, "
              "as a list of one (a template here is in one zone or in all)"),
        Param("format", required=True, choices=TEMPLATE_FORMATS, description="the format for the template. "
              "Possible values include VHD and VHDX (Hyper-V)."),
        Param("hypervisor", required=True, description="the target hypervisor for the template: Hyperv"),
        Param("bits", "integer", description="32 or 64 bits support. 64 by default"),
        Param("passwordenabled", "boolean", description="true if the template supports the password reset "
              "feature; default is false"),
        Param("requireshvm", "boolean", description="true if this template requires HVM"),
        Param("isdynamicallyscalable", "boolean", description="true if template contains XS/VMWare tools "
              "inorder to support dynamic scaling of VM cpu/memory"),
        Param("sshkeyenabled", "boolean", description="true if the template supports the sshkey upload feature; "
              "default is false"),
        Param("isrouting", "boolean", description="true if the template type is routing i.e., if template is "
              "used to deploy router"),
        Param("templatetag", description="the tag for this template."),
        Param("details", "map", description="Template details in key/value pairs using format "
              "details[i].keyname=keyvalue. Example: details[0].hypervisortoolsversion=xenserver61"),
    ],
)
def register_template(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    if "projectid" in p:
        raise param_error("Projects are not supported: register the template for an account")
    template = _register(ctx, p, iso=False)
    return ListResponse("template", [render_template(ctx.db, template)], 1)


@api_command(
    "registerIso", description="Registers an existing ISO into the CloudStack Cloud.", response="iso",
    roles=ALL_ROLES,
    params=[
        *_COMMON_REGISTER_PARAMS,
        Param("zoneid", "uuid", required=True, sentinel="-1", description="the ID of the zone the ISO is to be "
              "hosted on, or -1 for all zones"),
        Param("bootable", "boolean", description="true if this ISO is bootable. If not passed explicitly its "
              "assumed to be true"),
    ],
)
def register_iso(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    if "projectid" in p:
        raise param_error("Projects are not supported: register the ISO for an account")
    iso = _register(ctx, p, iso=True)
    return ListResponse("iso", [render_template(ctx.db, iso)], 1)


def _filtered(ctx: CallContext, p: dict[str, Any], query: Select[Any], image_filter: str) -> Select[Any]:
    """CloudStack's templatefilter/isofilter: whose images and which ones."""
    db = ctx.db
    caller = ctx.user
    scoped = ("account" in p or "domainid" in p or p.get("listall")) and image_filter in ("self", "all")
    if scoped:
        return scope_owned(db, caller, query, VMTemplate, p)
    own = VMTemplate.account_id == caller.account_id
    public = VMTemplate.is_public.is_(True)
    featured = VMTemplate.featured.is_(True)
    ready = VMTemplate.ready.is_(True)
    if image_filter == "featured":
        return query.where(featured & public)
    if image_filter == "self":
        return query.where(own)
    if image_filter == "selfexecutable":
        return query.where(own & ready)
    if image_filter == "sharedexecutable":
        return query.where(VMTemplate.id.is_(None))  # no launch permissions exist, so nothing is shared
    if image_filter == "community":
        return query.where(public & ~featured & ready)
    if image_filter == "all" and caller.is_root_admin:
        return query
    if image_filter == "all" and caller.is_domain_admin:
        subtree = select(Domain.id).where(Domain.path.startswith(caller.domain_path, autoescape=True))
        return query.where(public | VMTemplate.domain_id.in_(subtree))
    # executable (and "all" for users): what the caller may deploy from
    return query.where((own | public) & ready)


def _list(ctx: CallContext, p: dict[str, Any], *, iso: bool) -> ListResponse:
    db = ctx.db
    filter_param = "isofilter" if iso else "templatefilter"
    image_filter = p.get(filter_param, "selfexecutable")
    query = select(VMTemplate).where(VMTemplate.removed.is_(None)).order_by(VMTemplate.sort_key, VMTemplate.id)
    query = query.where(VMTemplate.format == FORMAT_ISO) if iso else query.where(VMTemplate.format != FORMAT_ISO)
    if "id" in p:
        query = query.where(VMTemplate.uuid == p["id"])
    if "ids" in p:
        query = query.where(VMTemplate.uuid.in_(p["ids"]))
    if "name" in p:
        query = query.where(VMTemplate.name == p["name"])
    if "keyword" in p:
        pattern = keyword_pattern(p["keyword"])
        query = query.where(VMTemplate.name.ilike(pattern, escape="\\")
                            | VMTemplate.display_text.ilike(pattern, escape="\\"))
    if "zoneid" in p:
        zone_id = filter_row_id(db, Zone, p["zoneid"], "zone", "zoneid")
        query = query.where(VMTemplate.cross_zones.is_(True) | (VMTemplate.zone_id == zone_id))
    if "hypervisor" in p and not iso and hypervisor_type(p["hypervisor"]) is None:
        query = query.where(VMTemplate.id.is_(None))  # every template here is a Hyper-V one
    if "ostypeid" in p:
        query = query.where(VMTemplate.guest_os_id == filter_row_id(db, GuestOS, p["ostypeid"], "OS type", "ostypeid"))
    for param, column in (("bootable", VMTemplate.bootable), ("ispublic", VMTemplate.is_public),
                          ("isready", VMTemplate.ready)):
        if param in p and iso:
            query = query.where(column.is_(p[param]))
    kind = "ISO" if iso else "Template"
    if "tags" in p:
        query = query.where(tag_filter(db, kind, p["tags"], VMTemplate.id))
    query = _filtered(ctx, p, query, image_filter)
    caller = ctx.user
    entity = "iso" if iso else "template"
    listed = paged_list(db, entity, query, p, lambda t: render_template(
        db, t, show_url=caller.is_root_admin or t.account_id == caller.account_id))
    attach_tags(db, kind, listed.items)
    return listed


_LIST_PARAMS = [
    Param("id", "uuid", description="the template ID"),
    Param("ids", "list", collection_type="uuid", description="the IDs of the templates, mutually exclusive with "
          "id", since="4.9"),
    Param("name", description="the template name"),
    Param("zoneid", "uuid", description="list templates by zoneId"),
    Param("ostypeid", "uuid", description="the ID of the OS type that best represents the OS of this template.",
          since="4.19.0"),
    Param("showremoved", "boolean", description="show removed templates as well"),
    TAGS_PARAM,
    *ACCOUNT_SCOPE_PARAMS,
    *PAGING_PARAMS,
]


@api_command(
    "listTemplates", description="List all public, private, and privileged templates.", response="template",
    roles=ALL_ROLES,
    params=[
        Param("templatefilter", required=True, choices=TEMPLATE_FILTERS, description="possible values are "
              "\"featured\", \"self\", \"selfexecutable\",\"sharedexecutable\",\"executable\", and "
              "\"community\". * featured : templates that have been marked as featured and public. * self : "
              "templates that have been registered or created by the calling user. * selfexecutable : same as "
              "self, but only returns templates that can be used to deploy a new VM. * sharedexecutable : "
              "templates ready to be deployed that have been granted to the calling user by another user. * "
              "executable : templates that are owned by the calling user, or public templates, that can be used "
              "to deploy a VM. * community : templates that have been marked as public but not featured. * all "
              ": all templates (only usable by admins)."),
        Param("hypervisor", description="the hypervisor for which to restrict the search"),
        *_LIST_PARAMS,
    ],
)
def list_templates(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    if "id" in p and "ids" in p:
        raise param_error("Either id or ids parameter can be passed, not both")
    return _list(ctx, p, iso=False)


@api_command(
    "listIsos", description="Lists all available ISO files.", response="iso", roles=ALL_ROLES,
    params=[
        Param("isofilter", choices=TEMPLATE_FILTERS, description="possible values are \"featured\", \"self\", "
              "\"selfexecutable\",\"sharedexecutable\",\"executable\", and \"community\". Defaults to "
              "selfexecutable."),
        Param("bootable", "boolean", description="true if the ISO is bootable, false otherwise"),
        Param("ispublic", "boolean", description="true if the ISO is publicly available to all users, false "
              "otherwise."),
        Param("isready", "boolean", description="true if this ISO is ready to be deployed"),
        Param("hypervisor", description="the hypervisor for which to restrict the search"),
        *_LIST_PARAMS,
    ],
)
def list_isos(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    if "id" in p and "ids" in p:
        raise param_error("Either id or ids parameter can be passed, not both")
    return _list(ctx, p, iso=True)


def _find_image(ctx: CallContext, uuid: str, *, iso: bool) -> VMTemplate:
    kind = "ISO" if iso else "template"
    image = find_by_uuid(ctx.db, VMTemplate, uuid, kind)
    if image.is_iso != iso:
        raise param_error(f"Unable to find {kind} with specified id: {uuid}")
    check_access(ctx.db, ctx.user, image, f"{kind} {image.name}")
    return image


def _update(ctx: CallContext, p: dict[str, Any], *, iso: bool) -> VMTemplate:
    db = ctx.db
    image = _find_image(ctx, p["id"], iso=iso)
    if "name" in p and not p["name"].strip():
        raise param_error("Invalid parameter name: the name cannot be blank")
    os_type = find_by_uuid(db, GuestOS, p["ostypeid"], "OS type", "ostypeid") if "ostypeid" in p else None
    if "format" in p and not iso and p["format"] not in TEMPLATE_FORMATS:
        raise param_error(f"Invalid parameter format value={p['format']}: must be one of VHD, VHDX")
    if "name" in p:
        image.name = p["name"].strip()
    if "displaytext" in p:
        image.display_text = p["displaytext"].strip() or image.name
    if os_type is not None:
        image.guest_os_id = os_type.id
    if "sortkey" in p:
        image.sort_key = p["sortkey"]
    for param, attribute in (("bootable", "bootable"), ("passwordenabled", "password_enabled"),
                             ("requireshvm", "requires_hvm"), ("isdynamicallyscalable", "dynamically_scalable"),
                             ("format", "format")):
        if param in p:
            setattr(image, attribute, p[param])
    events.record_event(db, "ISO.UPDATE" if iso else "TEMPLATE.UPDATE",
                        f"Successfully updated {'ISO' if iso else 'template'} {image.name}", ctx.actor,
                        resource_type="Iso" if iso else "Template", resource_uuid=image.uuid,
                        resource_name=image.name)
    return image


_UPDATE_PARAMS = [
    Param("id", "uuid", required=True, description="the ID of the image file"),
    Param("name", description="the name of the image file"),
    Param("displaytext", length=4096, description="the display text of the image"),
    Param("ostypeid", "uuid", description="the ID of the OS type that best represents the OS of this image."),
    Param("bootable", "boolean", description="true if image is bootable, false otherwise"),
    Param("sortkey", "integer", description="sort key of the template, integer"),
    Param("isdynamicallyscalable", "boolean", description="true if template/ISO contains XS/VMWare tools inorder "
          "to support dynamic scaling of VM cpu/memory"),
]


@api_command("updateTemplate", description="Updates attributes of a template.", response="template",
             roles=ALL_ROLES,
             params=[*_UPDATE_PARAMS,
                     Param("format", choices=TEMPLATE_FORMATS, description="the format for the image"),
                     Param("passwordenabled", "boolean", description="true if the image supports the password "
                           "reset feature; default is false"),
                     Param("requireshvm", "boolean", description="true if the template requires HVM, false "
                           "otherwise")])
def update_template(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"template": render_template(ctx.db, _update(ctx, p, iso=False))}


@api_command("updateIso", description="Updates an ISO file.", response="iso", roles=ALL_ROLES,
             params=_UPDATE_PARAMS)
def update_iso(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"iso": render_template(ctx.db, _update(ctx, p, iso=True))}


def _deletable(ctx: CallContext, p: dict[str, Any], *, iso: bool) -> VMTemplate:
    """The image to delete, once the caller may and (unless forced) no live instance uses it."""
    image = _find_image(ctx, p["id"], iso=iso)
    kind = "ISO" if iso else "template"
    column = VMInstance.iso_id if iso else VMInstance.template_id
    users = list(ctx.db.scalars(select(VMInstance.instance_name).where(
        column == image.id, VMInstance.removed.is_(None),
        VMInstance.state.notin_(("Destroyed", "Expunging"))).order_by(VMInstance.id)))
    if users and not p.get("forced"):
        raise param_error(f"Unable to delete {kind} with id: {image.uuid} because VM instances: "
                          f"[{', '.join(users)}] are using it. Use 'forced: true' to delete it anyway.")
    return image


def _prepare_template_delete(ctx: CallContext, p: dict[str, Any]) -> JobTarget:
    return JobTarget("Template", _deletable(ctx, p, iso=False).uuid)


def _prepare_iso_delete(ctx: CallContext, p: dict[str, Any]) -> JobTarget:
    return JobTarget("Iso", _deletable(ctx, p, iso=True).uuid)


def _delete(ctx: CallContext, p: dict[str, Any], *, iso: bool) -> dict[str, Any]:
    db = ctx.db
    image = _deletable(ctx, p, iso=iso)
    kind = "ISO" if iso else "template"
    image.removed = utcnow()
    events.record_event(db, "ISO.DELETE" if iso else "TEMPLATE.DELETE", f"Successfully deleted {kind} "
                        f"{image.name}", ctx.actor, resource_type="Iso" if iso else "Template",
                        resource_uuid=image.uuid, resource_name=image.name)
    return {"success": True}


@api_command(
    "updateTemplatePermissions", description="Updates a template visibility permissions. A public template is "
    "visible to all accounts within the same domain. A private template is visible only to the owner of the "
    "template. A privileged template is a private template with account permissions added. Only accounts "
    "specified under the template permissions are visible to them.", response="success", roles=ALL_ROLES,
    params=[
        Param("id", "uuid", required=True, description="the template ID"),
        Param("ispublic", "boolean", description="true for public template/iso, false for private templates/isos"),
        Param("isfeatured", "boolean", description="true for featured template/iso, false otherwise"),
        Param("isextractable", "boolean", description="true if the template/iso is extractable, false other wise. "
              "Can be set only by root admin"),
        Param("accounts", "list", description="a comma delimited list of accounts within caller's domain "
              "(account permissions are not supported yet)"),
        Param("op", description="permission operator (add, remove, reset); account permissions are not "
              "supported yet"),
    ],
)
def update_template_permissions(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    image = find_by_uuid(db, VMTemplate, p["id"], "template")
    check_access(db, ctx.user, image, f"template {image.name}")
    if "accounts" in p or "op" in p:
        raise param_error("Account permissions (accounts, op) are not supported yet: use ispublic")
    if ("isfeatured" in p or "isextractable" in p) and not ctx.user.is_root_admin:
        raise permission_denied("Only root admins may change isfeatured and isextractable")
    if "ispublic" in p:
        image.is_public = p["ispublic"]
    if "isfeatured" in p:
        image.featured = p["isfeatured"]
    if "isextractable" in p:
        image.extractable = p["isextractable"]
    events.record_event(db, "TEMPLATE.UPDATE", f"Successfully updated the permissions of {image.name}", ctx.actor,
                        resource_type="Iso" if image.is_iso else "Template", resource_uuid=image.uuid,
                        resource_name=image.name)
    return {"success": True}


_DELETE_PARAMS = [
    Param("id", "uuid", required=True, description="the ID of the image"),
    Param("zoneid", "uuid", description="the ID of zone of the image (the image is deleted from every zone)"),
]


@api_command("deleteTemplate", description="Deletes a template from the system. All virtual machines using the "
             "deleted template will not be affected.", response="success", roles=ALL_ROLES, isasync=True,
             prepare=_prepare_template_delete,
             params=[*_DELETE_PARAMS,
                     Param("forced", "boolean", description="Force delete a template.")])
def delete_template(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    return _delete(ctx, p, iso=False)


@api_command("deleteIso", description="Deletes an ISO file.", response="success", roles=ALL_ROLES, isasync=True,
             prepare=_prepare_iso_delete, params=_DELETE_PARAMS)
def delete_iso(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    return _delete(ctx, p, iso=True)
