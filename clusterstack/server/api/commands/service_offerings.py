"""Compute offerings: createServiceOffering, listServiceOfferings, updateServiceOffering, deleteServiceOffering.

An offering fixes an instance's cores, MHz and memory, and whether the instance is HA (`offerha`): on a
Hyper-V failover cluster an HA instance's role gets the HA priority, any other one priority 0 (No Auto Start).
Also holds who may see an offering, shared with disk offerings.
"""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from clusterstack.server import events
from clusterstack.server.api.access import can_access_domain
from clusterstack.server.api.caller import Caller
from clusterstack.server.api.commands.offering_io import IO_PARAMS, IO_RESPONSE_FIELDS, check_io, io_columns, render_io
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import param_error
from clusterstack.server.api.listing import ListResponse, paged_list
from clusterstack.server.api.lookup import filter_row_id, find_by_uuid, keyword_pattern
from clusterstack.server.api.params import needed_here
from clusterstack.server.api.registry import ADMIN, ALL_ROLES, PAGING_PARAMS, Param, api_command, define_entity
from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.catalog import PROVISIONING_TYPES, STORAGE_TYPES, SYSTEM_VM_TYPES, ServiceOffering
from clusterstack.server.db.models.identity import Domain
from clusterstack.server.db.models.infrastructure import Zone
from clusterstack.server.db.models.instances import VMInstance

INT_MAX = 2**31 - 1
MIN_MEMORY_MB = 32

define_entity("serviceoffering", [
    ("id", "string", "the id of the service offering"),
    ("name", "string", "the name of the service offering"),
    ("displaytext", "string", "an alternate display text of the service offering."),
    ("cpunumber", "integer", "the number of CPU"),
    ("cpuspeed", "integer", "the clock rate CPU speed in Mhz"),
    ("memory", "integer", "the memory in MB"),
    ("created", "date", "the date this service offering was created"),
    ("storagetype", "string", "the storage type for this service offering"),
    ("provisioningtype", "string", "provisioning type used to create volumes. Valid values are thin, sparse, "
     "fat."),
    ("offerha", "boolean", "the ha support in the service offering"),
    ("limitcpuuse", "boolean", "restrict the CPU usage to committed service offering"),
    ("isvolatile", "boolean", "true if the vm needs to be volatile, i.e., on every reboot of vm from API root "
     "disk is discarded and creates a new root disk"),
    ("storagetags", "string", "the tags for the service offering"),
    ("hosttags", "string", "the host tag for the service offering"),
    ("domainid", "string", "the domain ID(s) this disk offering belongs to. Ignore this information as it is "
     "not currently applicable."),
    ("domain", "string", "Domain name for the offering"),
    ("zoneid", "string", "the zone ID(s) this disk offering belongs to. Ignore this information as it is not "
     "currently applicable."),
    ("zone", "string", "the zone name(s) this disk offering belongs to. Ignore this information as it is not "
     "currently applicable."),
    ("issystem", "boolean", "is this a system vm offering"),
    ("defaultuse", "boolean", "is this a  default system vm offering"),
    ("networkrate", "integer", "data transfer rate in megabits per second allowed."),
    ("iscustomized", "boolean", "is true if the offering is customized"),
    ("iscustomizediops", "boolean", "true if disk offering uses custom iops, false otherwise"),
    ("dynamicscalingenabled", "boolean", "true if virtual machine needs to be dynamically scalable of "
     "cpu or memory"),
    ("state", "string", "state of the service offering"),
    ("systemvmtype", "string", "is this a the systemvm type for system vm offering"),
    ("miniops", "long", "the min iops of the disk offering"),
    ("maxiops", "long", "the max iops of the disk offering"),
    ("hypervisorsnapshotreserve", "integer", "Hypervisor snapshot reserve space as a percent of a volume (for "
     "managed storage using Xen or VMware)"),
    *IO_RESPONSE_FIELDS,
    ("cacheMode", "string", "the cache mode to use for this disk offering. none, writeback, writethrough or "
     "hypervisor_default"),
    ("encryptroot", "boolean", "true if virtual machine root disk will be encrypted on storage"),
    ("hasannotations", "boolean", "true if the entity/resource has annotations"),
])


