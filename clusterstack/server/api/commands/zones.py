"""Zones: createZone, listZones, updateZone, deleteZone (CloudStack's ConfigurationManager semantics)."""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clusterstack.server import events
from clusterstack.server.api.access import can_access_domain
from clusterstack.server.api.commands.capacity import Scope, capacity_list
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import in_use, param_error
from clusterstack.server.api.listing import ListResponse, paged_list
from clusterstack.server.api.lookup import find_by_uuid, keyword_pattern, matches_value
from clusterstack.server.api.registry import ADMIN, ALL_ROLES, PAGING_PARAMS, Param, api_command, define_entity
from clusterstack.server.db.base import new_uuid, utcnow
from clusterstack.server.db.models.identity import Domain
from clusterstack.server.db.models.infrastructure import ALLOCATION_STATES, NETWORK_TYPES, Zone
from clusterstack.server.db.references import describe_usages, usages

define_entity("zone", [
    ("id", "string", "Zone id"),
    ("name", "string", "Zone name"),
    ("description", "string", "Zone description"),
    ("dns1", "string", "the first DNS for the Zone"),
    ("dns2", "string", "the second DNS for the Zone"),
    ("ip6dns1", "string", "the first IPv6 DNS for the Zone"),
    ("ip6dns2", "string", "the second IPv6 DNS for the Zone"),
    ("internaldns1", "string", "the first internal DNS for the Zone"),
    ("internaldns2", "string", "the second internal DNS for the Zone"),
    ("guestcidraddress", "string", "the guest CIDR address for the Zone"),
    ("networktype", "string", "the network type of the zone; can be Basic or Advanced"),
    ("securitygroupsenabled", "boolean", "true if security groups support is enabled, false otherwise"),
    ("allocationstate", "string", "the allocation state of the cluster"),
    ("zonetoken", "string", "Zone Token"),
    ("dhcpprovider", "string", "the dhcp Provider for the Zone"),
    ("localstorageenabled", "boolean", "true if local storage offering enabled, false otherwise"),
    ("domain", "string", "Network domain name for the networks in the zone"),
    ("domainid", "string", "the UUID of the containing domain, null for public zones"),
    ("domainname", "string", "the name of the containing domain, null for public zones"),
    ("type", "string", "The type of the zone; can be Core or Edge"),
    ("tags", "list", "the list of resource tags associated with zone."),
    ("hasannotations", "boolean", "true if the entity/resource has annotations"),
    ("capacity", "list", "the capacity of the Zone"),
])

_DNS_FIELDS = (("dns1", "DNS1", 4), ("dns2", "DNS2", 4), ("internaldns1", "internal DNS1", 4),
               ("internaldns2", "internal DNS2", 4), ("ip6dns1", "IPv6 DNS1", 6), ("ip6dns2", "IPv6 DNS2", 6))
_COLUMN_OF = {"dns1": "dns1", "dns2": "dns2", "internaldns1": "internal_dns1", "internaldns2": "internal_dns2",
              "ip6dns1": "ip6_dns1", "ip6dns2": "ip6_dns2"}


def render_zone(db: Session, zone: Zone, *, admin: bool, show_capacities: bool = False) -> dict[str, Any]:
    domain = db.get(Domain, zone.domain_id) if zone.domain_id is not None else None
    out: dict[str, Any] = {
        "id": zone.uuid,
        "name": zone.name,
        "description": zone.description,
        "dns1": zone.dns1,
        "dns2": zone.dns2,
        "ip6dns1": zone.ip6_dns1,
        "ip6dns2": zone.ip6_dns2,
        "networktype": zone.network_type,
        "securitygroupsenabled": zone.security_group_enabled,
        "allocationstate": zone.allocation_state,
        "dhcpprovider": "VirtualRouter",
        "localstorageenabled": zone.local_storage_enabled,
        "domain": zone.network_domain,
        "domainid": domain.uuid if domain else None,
        "domainname": domain.name if domain else None,
        "type": "Core",
        "tags": [],
        "hasannotations": False,
    }
    if admin:
        out.update(internaldns1=zone.internal_dns1, internaldns2=zone.internal_dns2,
                   guestcidraddress=zone.guest_cidr, zonetoken=zone.zone_token)
    if show_capacities:
        out["capacity"] = capacity_list(db, Scope(zone))
    return out


def _check_ip(value: str, label: str, version: int) -> None:
    try:
        ok = ipaddress.ip_address(value.strip()).version == version
    except ValueError:
        ok = False
    if not ok:
        raise param_error(f"Please enter a valid {'IPv6' if version == 6 else 'IP'} address for {label}")


def _check_cidr(value: str) -> None:
    try:
        ipaddress.IPv4Network(value.strip(), strict=False)
    except ValueError:
        raise param_error(f"Please enter a valid guest cidr: {value}") from None
    if "/" not in value:
        raise param_error(f"Please enter a valid guest cidr: {value}")


