"""Disk offerings: createDiskOffering, listDiskOfferings, updateDiskOffering, deleteDiskOffering.

A disk offering sizes the data disks (DATADISK volumes, VHDX files on the CSV) users create: a fixed size in
GB, or `customized` so that createVolume gives the size.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clusterstack.server import events
from clusterstack.server.api.commands.offering_io import IO_PARAMS, IO_RESPONSE_FIELDS, check_io, io_columns, render_io
from clusterstack.server.api.commands.service_offerings import (
    filter_domain_id,
    filter_zone_id,
    offering_domain,
    offering_zone,
    owner_fields,
    single_owner,
    tag_text,
    visible_offerings,
)
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import param_error
from clusterstack.server.api.listing import ListResponse, paged_list
from clusterstack.server.api.lookup import find_by_uuid, keyword_pattern
from clusterstack.server.api.registry import ADMIN, ALL_ROLES, PAGING_PARAMS, Param, api_command, define_entity
from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.catalog import PROVISIONING_TYPES, STORAGE_TYPES, DiskOffering
from clusterstack.server.db.models.identity import Domain
from clusterstack.server.db.models.infrastructure import Zone

GIB = 1024**3

define_entity("diskoffering", [
    ("id", "string", "unique ID of the disk offering"),
    ("name", "string", "the name of the disk offering"),
    ("displaytext", "string", "an alternate display text of the disk offering."),
    ("disksize", "long", "the size of the disk offering in GB"),
    ("created", "date", "the date this disk offering was created"),
    ("iscustomized", "boolean", "true if disk offering uses custom size, false otherwise"),
    ("iscustomizediops", "boolean", "true if disk offering uses custom iops, false otherwise"),
    ("miniops", "long", "the min iops of the disk offering"),
    ("maxiops", "long", "the max iops of the disk offering"),
    ("tags", "string", "the tags for the disk offering"),
    ("storagetype", "string", "the storage type for this disk offering"),
    ("provisioningtype", "string", "provisioning type used to create volumes. Valid values are thin, sparse, "
     "fat."),
    ("displayoffering", "boolean", "whether to display the offering to the end user or not."),
    ("domainid", "string", "the domain ID(s) this disk offering belongs to."),
    ("domain", "string", "the domain name(s) this disk offering belongs to."),
    ("zoneid", "string", "the zone ID(s) this disk offering belongs to."),
    ("zone", "string", "the zone name(s) this disk offering belongs to."),
    ("state", "string", "state of the disk offering"),
    ("hypervisorsnapshotreserve", "integer", "Hypervisor snapshot reserve space as a percent of a volume (for "
     "managed storage using Xen or VMware)"),
    *IO_RESPONSE_FIELDS,
    ("cacheMode", "string", "the cache mode to use for this disk offering. none, writeback, writethrough or "
     "hypervisor_default"),
    ("encrypt", "boolean", "Whether disks using this offering will be encrypted on primary storage"),
    ("hasannotations", "boolean", "true if the entity/resource has annotations"),
])


def render_disk_offering(db: Session, offering: DiskOffering) -> dict[str, Any]:
    return {
        "id": offering.uuid,
        "name": offering.name,
        "displaytext": offering.display_text,
        "disksize": offering.disk_size // GIB,
        "created": offering.created,
        "iscustomized": offering.customized,
        "iscustomizediops": offering.customized_iops,
        "miniops": offering.min_iops,
        "maxiops": offering.max_iops,
        "tags": offering.tags,
        "storagetype": offering.storage_type,
        "provisioningtype": offering.provisioning_type,
        "displayoffering": offering.display_offering,
        **owner_fields(db, offering.domain_id, offering.zone_id),
        "state": offering.state,
        **render_io(offering),
        "encrypt": offering.encrypt,
        "hasannotations": False,
    }


@api_command(
    "createDiskOffering", description="Creates a disk offering.", response="diskoffering", roles=ADMIN,
    params=[
        Param("name", required=True, description="name of the disk offering"),
        Param("displaytext", description="An alternate display text of the disk offering, defaults to 'name'."),
        Param("disksize", "long", description="size of the disk offering in GB (1GB = 1,073,741,824 bytes)"),
        Param("customized", "boolean", description="whether disk offering size is custom or not"),
        Param("tags", length=4096, description="tags for the disk offering"),
        Param("storagetype", choices=STORAGE_TYPES, description="the storage type of the disk offering. Values "
              "are local and shared."),
        Param("provisioningtype", choices=PROVISIONING_TYPES, description="provisioning type used to create "
              "volumes. Valid values are thin, sparse, fat."),
        Param("customizediops", "boolean", description="whether disk offering iops is custom or not"),
        Param("miniops", "long", minimum=0, description="min iops of the disk offering"),
        Param("maxiops", "long", minimum=0, description="max iops of the disk offering"),
        Param("displayoffering", "boolean", description="an optional field, whether to display the offering to "
              "the end user or not."),
        Param("domainid", "list", collection_type="uuid",
              description="the ID of the containing domain (one), null for public offerings"),
        Param("zoneid", "list", collection_type="uuid",
              description="the ID of the containing zone (one), null for all zones"),
        Param("encrypt", "boolean", description="Volumes using this offering should be encrypted", since="4.18"),
        *IO_PARAMS,
    ],
)
def create_disk_offering(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    name = p["name"].strip()
    if not name:
        raise param_error("Failed to create disk offering: the name cannot be blank")
    customized = bool(p.get("customized", False))
    size_gb = p.get("disksize")
    if size_gb is None and not customized:
        raise param_error("Disksize is required for a non-customized disk offering")
    if size_gb is not None and customized:
        raise param_error("Disksize should not be specified for a customized disk offering")
    if size_gb is not None and size_gb <= 0:
        raise param_error("Please specify a disk size of at least 1 Gb.")
    if p.get("customizediops") and ("miniops" in p or "maxiops" in p):
        raise param_error("Min and Max IOPS should not be specified for a disk offering with customized IOPS")
    if "miniops" in p and "maxiops" in p and p["miniops"] > p["maxiops"]:
        raise param_error("The 'Min IOPS' parameter must be less than or equal to the 'Max IOPS' parameter.")
    check_io(p)
    domain = offering_domain(db, p)
    zone = offering_zone(db, p)
    offering = DiskOffering(
        name=name,
        display_text=(p.get("displaytext") or "").strip() or name,
        disk_size=(size_gb or 0) * GIB,
        customized=customized,
        tags=tag_text(p.get("tags")),
        storage_type=p.get("storagetype", "shared"),
        provisioning_type=p.get("provisioningtype", "thin"),
        customized_iops=bool(p.get("customizediops", False)),
        min_iops=p.get("miniops"),
        max_iops=p.get("maxiops"),
        display_offering=bool(p.get("displayoffering", True)),
        domain_id=domain.id if domain else None,
        zone_id=zone.id if zone else None,
        encrypt=bool(p.get("encrypt", False)),
        **io_columns(p),
    )
    db.add(offering)
    db.flush()
    events.record_event(db, "DISK.OFFERING.CREATE", f"Successfully created disk offering {name}", ctx.actor,
                        resource_type="DiskOffering", resource_uuid=offering.uuid, resource_name=name)
    return {"diskoffering": render_disk_offering(db, offering)}


@api_command(
    "listDiskOfferings", description="Lists all available disk offerings.", response="diskoffering",
    roles=ALL_ROLES,
    params=[
        Param("id", "uuid", description="ID of the disk offering"),
        Param("name", description="name of the disk offering"),
        Param("domainid", "uuid", description="the ID of the domain of the disk offering."),
        Param("zoneid", "uuid", description="id of zone disk offering is associated with"),
        Param("isrecursive", "boolean", description="defaults to false, but if true, lists all resources from "
              "the parent specified by the domainId till leaves."),
        Param("state", choices=("Active", "Inactive", "all"), description="Filter by state of the disk "
              "offering. Defaults to 'Active'. If set to 'all' shows both Active & Inactive offerings."),
        Param("listall", "boolean", description="If set to true - list resources that the caller is "
              "authorized to see."),
        Param("encrypt", "boolean", description="listed offerings support disk encryption", since="4.18"),
        *PAGING_PARAMS,
    ],
)
def list_disk_offerings(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    db = ctx.db
    query = select(DiskOffering).where(DiskOffering.removed.is_(None)).order_by(
        DiskOffering.sort_key, DiskOffering.id)
    if "id" in p:
        query = query.where(DiskOffering.uuid == p["id"])
    if "name" in p:
        query = query.where(DiskOffering.name == p["name"])
    if "keyword" in p:
        pattern = keyword_pattern(p["keyword"])
        query = query.where(DiskOffering.name.ilike(pattern, escape="\\")
                            | DiskOffering.display_text.ilike(pattern, escape="\\"))
    domain_id = filter_domain_id(db, p)
    if domain_id is not None:
        query = query.where(DiskOffering.domain_id == domain_id)
    zone_id = filter_zone_id(db, p)
    if zone_id is not None:
        query = query.where(DiskOffering.zone_id.is_(None) | (DiskOffering.zone_id == zone_id))
    state = p.get("state", "Active")
    if state != "all":
        query = query.where(DiskOffering.state == state)
    if "encrypt" in p:
        query = query.where(DiskOffering.encrypt.is_(p["encrypt"]))
    caller = ctx.user
    if not caller.is_root_admin:
        query = query.where(DiskOffering.display_offering.is_(True))
    query = visible_offerings(db, caller, query, DiskOffering)
    return paged_list(db, "diskoffering", query, p, lambda o: render_disk_offering(db, o))


@api_command(
    "updateDiskOffering", description="Updates a disk offering.", response="diskoffering", roles=ADMIN,
    params=[
        Param("id", "uuid", required=True, description="ID of the disk offering"),
        Param("name", description="updates name of the disk offering with this value"),
        Param("displaytext", description="updates alternate display text of the disk offering with this value"),
        Param("sortkey", "integer", description="sort key of the disk offering, integer"),
        Param("displayoffering", "boolean", description="an optional field, whether to display the offering to "
              "the end user or not."),
        Param("tags", length=4096, description="comma-separated list of tags for the disk offering, tags should "
              "match with existing storage pool tags"),
        Param("domainid", description="the ID of the containing domain(s) as comma separated string, public "
              "for public offerings"),
        Param("zoneid", description="the ID of the containing zone(s) as comma separated string, all for all "
              "zones offerings"),
    ],
)
def update_disk_offering(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    offering = find_by_uuid(db, DiskOffering, p["id"], "disk offering")
    if "name" in p and not p["name"].strip():
        raise param_error("Invalid parameter name: a disk offering name cannot be blank")
    domain_id = single_owner(db, p, "domainid", "public", Domain, "domain")
    zone_id = single_owner(db, p, "zoneid", "all", Zone, "zone")
    if "name" in p:
        offering.name = p["name"].strip()
    if "displaytext" in p:
        offering.display_text = p["displaytext"].strip() or offering.name
    if "sortkey" in p:
        offering.sort_key = p["sortkey"]
    if "displayoffering" in p:
        offering.display_offering = p["displayoffering"]
    if "tags" in p:
        offering.tags = tag_text(p["tags"])
    if domain_id is not False:
        offering.domain_id = domain_id  # type: ignore[assignment]
    if zone_id is not False:
        offering.zone_id = zone_id  # type: ignore[assignment]
    events.record_event(db, "DISK.OFFERING.EDIT", f"Successfully updated disk offering {offering.name}",
                        ctx.actor, resource_type="DiskOffering", resource_uuid=offering.uuid,
                        resource_name=offering.name)
    return {"diskoffering": render_disk_offering(db, offering)}


@api_command(
    "deleteDiskOffering", description="Deletes a disk offering.", response="success", roles=ADMIN,
    params=[Param("id", "uuid", required=True, description="ID of the disk offering")],
)
def delete_disk_offering(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    offering = find_by_uuid(db, DiskOffering, p["id"], "disk offering")
    offering.removed = utcnow()
    offering.state = "Inactive"
    events.record_event(db, "DISK.OFFERING.DELETE", f"Successfully deleted disk offering {offering.name}",
                        ctx.actor, resource_type="DiskOffering", resource_uuid=offering.uuid,
                        resource_name=offering.name)
    return {"success": True}