def visible_offerings(db: Session, caller: Caller, query: Select[Any], model: Any) -> Select[Any]:
    """Root admins see every offering; others public ones (no domain), those of their own domain and its
    ancestors and, for domain admins, those of their subtree."""
    if caller.is_root_admin:
        return query
    visible = [d.id for d in db.scalars(select(Domain).where(Domain.removed.is_(None)))
               if caller.domain_path.startswith(d.path) or can_access_domain(caller, d.path)]
    return query.where(model.domain_id.is_(None) | model.domain_id.in_(visible))


def _one_of(params: dict[str, Any], name: str, what: str) -> str | None:
    """The one id of a list parameter (CloudStack takes several; an offering here belongs to one domain or zone)."""
    ids = params.get(name) or []
    if len(ids) > 1:
        raise param_error(f"Invalid parameter {name}: an offering belongs to one {what} here (or to all when "
                          f"{name} is not given); give one id, not {len(ids)}")
    return ids[0] if ids else None


def offering_domain(db: Session, params: dict[str, Any]) -> Domain | None:
    domain_id = _one_of(params, "domainid", "domain")
    return find_by_uuid(db, Domain, domain_id, "domain", "domainid") if domain_id else None


def offering_zone(db: Session, params: dict[str, Any]) -> Zone | None:
    zone_id = _one_of(params, "zoneid", "zone")
    return find_by_uuid(db, Zone, zone_id, "zone", "zoneid") if zone_id else None


def filter_domain_id(db: Session, params: dict[str, Any]) -> int | None:
    """The domainid filter of an offering listing: a removed domain's (or "-1") matches nothing, as in CloudStack."""
    return filter_row_id(db, Domain, params["domainid"], "domain", "domainid") if "domainid" in params else None


def filter_zone_id(db: Session, params: dict[str, Any]) -> int | None:
    return filter_row_id(db, Zone, params["zoneid"], "zone", "zoneid") if "zoneid" in params else None