def _check_unique_name(db: Session, name: str, except_id: int | None = None) -> None:
    query = select(Zone.id).where(func.lower(Zone.name) == name.lower(), Zone.removed.is_(None))
    if except_id is not None:
        query = query.where(Zone.id != except_id)
    if db.scalar(query) is not None:
        raise param_error("A zone with that name already exists. Please specify a unique zone name.")


def _check_fields(p: dict[str, Any]) -> None:
    for key, label, version in _DNS_FIELDS:
        if p.get(key):
            _check_ip(p[key], label, version)
    if p.get("guestcidraddress"):
        _check_cidr(p["guestcidraddress"])
    if "name" in p and not p["name"].strip():
        raise param_error("Invalid parameter name: a zone name cannot be blank")


_ZONE_FIELD_PARAMS = [
    Param("dns2", description="the second DNS for the Zone"),
    Param("internaldns2", description="the second internal DNS for the Zone"),
    Param("ip6dns1", description="the first DNS for IPv6 network in the Zone"),
    Param("ip6dns2", description="the second DNS for IPv6 network in the Zone"),
    Param("guestcidraddress", description="the guest CIDR address for the Zone"),
    Param("domain", description="Network domain name for the networks in the zone"),
    Param("allocationstate", description="Allocation state of this Zone for allocation of new resources",
          choices=ALLOCATION_STATES),
    Param("localstorageenabled", "boolean", description="true if local storage offering enabled, false otherwise"),
]


