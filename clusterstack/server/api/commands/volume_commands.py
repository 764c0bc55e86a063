"""Data volumes on the CSV: createVolume, attachVolume, detachVolume, resizeVolume, deleteVolume.

A DATADISK is a VHDX on its primary storage's Cluster Shared Volume, created when first attached to an
instance (as CloudStack creates a volume on primary storage at first attach) and reflected in the pool's
allocated and used space.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from clusterstack.hypervisor.base import DriverError, VhdSpec
from clusterstack.server import events
from clusterstack.server.api.access import check_access, resolve_account
from clusterstack.server.api.commands.resource_limits import check_limit
from clusterstack.server.api.commands.volumes import render_volume_row, volume_page_query
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import param_error, permission_denied
from clusterstack.server.api.lookup import find_by_uuid
from clusterstack.server.api.params import needed_here
from clusterstack.server.api.registry import JobTarget, Param, api_command
from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.catalog import DiskOffering
from clusterstack.server.db.models.identity import Account, Domain
from clusterstack.server.db.models.infrastructure import HYPERVISOR_HYPERV, Cluster, StoragePool, Zone
from clusterstack.server.db.models.instances import VMInstance, Volume
from clusterstack.server.orchestration.cluster_access import as_api_error, driver_for, require_quorum, wake
from clusterstack.server.orchestration.planner import room_on
from clusterstack.server.settings import define_setting
from clusterstack.server.settings import get as get_setting

GB = 1024**3
VOLUME_ID = Param("id", "uuid", required=True, description="the ID of the disk volume")
CUSTOM_SIZE_MIN = define_setting("custom.diskoffering.size.min", 1, "Advanced",
                                 "Minimum size in GB for custom disk offering", minimum=1)
CUSTOM_SIZE_MAX = define_setting("custom.diskoffering.size.max", 1024, "Advanced",
                                 "Maximum size in GB for custom disk offering", minimum=1)


def check_custom_size(ctx: CallContext, gb: int) -> None:
    """A custom-sized disk (createVolume, resizeVolume, a deploy's data disk) is 1 to 1024 GB by default."""
    low, high = int(get_setting(ctx.db, CUSTOM_SIZE_MIN)), int(get_setting(ctx.db, CUSTOM_SIZE_MAX))
    if not low <= gb <= high:
        raise param_error(f"Invalid parameter size value={gb}: a volume's size is {low} to {high} GB "
                          "(custom.diskoffering.size.min and custom.diskoffering.size.max)")


def _volume(ctx: CallContext, uuid: str) -> Volume:
    volume = find_by_uuid(ctx.db, Volume, uuid, "volume")
    check_access(ctx.db, ctx.user, volume, f"volume {volume.name}")
    return volume


def _answer(ctx: CallContext, volume: Volume) -> dict[str, Any]:
    ctx.db.flush()
    page = select(Volume.id.label("id")).where(Volume.id == volume.id).subquery("page")
    row = ctx.db.connection().execute(volume_page_query(page)).one()
    return {"volume": render_volume_row(row, admin=ctx.user.is_root_admin)}


def _event(ctx: CallContext, volume: Volume, event_type: str, description: str) -> None:
    events.record_event(ctx.db, event_type, description, ctx.actor, resource_type="Volume",
                        resource_uuid=volume.uuid, resource_name=volume.name)


def _instance(ctx: CallContext, uuid: str) -> VMInstance:
    vm = find_by_uuid(ctx.db, VMInstance, uuid, "virtual machine", "virtualmachineid")
    check_access(ctx.db, ctx.user, vm, f"virtual machine {vm.name}")
    _check_attachable(vm)
    return vm


def _check_attachable(vm: VMInstance, *, detaching: bool = False) -> None:
    """Volumes attach to a Running or Stopped instance, and detach from one or from a Destroyed instance (to keep
    them before it is expunged), as in CloudStack."""
    states = ("Running", "Stopped", "Destroyed") if detaching else ("Running", "Stopped")
    if vm.cluster_id is None or vm.state not in states:
        raise param_error(f"Virtual machine {vm.name} is {vm.state}: volumes are "
                          f"{'detached from' if detaching else 'attached to'} a {' or '.join(states)} instance")


def _cluster(ctx: CallContext, vm: VMInstance) -> Cluster:
    cluster = ctx.db.get(Cluster, vm.cluster_id)
    assert cluster is not None
    require_quorum(cluster)
    return cluster


def _owner(ctx: CallContext, p: dict[str, Any]) -> Account:
    """The account a new volume belongs to: the caller's, or account + domainid (an administrator's choice)."""
    db, caller = ctx.db, ctx.user
    if "account" not in p and "domainid" not in p:
        own = db.get(Account, caller.account_id)
        assert own is not None
        return own
    if "account" not in p or "domainid" not in p:
        raise param_error("account and domainid go together: give both to create a volume for an account")
    domain = find_by_uuid(db, Domain, p["domainid"], "domain", "domainid")
    if not (caller.is_root_admin or caller.is_domain_admin):
        if p["account"] != caller.account_name or domain.id != caller.domain_id:
            raise permission_denied(f"Account {caller.account_name} cannot create volumes for account "
                                    f"{p['account']}")
        own = db.get(Account, caller.account_id)
        assert own is not None
        return own
    return resolve_account(db, caller, p["account"], domain)


def _check_same_owner_and_zone(ctx: CallContext, what: str, zone_id: int, account_id: int, vm: VMInstance) -> None:
    """A data volume is attached only to an instance of its own zone and its own account."""
    if zone_id != vm.zone_id:
        zone, vm_zone = ctx.db.get(Zone, zone_id), ctx.db.get(Zone, vm.zone_id)
        raise param_error(f"{what} is in zone {zone.name if zone else zone_id} and virtual machine {vm.name} in zone "
                          f"{vm_zone.name if vm_zone else vm.zone_id}: a volume attaches to an instance of its "
                          "own zone")
    if account_id != vm.account_id:
        account, vm_account = ctx.db.get(Account, account_id), ctx.db.get(Account, vm.account_id)
        raise param_error(f"{what} belongs to account {account.name if account else account_id} and virtual "
                          f"machine {vm.name} to account {vm_account.name if vm_account else vm.account_id}: a "
                          "volume attaches to an instance of its own account")


def _pool_for_attach(ctx: CallContext, volume: Volume | None, size: int, vm: VMInstance) -> StoragePool:
    """The primary storage a volume lives on once attached to `vm` (its own, or the instance's ROOT volume's),
    which must have room for a volume not created there yet."""
    root = ctx.db.scalar(select(Volume).where(Volume.instance_id == vm.id, Volume.volume_type == "ROOT",
                                              Volume.removed.is_(None)))
    pool_id = volume.pool_id if volume is not None and volume.pool_id else (root.pool_id if root else None)
    pool = ctx.db.get(StoragePool, pool_id) if pool_id is not None else None
    if pool is None:
        raise param_error(f"Virtual machine {vm.name} has no primary storage")
    room = room_on(ctx.db, pool)
    if (volume is None or volume.path is None) and room < size:
        raise param_error(f"Primary storage {pool.name} has not {size // GB} GB free for a {size // GB} GB volume "
                          f"(it has {max(0, room) // GB} GB)")
    return pool


def _check_growth(ctx: CallContext, volume: Volume, new_size: int) -> StoragePool | None:
    """resizeVolume only grows a volume, and only as far as its primary storage has room."""
    if new_size <= volume.size:
        raise param_error(f"Volume {volume.name} can only grow: it has {volume.size // GB} GB, size is "
                          f"{new_size // GB} GB")
    pool = ctx.db.get(StoragePool, volume.pool_id) if volume.pool_id else None
    if volume.path and pool is not None and room_on(ctx.db, pool) < new_size - volume.size:
        raise param_error(f"Primary storage {pool.name} has not {(new_size - volume.size) // GB} GB free to grow "
                          f"volume {volume.name} to {new_size // GB} GB")
    return pool


def _check_not_encrypted(ctx: CallContext, offering_id: int | None) -> None:
    """A volume of an encrypting disk offering is not attached, as CloudStack refuses it on every hypervisor but
    KVM (VolumeApiServiceImpl.attachVolumeToVM): a VHD on a CSV is not encrypted by clusterstack."""
    offering = ctx.db.get(DiskOffering, offering_id) if offering_id is not None else None
    if offering is not None and offering.encrypt:
        raise param_error("Volume's disk offering has encryption enabled, but volume encryption is not supported "
                          f"for hypervisor type {HYPERVISOR_HYPERV}")


def _prepare_create(ctx: CallContext, p: dict[str, Any]) -> JobTarget:
    db = ctx.db
    zone = find_by_uuid(db, Zone, p["zoneid"], "zone", "zoneid") if "zoneid" in p else None
    offering = find_by_uuid(db, DiskOffering, p["diskofferingid"], "disk offering", "diskofferingid") \
        if "diskofferingid" in p else None
    if offering is None and "size" not in p:
        raise param_error("Unable to execute API command createvolume due to missing parameter diskofferingid "
                          "(or size)")
    if offering is not None and not offering.customized and "size" in p:
        raise param_error(f"Disk offering {offering.name} has a fixed size; size goes with a custom offering")
    if "size" in p:
        check_custom_size(ctx, int(p["size"]))
    size = int(p["size"]) * GB if "size" in p else (offering.disk_size if offering else 0)
    if size <= 0:
        raise param_error("A volume needs a size: give size (GB) with a custom disk offering")
    vm = _instance(ctx, p["virtualmachineid"]) if "virtualmachineid" in p else None
    if zone is None:
        if vm is None:
            raise param_error("Unable to execute API command createvolume due to missing parameter zoneid")
        zone = db.get(Zone, vm.zone_id)
    assert zone is not None
    account = _owner(ctx, p)
    if vm is not None:
        _check_same_owner_and_zone(ctx, "The new volume", zone.id, account.id, vm)
        _check_not_encrypted(ctx, offering.id if offering else None)
        _pool_for_attach(ctx, None, size, vm)
    check_limit(db, account, 2, 1)
    check_limit(db, account, 10, max(1, size // GB))
    volume = Volume(name=p.get("name") or "DATA", volume_type="DATADISK", state="Allocated", size=size,
                    zone_id=zone.id, account_id=account.id, domain_id=account.domain_id,
                    disk_offering_id=offering.id if offering else None,
                    provisioning_type=offering.provisioning_type if offering else "thin")
    db.add(volume)
    db.flush()
    if not p.get("name"):
        volume.name = f"DATA-{volume.id}"
    return JobTarget("Volume", volume.uuid)


def _job_volume(ctx: CallContext) -> Volume:
    from clusterstack.server.db.models.jobs import AsyncJob

    job = ctx.db.scalar(select(AsyncJob).where(AsyncJob.uuid == ctx.job_uuid))
    volume = ctx.db.scalar(select(Volume).where(Volume.uuid == (job.instance_uuid if job else None)))
    if volume is None:
        raise param_error("the volume of this job is gone")
    return volume


@api_command(
    "createVolume", isasync=True, resumable=True, response="volume", prepare=_prepare_create,
    description="Creates a disk volume from a disk offering; with virtualmachineid it is attached at once.",
    params=[
        Param("name", description="the name of the disk volume"),
        Param("zoneid", "uuid", description="the ID of the availability zone"),
        Param("diskofferingid", "uuid", description="the ID of the disk offering"),
        Param("size", "long", description="Arbitrary volume size in GB (custom disk offering)", minimum=1),
        Param("virtualmachineid", "uuid", description="the ID of the virtual machine; to attach at once"),
        Param("account", description="the account associated with the disk volume"),
        Param("domainid", "uuid", description="the domain ID associated with the disk volume"),
    ],
)
def create_volume(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    volume = _job_volume(ctx)
    _event(ctx, volume, "VOLUME.CREATE", f"Created volume {volume.name} ({volume.size // GB} GB)")
    if "virtualmachineid" in p and volume.instance_id is None:
        _attach(ctx, volume, _instance(ctx, p["virtualmachineid"]))
    return _answer(ctx, volume)


def _attach(ctx: CallContext, volume: Volume, vm: VMInstance) -> None:
    cluster = _cluster(ctx, vm)
    driver = driver_for(ctx.server, cluster)
    pool = _pool_for_attach(ctx, volume, volume.size, vm)
    if volume.path is None:
        volume.path = f"{pool.path.rstrip(chr(92))}\\{vm.instance_name}\\{volume.name}-{volume.id}.vhdx"
        volume.pool_id = pool.id
        try:
            driver.create_vhd(VhdSpec(volume.path, volume.size))
        except DriverError as exc:
            volume.path = volume.pool_id = None
            raise as_api_error(exc, cluster) from None
    try:
        driver.attach_vhd(vm.instance_name or "", volume.path)
    except DriverError as exc:
        raise as_api_error(exc, cluster) from None
    wake(ctx.server, cluster.id)
    used = ctx.db.scalar(select(func.max(Volume.device_id)).where(Volume.instance_id == vm.id,
                                                                   Volume.removed.is_(None))) or 0
    volume.instance_id, volume.device_id, volume.state, volume.attached = vm.id, used + 1, "Ready", utcnow()
    _event(ctx, volume, "VOLUME.ATTACH", f"Attached volume {volume.name} to {vm.name}")


def _named_volume(ctx: CallContext, p: dict[str, Any]) -> Volume:
    """The volume `id` names or, as detachVolume also takes it (CloudStack's DetachVolumeCmd), the one attached
    to `virtualmachineid` as `deviceid`."""
    if "id" in p:
        return _volume(ctx, p["id"])
    if "virtualmachineid" not in p or "deviceid" not in p:
        raise param_error("Please provide either a volume id, or a tuple(device id, instance id)")
    vm = find_by_uuid(ctx.db, VMInstance, p["virtualmachineid"], "virtual machine", "virtualmachineid")
    check_access(ctx.db, ctx.user, vm, f"virtual machine {vm.name}")
    volume = ctx.db.scalar(select(Volume).where(Volume.instance_id == vm.id, Volume.device_id == p["deviceid"],
                                                Volume.removed.is_(None)))
    if volume is None:
        raise param_error(f"Unable to find volume with device id {p['deviceid']} on virtual machine {vm.name}")
    return volume


def _prepare_volume(*, attached: bool) -> Any:
    def prepare(ctx: CallContext, p: dict[str, Any]) -> JobTarget:
        volume = _named_volume(ctx, p)
        if volume.volume_type == "ROOT":
            raise param_error(f"Volume {volume.name} is a ROOT volume; it stays with its instance")
        if attached is True and volume.instance_id is None:
            raise param_error(f"Volume {volume.name} is not attached to an instance")
        if attached is True:
            holder = ctx.db.get(VMInstance, volume.instance_id)
            if holder is not None:
                _check_attachable(holder, detaching=True)
        if attached is False and volume.instance_id is not None:
            raise param_error(f"Volume {volume.name} is already attached to an instance")
        if attached is False:
            vm = _instance(ctx, p["virtualmachineid"])
            _check_same_owner_and_zone(ctx, f"Volume {volume.name}", volume.zone_id, volume.account_id, vm)
            _check_not_encrypted(ctx, volume.disk_offering_id)
            _pool_for_attach(ctx, volume, volume.size, vm)
        return JobTarget("Volume", volume.uuid)

    return prepare


def _prepare_resize(ctx: CallContext, p: dict[str, Any]) -> JobTarget:
    volume = _volume(ctx, p["id"])
    needed_here("resizeVolume", p, "size", "a volume grows to a size in GB here; resizing by diskofferingid is not "
                "supported")
    check_custom_size(ctx, int(p["size"]))
    _check_growth(ctx, volume, int(p["size"]) * GB)
    return JobTarget("Volume", volume.uuid)


@api_command("attachVolume", isasync=True, response="volume", prepare=_prepare_volume(attached=False),
             description="Attaches a disk volume to a virtual machine.",
             params=[VOLUME_ID, Param("virtualmachineid", "uuid", required=True,
                                      description="the ID of the virtual machine")])
def attach_volume(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    volume = _volume(ctx, p["id"])
    if volume.instance_id is None:
        _attach(ctx, volume, _instance(ctx, p["virtualmachineid"]))
    return _answer(ctx, volume)


@api_command("detachVolume", isasync=True, response="volume", prepare=_prepare_volume(attached=True),
             description="Detaches a disk volume from a virtual machine: the one `id` names, or the one attached to "
             "`virtualmachineid` as `deviceid`.",
             params=[Param("id", "uuid", description="the ID of the disk volume"),
                     Param("virtualmachineid", "uuid", description="the ID of the virtual machine the volume is "
                           "attached to (with deviceid)"),
                     Param("deviceid", "long", description="the device ID of the volume on that virtual machine")])
def detach_volume(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    volume = _named_volume(ctx, p)
    vm = ctx.db.get(VMInstance, volume.instance_id) if volume.instance_id else None
    if vm is not None and volume.path:
        cluster = _cluster(ctx, vm)
        try:
            driver_for(ctx.server, cluster).detach_vhd(vm.instance_name or "", volume.path)
        except DriverError as exc:
            raise as_api_error(exc, cluster) from None
        _event(ctx, volume, "VOLUME.DETACH", f"Detached volume {volume.name} from {vm.name}")
    volume.instance_id = volume.device_id = None
    volume.attached = None
    return _answer(ctx, volume)


@api_command("resizeVolume", isasync=True, response="volume", prepare=_prepare_resize,
             description="Grows a disk volume (Resize-VHD on the CSV).",
             params=[VOLUME_ID, Param("size", "long", description="New volume size in GB (required here)", minimum=1)])
def resize_volume(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    volume = _volume(ctx, p["id"])
    new_size = int(p["size"]) * GB
    pool = _check_growth(ctx, volume, new_size)  # again: another job may have used the room meanwhile
    if volume.path and pool is not None:
        cluster = ctx.db.get(Cluster, pool.cluster_id) if pool.cluster_id else None
        if cluster is not None:
            require_quorum(cluster)
            try:
                driver_for(ctx.server, cluster).resize_vhd(volume.path, new_size)
            except DriverError as exc:
                raise as_api_error(exc, cluster) from None
            wake(ctx.server, cluster.id)  # the CSV's free space changed: the pool's used size follows now
    previous, volume.size = volume.size, new_size
    _event(ctx, volume, "VOLUME.RESIZE", f"Resized volume {volume.name} from {previous // GB} GB to "
           f"{new_size // GB} GB")
    return _answer(ctx, volume)


@api_command("deleteVolume", response="success", description="Deletes a detached disk volume.", params=[VOLUME_ID])
def delete_volume(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    volume = _volume(ctx, p["id"])
    if volume.instance_id is not None:
        raise param_error(f"Volume {volume.name} is attached to an instance; detach it first")
    pool = ctx.db.get(StoragePool, volume.pool_id) if volume.pool_id else None
    if volume.path and pool is not None:
        cluster = ctx.db.get(Cluster, pool.cluster_id) if pool.cluster_id else None
        if cluster is not None:
            require_quorum(cluster)
            try:
                driver_for(ctx.server, cluster).delete_vhd(volume.path)
            except DriverError as exc:
                raise as_api_error(exc, cluster) from None
            wake(ctx.server, cluster.id)  # the CSV's free space changed: the pool's used size follows now
    volume.state, volume.removed = "Expunged", utcnow()
    _event(ctx, volume, "VOLUME.DELETE", f"Deleted volume {volume.name}")
    return {"success": True}
