"""updateVolume, as CloudStack's VolumeApiServiceImpl.updateVolume: anyone who may act on a volume renames it;
the root admin also sets its path, state, storage pool, display flag and id (customid).

`chaininfo` is VMware's disk chain, which a Hyper-V volume has not, and delete protection (4.20) is not kept by
clusterstack: both are refused rather than ignored (deleteprotection=false, which changes nothing, is accepted).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from clusterstack.server import events
from clusterstack.server.api.access import check_access
from clusterstack.server.api.commands.volumes import render_volume_row, volume_page_query
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import param_error
from clusterstack.server.api.lookup import find_by_uuid
from clusterstack.server.api.registry import ALL_ROLES, JobTarget, Param, api_command
from clusterstack.server.db.models.infrastructure import StoragePool
from clusterstack.server.db.models.instances import VOLUME_STATES, Volume

ROOT_ADMIN_ONLY = ("path", "state", "storageid", "displayvolume", "customid", "chaininfo")


def _checked(ctx: CallContext, p: dict[str, Any]) -> Volume:
    if not ctx.user.is_root_admin and any(name in p for name in ROOT_ADMIN_ONLY):
        raise param_error("The domain admin and normal user are not allowed to update volume except volume name & "
                          "delete protection")
    if "id" not in p:
        raise param_error("The volume id doesn't exist")
    volume = find_by_uuid(ctx.db, Volume, p["id"], "volume")
    check_access(ctx.db, ctx.user, volume, f"volume {volume.name}")
    if "chaininfo" in p:
        raise param_error("Invalid parameter chaininfo: it is VMware's disk chain; a Hyper-V volume (a VHDX on a "
                          "Cluster Shared Volume) has none")
    if p.get("deleteprotection"):
        raise param_error("Invalid parameter deleteprotection: clusterstack does not keep delete protection on "
                          "volumes")
    if "state" in p and p["state"] not in VOLUME_STATES:
        raise param_error("Invalid volume state specified")
    if "name" in p and not p["name"].strip():
        raise param_error("Invalid parameter name: a volume name can't be blank")
    if "storageid" in p:
        pool = find_by_uuid(ctx.db, StoragePool, p["storageid"], "storage pool", "storageid")
        if pool.zone_id != volume.zone_id:
            raise param_error("Invalid storageId specified; refers to the pool outside of the volume's zone")
    taken = "customid" in p and p["customid"] != volume.uuid and \
        ctx.db.scalar(select(Volume.id).where(Volume.uuid == p["customid"])) is not None
    if taken:
        raise param_error(f"Invalid parameter customid: another volume has id {p['customid']}")
    return volume


@api_command(
    "updateVolume", description="Updates the volume.", response="volume", roles=ALL_ROLES, isasync=True,
    prepare=lambda ctx, p: JobTarget("Volume", _checked(ctx, p).uuid),
    params=[
        Param("id", "uuid", description="the ID of the disk volume"),
        Param("name", description="new name of the volume", since="4.16"),
        Param("path", description="The path of the volume"),
        Param("state", description="The state of the volume", since="4.3"),
        Param("storageid", "uuid", description="Destination storage pool UUID for the volume", since="4.3"),
        Param("displayvolume", "boolean", description="an optional field, whether to the display the volume to the "
              "end user or not."),
        Param("customid", description="an optional field, in case you want to set a custom id to the resource. "
              "Allowed to Root Admins only", since="4.4"),
        Param("chaininfo", description="The chain info of the volume", since="4.4"),
        Param("deleteprotection", "boolean", description="Set delete protection for the volume", since="4.20.0"),
    ],
)
def update_volume(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    volume = _checked(ctx, p)
    changed: list[str] = []
    for param, attribute in (("name", "name"), ("path", "path"), ("state", "state"),
                             ("displayvolume", "display_volume"), ("customid", "uuid")):
        if param in p and getattr(volume, attribute) != p[param]:
            setattr(volume, attribute, p[param])
            changed.append(param)
    if "storageid" in p:
        pool = find_by_uuid(ctx.db, StoragePool, p["storageid"], "storage pool", "storageid")
        if volume.pool_id != pool.id:
            volume.pool_id = pool.id
            changed.append("storageid")
    ctx.db.flush()
    events.record_event(ctx.db, "VOLUME.UPDATE", f"Updated volume {volume.name}" +
                        (f": {', '.join(changed)}" if changed else ""), ctx.actor, resource_type="Volume",
                        resource_uuid=volume.uuid, resource_name=volume.name)
    page = select(Volume.id.label("id")).where(Volume.id == volume.id).subquery("page")
    row = ctx.db.connection().execute(volume_page_query(page)).one()
    return {"volume": render_volume_row(row, admin=ctx.user.is_root_admin)}