@api_command(
    "createZone", description="Creates a Zone.", response="zone", roles=ADMIN,
    params=[
        Param("name", required=True, description="the name of the Zone"),
        Param("networktype", required=True, description="network type of the zone, can be Basic or Advanced",
              choices=NETWORK_TYPES),
        Param("dns1", required=True, description="the first DNS for the Zone"),
        Param("internaldns1", required=True, description="the first internal DNS for the Zone"),
        *_ZONE_FIELD_PARAMS,
        Param("domainid", "uuid", description="the ID of the containing domain, null for public zones"),
        Param("securitygroupenabled", "boolean", description="true if network is security group enabled, "
              "false otherwise"),
        Param("isedge", "boolean", description="true if the zone is an edge zone, false otherwise", since="4.18.0"),
    ],
)
def create_zone(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    _check_fields(p)
    name = p["name"].strip()
    _check_unique_name(db, name)
    if p.get("isedge"):
        raise param_error("Edge zones are not supported: a Hyper-V failover cluster needs a Core zone")
    domain = find_by_uuid(db, Domain, p["domainid"], "domain", "domainid") if "domainid" in p else None
    zone = Zone(
        uuid=new_uuid(),
        name=name,
        network_type=p["networktype"],
        allocation_state=p.get("allocationstate", "Disabled"),
        dns1=p["dns1"].strip(),
        dns2=p.get("dns2") or None,
        ip6_dns1=p.get("ip6dns1") or None,
        ip6_dns2=p.get("ip6dns2") or None,
        internal_dns1=p["internaldns1"].strip(),
        internal_dns2=p.get("internaldns2") or None,
        guest_cidr=p.get("guestcidraddress") or None,
        network_domain=p.get("domain") or None,
        domain_id=domain.id if domain else None,
        local_storage_enabled=bool(p.get("localstorageenabled", False)),
        security_group_enabled=bool(p.get("securitygroupenabled", False)),
        zone_token=secrets.token_hex(16),
    )
    db.add(zone)
    db.flush()
    events.record_event(db, "ZONE.CREATE", f"Successfully created zone {zone.name}", ctx.actor,
                        resource_type="Zone", resource_uuid=zone.uuid, resource_name=zone.name)
    return {"zone": render_zone(db, zone, admin=True)}


@api_command(
    "listZones", description="Lists zones", response="zone", roles=ALL_ROLES,
    params=[
        Param("id", "uuid", description="the ID of the zone"),
        Param("ids", "list", collection_type="uuid", description="the IDs of the zones, mutually exclusive with id",
              since="4.19.0"),
        Param("name", description="the name of the zone"),
        Param("available", "boolean", description="true if you want to retrieve all available Zones. False if you "
              "only want to return the Zones from which you have at least one VM. Default is false."),
        Param("domainid", "uuid", description="the ID of the domain associated with the zone"),
        Param("networktype", description="the network type of the zone that the virtual machine belongs to"),
        Param("showcapacities", "boolean", description="flag to display the capacity of the zones"),
        Param("tags", "map", description="List zones by resource tags (key/value pairs)"),
        *PAGING_PARAMS,
    ],
)
def list_zones(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    db = ctx.db
    caller = ctx.user
    admin = caller.is_root_admin
    if "id" in p and "ids" in p:
        raise param_error("Either id or ids parameter can be passed, not both")
    query = select(Zone).where(Zone.removed.is_(None)).order_by(Zone.sort_key, Zone.id)
    if "id" in p:
        query = query.where(Zone.uuid == p["id"])
    if "ids" in p:
        query = query.where(Zone.uuid.in_(p["ids"]))
    if "name" in p:
        query = query.where(Zone.name == p["name"])
    if "networktype" in p:
        query = query.where(matches_value(Zone.network_type, p["networktype"], NETWORK_TYPES))
    if "keyword" in p:
        pattern = keyword_pattern(p["keyword"])
        query = query.where(Zone.name.ilike(pattern, escape="\\") | Zone.description.ilike(pattern, escape="\\"))
    if "domainid" in p:
        domain = find_by_uuid(db, Domain, p["domainid"], "domain", "domainid")
        query = query.where(Zone.domain_id == domain.id)
    if "tags" in p:
        query = query.where(Zone.id.is_(None))  # zones carry no resource tags yet, so no zone matches
    if not admin:
        # users see enabled zones that are public or dedicated to a domain they can reach
        query = query.where(Zone.allocation_state == "Enabled")
        visible = [d.id for d in db.scalars(select(Domain).where(Domain.removed.is_(None)))
                   if caller.domain_path.startswith(d.path) or can_access_domain(caller, d.path)]
        query = query.where(Zone.domain_id.is_(None) | Zone.domain_id.in_(visible))
    show = bool(p.get("showcapacities")) and admin
    return paged_list(db, "zone", query, p, lambda z: render_zone(db, z, admin=admin, show_capacities=show))


@api_command(
    "updateZone", description="Updates a Zone.", response="zone", roles=ADMIN,
    params=[
        Param("id", "uuid", required=True, description="the ID of the Zone"),
        Param("name", description="the name of the Zone"),
        Param("dns1", description="the first DNS for the Zone"),
        Param("internaldns1", description="the first internal DNS for the Zone"),
        *_ZONE_FIELD_PARAMS,
        Param("ispublic", "boolean", description="updates a private zone to public if set, but not vice-versa"),
        Param("sortkey", "integer", description="sort key of the zone, integer"),
        Param("dhcpprovider", description="the dhcp Provider for the Zone"),
        Param("dnssearchorder", "list", description="the dns search order list"),
        Param("details", "map", description="the details for the Zone"),
    ],
)
def update_zone(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    zone = find_by_uuid(db, Zone, p["id"], "zone")
    _check_fields(p)
    if "name" in p:
        _check_unique_name(db, p["name"].strip(), zone.id)
    for key in ("dns1", "internaldns1"):
        if key in p and not p[key].strip():
            raise param_error(f"Invalid parameter {key}: the zone's {key} cannot be blank")
    if "dhcpprovider" in p and p["dhcpprovider"] != "VirtualRouter":
        raise param_error(f"Invalid parameter dhcpprovider value={p['dhcpprovider']}: only VirtualRouter is "
                          "supported")
    if "name" in p:
        zone.name = p["name"].strip()
    for key, column in _COLUMN_OF.items():
        if key in p:
            value = p[key].strip()
            setattr(zone, column, value if key in ("dns1", "internaldns1") else value or None)
    if "guestcidraddress" in p:
        zone.guest_cidr = p["guestcidraddress"] or None
    if "domain" in p:
        zone.network_domain = p["domain"] or None
    if "allocationstate" in p:
        zone.allocation_state = p["allocationstate"]
    if "localstorageenabled" in p:
        zone.local_storage_enabled = p["localstorageenabled"]
    if p.get("ispublic"):
        zone.domain_id = None
    if "sortkey" in p:
        zone.sort_key = p["sortkey"]
    events.record_event(db, "ZONE.EDIT", f"Successfully updated zone {zone.name}", ctx.actor,
                        resource_type="Zone", resource_uuid=zone.uuid, resource_name=zone.name)
    return {"zone": render_zone(db, zone, admin=True)}


@api_command(
    "deleteZone", description="Deletes a Zone.", response="success", roles=ADMIN,
    params=[Param("id", "uuid", required=True, description="the ID of the Zone")],
)
def delete_zone(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    zone = find_by_uuid(db, Zone, p["id"], "zone")
    found = usages(db, Zone.__table__, zone.id)  # type: ignore[arg-type]
    if found:
        raise in_use(f"The zone {zone.name} is not deletable because there are {describe_usages(found)} in it")
    zone.removed = utcnow()
    events.record_event(db, "ZONE.DELETE", f"Successfully deleted zone {zone.name}", ctx.actor,
                        resource_type="Zone", resource_uuid=zone.uuid, resource_name=zone.name)
    return {"success": True}
