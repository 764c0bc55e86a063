"""listVolumes: the virtual disks (VHDX files on a Cluster Shared Volume) of instances, CloudStack's
VolumeResponse fields, scoped like every owned resource. One SELECT with joins per page, one COUNT.

createVolume, attach, detach, resize and delete arrive with the instance lifecycle.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Subquery, func, select

from clusterstack.server.api.access import scope_owned
from clusterstack.server.api.commands.tags import attach_tags, tag_filter
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import param_error
from clusterstack.server.api.listing import ListResponse, page_window, scope_of_id
from clusterstack.server.api.lookup import filter_row_id, keyword_pattern, matches_value
from clusterstack.server.api.registry import (
    ACCOUNT_SCOPE_PARAMS,
    ALL_ROLES,
    PAGING_PARAMS,
    TAGS_PARAM,
    Param,
    api_command,
    define_entity,
)
from clusterstack.server.db.models.catalog import DiskOffering, ServiceOffering
from clusterstack.server.db.models.identity import Account, Domain
from clusterstack.server.db.models.infrastructure import HYPERVISOR_HYPERV, Cluster, Host, Pod, StoragePool, Zone
from clusterstack.server.db.models.instances import VOLUME_STATES, VOLUME_TYPES, VMInstance, Volume

HIDDEN_FROM_USERS = ("Destroy", "Expunging", "Expunged")

define_entity("volume", [
    ("id", "string", "ID of the disk volume"),
    ("name", "string", "name of the disk volume"),
    ("zoneid", "string", "ID of the availability zone"),
    ("zonename", "string", "name of the availability zone"),
    ("type", "string", "type of the disk volume (ROOT or DATADISK)"),
    ("deviceid", "long", "the ID of the device on user vm the volume is attahed to. This tag is not returned "
     "when the volume is detached."),
    ("virtualmachineid", "string", "id of the virtual machine"),
    ("vmname", "string", "name of the virtual machine"),
    ("vmdisplayname", "string", "display name of the virtual machine"),
    ("vmstate", "string", "state of the virtual machine"),
    ("provisioningtype", "string", "provisioning type used to create volumes."),
    ("size", "long", "size of the disk volume"),
    ("miniops", "long", "min iops of the disk volume"),
    ("maxiops", "long", "max iops of the disk volume"),
    ("created", "date", "the date the disk volume was created"),
    ("attached", "date", "the date the volume was attached to a VM instance"),
    ("state", "string", "the state of the disk volume"),
    ("account", "string", "the account associated with the disk volume"),
    ("domainid", "string", "the ID of the domain associated with the disk volume"),
    ("domain", "string", "the domain associated with the disk volume"),
    ("storagetype", "string", "shared or local storage"),
    ("hypervisor", "string", "Hypervisor the volume belongs to"),
    ("format", "string", "the format of the disk volume"),
    ("diskofferingid", "string", "ID of the disk offering"),
    ("diskofferingname", "string", "name of the disk offering"),
    ("diskofferingdisplaytext", "string", "the display text of the disk offering"),
    ("serviceofferingid", "string", "ID of the service offering for root disk"),
    ("serviceofferingname", "string", "name of the service offering for root disk"),
    ("serviceofferingdisplaytext", "string", "the display text of the service offering for root disk"),
    ("storageid", "string", "id of the primary storage hosting the disk volume; returned to admin user only"),
    ("storage", "string", "name of the primary storage hosting the disk volume"),
    ("path", "string", "the path of the volume"),
    ("clusterid", "string", "cluster id of the volume"),
    ("clustername", "string", "cluster name where the volume is allocated"),
    ("podid", "string", "pod id of the volume"),
    ("podname", "string", "pod name of the volume"),
    ("destroyed", "boolean", "the boolean state of whether the volume is destroyed or not"),
    ("isextractable", "boolean", "true if the volume is extractable, false otherwise"),
    ("displayvolume", "boolean", "an optional field whether to the display the volume to the end user or not."),
    ("tags", "set", "the list of resource tags associated"),
    ("hasannotations", "boolean", "true if the entity/resource has annotations"),
])

_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("id", Volume.uuid), ("name", Volume.name), ("zoneid", Zone.uuid), ("zonename", Zone.name),
    ("type", Volume.volume_type), ("deviceid", Volume.device_id), ("virtualmachineid", VMInstance.uuid),
    ("vmname", VMInstance.name), ("vmdisplayname", VMInstance.display_name), ("vmstate", VMInstance.state),
    ("provisioningtype", Volume.provisioning_type), ("size", Volume.size), ("miniops", Volume.min_iops),
    ("maxiops", Volume.max_iops), ("created", Volume.created), ("attached", Volume.attached),
    ("state", Volume.state), ("account", Account.name), ("domainid", Domain.uuid), ("domain", Domain.name),
    ("format", Volume.format), ("diskofferingid", DiskOffering.uuid), ("diskofferingname", DiskOffering.name),
    ("diskofferingdisplaytext", DiskOffering.display_text), ("serviceofferingid", ServiceOffering.uuid),
    ("serviceofferingname", ServiceOffering.name), ("serviceofferingdisplaytext", ServiceOffering.display_text),
    ("storageid", StoragePool.uuid), ("storage", StoragePool.name), ("path", Volume.path),
    ("clusterid", Cluster.uuid), ("clustername", Cluster.name), ("podid", Pod.uuid), ("podname", Pod.name),
    ("displayvolume", Volume.display_volume),
)
_KEYS = tuple(key for key, _ in _COLUMNS)
_ADMIN_ONLY = frozenset({"storageid", "path", "clusterid", "clustername", "podid", "podname"})


def volume_page_query(page: Subquery) -> Select[Any]:
    """One page of volumes: `page` (the filtered, ordered, limited volume ids) joined to everything rendered,
    so the joins run for the page's rows only (see virtual_machines.vm_page_query)."""
    return (
        select(*(column for _, column in _COLUMNS))
        .select_from(page)
        .join(Volume, Volume.id == page.c.id)
        .join(Account, Volume.account_id == Account.id)
        .join(Domain, Volume.domain_id == Domain.id)
        .join(Zone, Volume.zone_id == Zone.id)
        .outerjoin(VMInstance, Volume.instance_id == VMInstance.id)
        .outerjoin(ServiceOffering, (VMInstance.service_offering_id == ServiceOffering.id)
                   & (Volume.volume_type == "ROOT"))
        .outerjoin(DiskOffering, Volume.disk_offering_id == DiskOffering.id)
        .outerjoin(StoragePool, Volume.pool_id == StoragePool.id)
        .outerjoin(Cluster, StoragePool.cluster_id == Cluster.id)
        .outerjoin(Pod, StoragePool.pod_id == Pod.id)
    )