def owner_fields(db: Session, domain_id: int | None, zone_id: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    domain = db.get(Domain, domain_id) if domain_id is not None else None
    if domain is not None:
        out.update(domainid=domain.uuid, domain=domain.name)
    zone = db.get(Zone, zone_id) if zone_id is not None else None
    if zone is not None:
        out.update(zoneid=zone.uuid, zone=zone.name)
    return out


def tag_text(raw: str | None) -> str | None:
    """A comma-separated tag list as stored: blanks dropped, None when empty."""
    if raw is None:
        return None
    tags = [t.strip() for t in raw.split(",") if t.strip()]
    return ",".join(tags) or None


def render_service_offering(db: Session, offering: ServiceOffering) -> dict[str, Any]:
    return {
        "id": offering.uuid,
        "name": offering.name,
        "displaytext": offering.display_text,
        "cpunumber": offering.cpu,
        "cpuspeed": offering.speed,
        "memory": offering.ram_size,
        "created": offering.created,
        "storagetype": offering.storage_type,
        "provisioningtype": offering.provisioning_type,
        "offerha": offering.offer_ha,
        "limitcpuuse": offering.limit_cpu_use,
        "isvolatile": offering.is_volatile,
        "storagetags": offering.tags,
        "hosttags": offering.host_tag,
        **owner_fields(db, offering.domain_id, offering.zone_id),
        "issystem": offering.system_use,
        "defaultuse": False,
        "networkrate": offering.network_rate,
        "iscustomized": False,
        "iscustomizediops": offering.customized_iops,
        "dynamicscalingenabled": False,
        "state": offering.state,
        "systemvmtype": offering.system_vm_type,
        "miniops": offering.min_iops,
        "maxiops": offering.max_iops,
        **render_io(offering),
        "encryptroot": offering.encrypt_root,
        "hasannotations": False,
    }


def _check_sizes(name: str, p: dict[str, Any]) -> None:
    why = ("an offering without them is a custom (customized) compute offering, which clusterstack does not run "
           "yet: give cpunumber, cpuspeed and memory")
    for param in ("cpunumber", "cpuspeed", "memory"):
        needed_here("createServiceOffering", p, param, why)
    if not 1 <= p["cpunumber"] <= INT_MAX:
        raise param_error(f"Failed to create service offering {name}: specify the cpu number (cpunumber) "
                          f"value between 1 and {INT_MAX}")
    if not 1 <= p["cpuspeed"] <= INT_MAX:
        raise param_error(f"Failed to create service offering {name}: specify the cpu speed (cpuspeed) "
                          f"value between 1 and {INT_MAX}")
    if not MIN_MEMORY_MB <= p["memory"] <= INT_MAX:
        raise param_error(f"Failed to create service offering {name}: specify the memory (memory) value between "
                          f"{MIN_MEMORY_MB} and {INT_MAX} MB")


def _system_vm_type(p: dict[str, Any]) -> str | None:
    """issystem=true offerings are for CloudStack's system VMs (routers, console proxy, secondary storage VM):
    accepted and listed as CloudStack lists them, though clusterstack runs no system VM; the type defaults to
    domainrouter (ConfigurationManagerImpl.createServiceOffering)."""
    given = p.get("systemvmtype")
    if not p.get("issystem"):
        if given is not None:
            raise param_error("Invalid parameter systemvmtype: it names the system VM type of a system offering "
                              "(issystem=true)")
        return None
    if given is None:
        return "domainrouter"
    if given.lower() not in SYSTEM_VM_TYPES:
        raise param_error("Invalid systemVmType. Supported types are: DomainRouter, ConsoleProxy, "
                          "SecondaryStorageVm")
    return given.lower()


@api_command(
    "createServiceOffering", description="Creates a service offering.", response="serviceoffering", roles=ADMIN,
    params=[
        Param("name", required=True, description="the name of the service offering"),
        Param("displaytext", description="The display text of the service offering, defaults to 'name'."),
        Param("cpunumber", "integer", description="the CPU number of the service offering (required here: "
              "custom offerings are not supported)"),
        Param("cpuspeed", "integer", description="the CPU speed of the service offering in MHz (required here)."),
        Param("memory", "integer", description="the total memory of the service offering in MB (required here)"),
        Param("storagetype", choices=STORAGE_TYPES, description="the storage type of the service offering. "
              "Values are local and shared."),
        Param("provisioningtype", choices=PROVISIONING_TYPES, description="provisioning type used to create "
              "volumes. Valid values are thin, sparse, fat."),
        Param("offerha", "boolean", description="the HA for the service offering"),
        Param("limitcpuuse", "boolean", description="restrict the CPU usage to committed service offering"),
        Param("isvolatile", "boolean", description="true if the virtual machine needs to be volatile so that "
              "on every reboot of VM, original root disk is dettached then destroyed and a fresh root disk is "
              "created and attached to VM"),
        Param("tags", length=4096, description="the tags for this service offering."),
        Param("hosttags", length=4096, description="the host tag for this service offering."),
        Param("networkrate", "integer", minimum=0, description="data transfer rate in megabits per second "
              "allowed. Supported only for non-System offering and system offerings having \"domainrouter\" "
              "systemvmtype"),
        Param("domainid", "list", collection_type="uuid",
              description="the ID of the containing domain (one), null for public offerings"),
        Param("zoneid", "list", collection_type="uuid",
              description="the ID of the containing zone (one), null for all zones"),
        Param("issystem", "boolean", description="is this a system vm offering"),
        Param("systemvmtype", description="the system VM type. Possible types are \"domainrouter\", "
              "\"consoleproxy\" and \"secondarystoragevm\"."),
        Param("encryptroot", "boolean", description="VMs using this offering require root volume encryption",
              since="4.18"),
        Param("customizediops", "boolean", description="whether compute offering iops is custom or not",
              since="4.4"),
        Param("miniops", "long", minimum=0, description="min iops of the compute offering", since="4.4"),
        Param("maxiops", "long", minimum=0, description="max iops of the compute offering", since="4.4"),
        *IO_PARAMS,
    ],
)
def create_service_offering(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    name = p["name"].strip()
    if not name:
        raise param_error("Failed to create service offering: the name cannot be blank")
    _check_sizes(name, p)
    system_vm_type = _system_vm_type(p)
    if p.get("customizediops") and ("miniops" in p or "maxiops" in p):
        raise param_error("Min and Max IOPS should not be specified for a compute offering with customized IOPS")
    if "miniops" in p and "maxiops" in p and p["miniops"] > p["maxiops"]:
        raise param_error("The 'Min IOPS' parameter must be less than or equal to the 'Max IOPS' parameter.")
    check_io(p)
    domain = offering_domain(db, p)
    zone = offering_zone(db, p)
    offering = ServiceOffering(
        name=name,
        display_text=(p.get("displaytext") or "").strip() or name,
        cpu=p["cpunumber"],
        speed=p["cpuspeed"],
        ram_size=p["memory"],
        storage_type=p.get("storagetype", "shared"),
        provisioning_type=p.get("provisioningtype", "thin"),
        offer_ha=bool(p.get("offerha", False)),
        limit_cpu_use=bool(p.get("limitcpuuse", False)),
        is_volatile=bool(p.get("isvolatile", False)),
        tags=tag_text(p.get("tags")),
        host_tag=tag_text(p.get("hosttags")),
        network_rate=p.get("networkrate"),
        domain_id=domain.id if domain else None,
        zone_id=zone.id if zone else None,
        system_use=bool(p.get("issystem", False)),
        system_vm_type=system_vm_type,
        encrypt_root=bool(p.get("encryptroot", False)),
        customized_iops=bool(p.get("customizediops", False)),
        min_iops=p.get("miniops"),
        max_iops=p.get("maxiops"),
        **io_columns(p),
    )
    db.add(offering)
    db.flush()
    events.record_event(db, "SERVICE.OFFERING.CREATE", f"Successfully created service offering {name}",
                        ctx.actor, resource_type="ServiceOffering", resource_uuid=offering.uuid,
                        resource_name=name)
    return {"serviceoffering": render_service_offering(db, offering)}


@api_command(
    "listServiceOfferings", description="Lists all available service offerings.", response="serviceoffering",
    roles=ALL_ROLES,
    params=[
        Param("id", "uuid", description="ID of the service offering"),
        Param("name", description="name of the service offering"),
        Param("domainid", "uuid", description="the ID of the domain associated with the service offering"),
        Param("zoneid", "uuid", description="id of zone service offering is associated with"),
        Param("isrecursive", "boolean", description="defaults to false, but if true, lists all resources from "
              "the parent specified by the domainId till leaves."),
        Param("issystem", "boolean", description="is this a system vm offering"),
        Param("systemvmtype", description="the system VM type. Possible types are \"consoleproxy\", "
              "\"secondarystoragevm\" or \"domainrouter\"."),
        Param("encryptroot", "boolean", description="listed offerings support root disk encryption",
              since="4.18"),
        Param("virtualmachineid", "uuid", description="the ID of the virtual machine. Pass this in if you want "
              "to see the available service offering that a virtual machine can be changed to."),
        Param("cpunumber", "integer", description="the CPU number that listed offerings must support"),
        Param("cpuspeed", "integer", description="the CPU speed that listed offerings must support"),
        Param("memory", "integer", description="the RAM memory that listed offering must support"),
        Param("state", choices=("Active", "Inactive", "all"), description="Filter by state of the service "
              "offering. Defaults to 'Active'. If set to 'all' shows both Active & Inactive offerings."),
        Param("listall", "boolean", description="If set to true - list resources that the caller is "
              "authorized to see."),
        *PAGING_PARAMS,
    ],
)
def list_service_offerings(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    db = ctx.db
    query = select(ServiceOffering).where(ServiceOffering.removed.is_(None)).order_by(
        ServiceOffering.sort_key, ServiceOffering.id)
    if "id" in p:
        query = query.where(ServiceOffering.uuid == p["id"])
    if "name" in p:
        query = query.where(ServiceOffering.name == p["name"])
    if "keyword" in p:
        pattern = keyword_pattern(p["keyword"])
        query = query.where(ServiceOffering.name.ilike(pattern, escape="\\")
                            | ServiceOffering.display_text.ilike(pattern, escape="\\"))
    # as CloudStack: system offerings only with issystem=true, and then only they
    query = query.where(ServiceOffering.system_use.is_(bool(p.get("issystem"))))
    if "systemvmtype" in p:
        query = query.where(ServiceOffering.system_vm_type == p["systemvmtype"].lower())
    if "encryptroot" in p:
        query = query.where(ServiceOffering.encrypt_root.is_(p["encryptroot"]))
    domain_id = filter_domain_id(db, p)
    if domain_id is not None:
        query = query.where(ServiceOffering.domain_id == domain_id)
    zone_id = filter_zone_id(db, p)
    if zone_id is not None:
        query = query.where(ServiceOffering.zone_id.is_(None) | (ServiceOffering.zone_id == zone_id))
    if "virtualmachineid" in p:
        vm = db.get(VMInstance, filter_row_id(db, VMInstance, p["virtualmachineid"], "virtual machine",
                                              "virtualmachineid"))
        if vm is not None:
            query = query.where(ServiceOffering.id != vm.service_offering_id)
    if "cpunumber" in p:
        query = query.where(ServiceOffering.cpu >= p["cpunumber"])
    if "cpuspeed" in p:
        query = query.where(ServiceOffering.speed >= p["cpuspeed"])
    if "memory" in p:
        query = query.where(ServiceOffering.ram_size >= p["memory"])
    state = p.get("state", "Active")
    if state != "all":
        query = query.where(ServiceOffering.state == state)
    query = visible_offerings(db, ctx.user, query, ServiceOffering)
    return paged_list(db, "serviceoffering", query, p, lambda o: render_service_offering(db, o))


@api_command(
    "updateServiceOffering", description="Updates a service offering.", response="serviceoffering", roles=ADMIN,
    params=[
        Param("id", "uuid", required=True, description="the ID of the service offering to be updated"),
        Param("name", description="the name of the service offering to be updated"),
        Param("displaytext", description="the display text of the service offering to be updated"),
        Param("sortkey", "integer", description="sort key of the service offering, integer"),
        Param("hosttags", length=4096, description="comma-separated list of host tags for the service offering, "
              "tags should match with existing storage pool tags"),
        Param("storagetags", length=4096, description="comma-separated list of tags for the service offering, "
              "tags should match with existing storage pool tags"),
        Param("domainid", description="the ID of the containing domain(s) as comma separated string, public "
              "for public offerings"),
        Param("zoneid", description="the ID of the containing zone(s) as comma separated string, all for all "
              "zones offerings"),
    ],
)
def update_service_offering(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    offering = find_by_uuid(db, ServiceOffering, p["id"], "service offering")
    if "name" in p and not p["name"].strip():
        raise param_error("Invalid parameter name: a service offering name cannot be blank")
    domain_id = single_owner(db, p, "domainid", "public", Domain, "domain")
    zone_id = single_owner(db, p, "zoneid", "all", Zone, "zone")
    if "name" in p:
        offering.name = p["name"].strip()
    if "displaytext" in p:
        offering.display_text = p["displaytext"].strip() or offering.name
    if "sortkey" in p:
        offering.sort_key = p["sortkey"]
    if "hosttags" in p:
        offering.host_tag = tag_text(p["hosttags"])
    if "storagetags" in p:
        offering.tags = tag_text(p["storagetags"])
    if domain_id is not False:
        offering.domain_id = domain_id
    if zone_id is not False:
        offering.zone_id = zone_id
    events.record_event(db, "SERVICE.OFFERING.EDIT", f"Successfully updated service offering {offering.name}",
                        ctx.actor, resource_type="ServiceOffering", resource_uuid=offering.uuid,
                        resource_name=offering.name)
    return {"serviceoffering": render_service_offering(db, offering)}


def single_owner(db: Session, p: dict[str, Any], param: str, everyone: str, model: Any,
                  entity: str) -> int | bool | None:
    """updateServiceOffering/updateDiskOffering's domainid/zoneid: `public`/`all`, or one UUID.

    Returns False when the parameter is absent, None for everyone, else the row id.
    """
    if param not in p:
        return False
    raw = p[param].strip()
    if raw.lower() == everyone or raw == "":
        return None
    ids = [v.strip() for v in raw.split(",") if v.strip()]
    if len(ids) > 1:
        raise param_error(f"Invalid parameter {param} value={raw}: an offering belongs to one {entity} or to "
                          f"{everyone}")
    try:
        canonical = str(uuidlib.UUID(ids[0]))
    except ValueError:
        raise param_error(f"Invalid parameter {param} value={raw} due to incorrect UUID format, or entity "
                          "does not exist") from None
    return find_by_uuid(db, model, canonical, entity, param).id


@api_command(
    "deleteServiceOffering", description="Deletes a service offering.", response="success", roles=ADMIN,
    params=[Param("id", "uuid", required=True, description="the ID of the service offering")],
)
def delete_service_offering(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    offering = find_by_uuid(db, ServiceOffering, p["id"], "service offering")
    # a soft delete: instances deployed from it keep their offering; no new instance can use it
    offering.removed = utcnow()
    offering.state = "Inactive"
    events.record_event(db, "SERVICE.OFFERING.DELETE", f"Successfully deleted service offering {offering.name}",
                        ctx.actor, resource_type="ServiceOffering", resource_uuid=offering.uuid,
                        resource_name=offering.name)
    return {"success": True}