def render_volume_row(row: Any, *, admin: bool) -> dict[str, Any]:
    volume = dict(zip(_KEYS, row, strict=True))
    volume["storagetype"] = "shared"
    volume["hypervisor"] = HYPERVISOR_HYPERV
    volume["destroyed"] = volume["state"] in ("Destroy", "Expunging", "Expunged")
    volume["isextractable"] = False
    volume["tags"] = []
    volume["hasannotations"] = False
    if volume["virtualmachineid"] is None:
        volume.pop("deviceid", None)
    if not admin:
        for key in _ADMIN_ONLY:
            volume.pop(key, None)
    return volume


@api_command(
    "listVolumes", description="Lists all volumes.", response="volume", roles=ALL_ROLES,
    params=[
        Param("id", "uuid", description="the ID of the disk volume"),
        Param("ids", "list", collection_type="uuid", description="the IDs of the volumes, mutually exclusive with "
              "id", since="4.9"),
        Param("name", description="the name of the disk volume"),
        Param("type", description="the type of disk volume"),
        Param("state", description="state of the volume. Possible values are: Ready, "
              "Allocated, Destroy, Expunging, Expunged."),
        Param("virtualmachineid", "uuid", description="the ID of the virtual machine"),
        Param("zoneid", "uuid", description="the ID of the availability zone"),
        Param("podid", "uuid", description="the pod id the disk volume belongs to"),
        Param("clusterid", "uuid", description="the cluster id the disk volume belongs to"),
        Param("hostid", "uuid", description="list volumes on specified host"),
        Param("storageid", description="the ID of the storage pool, available to ROOT admin only", since="4.3"),
        Param("diskofferingid", "uuid", description="list volumes by disk offering", since="4.4"),
        Param("displayvolume", "boolean", description="list resources by display flag; only ROOT admin is "
              "eligible to pass this parameter", since="4.4"),
        TAGS_PARAM,
        *ACCOUNT_SCOPE_PARAMS,
        *PAGING_PARAMS,
    ],
)
def list_volumes(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    db = ctx.db
    caller = ctx.user
    admin = caller.is_root_admin
    if "id" in p and "ids" in p:
        raise param_error("Either id or ids parameter can be passed, not both")
    window = page_window(db, p)
    where: list[Any] = [Volume.removed.is_(None)]
    if "id" in p:
        where.append(Volume.uuid == p["id"])
    if "ids" in p:
        where.append(Volume.uuid.in_(p["ids"]))
    if "name" in p:
        where.append(Volume.name == p["name"])
    if "type" in p:
        where.append(matches_value(Volume.volume_type, p["type"], VOLUME_TYPES))
    if "state" in p:
        where.append(matches_value(Volume.state, p["state"], VOLUME_STATES))
    if "keyword" in p:
        where.append(Volume.name.ilike(keyword_pattern(p["keyword"]), escape="\\"))
    if "virtualmachineid" in p:
        where.append(Volume.instance_id == filter_row_id(db, VMInstance, p["virtualmachineid"], "virtual machine",
                                                         "virtualmachineid"))
    if "zoneid" in p:
        where.append(Volume.zone_id == filter_row_id(db, Zone, p["zoneid"], "zone", "zoneid"))
    if "diskofferingid" in p:
        where.append(Volume.disk_offering_id == filter_row_id(db, DiskOffering, p["diskofferingid"], "disk offering",
                                                              "diskofferingid"))
    for param, model, entity in (("podid", Pod, "pod"), ("clusterid", Cluster, "cluster"), ("hostid", Host, "host"),
                                 ("storageid", StoragePool, "storage pool")):
        if param not in p:
            continue
        if not admin:
            raise param_error(f"Invalid parameter {param}: only root admins may list volumes by {entity}")
        row_id = filter_row_id(db, model, p[param], entity, param)
        if param == "hostid":
            where.append(Volume.instance_id.in_(select(VMInstance.id).where(VMInstance.host_id == row_id)))
        elif param == "storageid":
            where.append(Volume.pool_id == row_id)
        else:
            column = StoragePool.cluster_id if param == "clusterid" else StoragePool.pod_id
            where.append(Volume.pool_id.in_(select(StoragePool.id).where(column == row_id)))
    if "tags" in p:
        where.append(tag_filter(db, "Volume", p["tags"], Volume.id))
    if not admin:
        where.append(Volume.state.notin_(HIDDEN_FROM_USERS))
        where.append(Volume.display_volume.is_(True))
    elif "displayvolume" in p:
        where.append(Volume.display_volume.is_(p["displayvolume"]))
    scope = scope_of_id(p)
    total = db.scalar(scope_owned(db, caller, select(func.count(Volume.id)).where(*where), Volume, scope)) or 0
    if total == 0:
        return ListResponse("volume", [], 0)
    offset, limit = window if window is not None else (0, None)
    ids = scope_owned(db, caller, select(Volume.id).where(*where), Volume, scope)
    page = ids.order_by(Volume.id).offset(offset).limit(limit).subquery("page")
    rows = db.connection().execute(volume_page_query(page).order_by(Volume.id)).all()
    return ListResponse("volume", attach_tags(db, "Volume", [render_volume_row(row, admin=admin) for row in rows]),
                        total)

