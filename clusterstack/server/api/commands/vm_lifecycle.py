"""Instance lifecycle on Hyper-V failover clusters: deploy, start, stop, reboot, destroy, expunge, recover,
migrate, scale, update. CloudStack's commands, parameters and response shapes; the work goes through the
failover cluster (orchestration/vm_lifecycle.py)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from clusterstack.server.api.access import check_access, resolve_account
from clusterstack.server.api.commands.resource_limits import check_limit
from clusterstack.server.api.commands.virtual_machines import render_vm
from clusterstack.server.api.commands.volume_commands import check_custom_size
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import param_error, permission_denied
from clusterstack.server.api.lookup import find_by_uuid
from clusterstack.server.api.params import needed_here
from clusterstack.server.api.registry import ADMIN, ALL_ROLES, JobTarget, Param, api_command
from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.catalog import DiskOffering, ServiceOffering, VMTemplate
from clusterstack.server.db.models.identity import ACCOUNT_TYPE_ADMIN, Account, Domain
from clusterstack.server.db.models.infrastructure import (
    HYPERVISOR_HYPERV,
    HYPERVISOR_SPELLINGS,
    Cluster,
    Host,
    StoragePool,
    Zone,
)
from clusterstack.server.db.models.instances import VMInstance, Volume, instance_name
from clusterstack.server.db.transient import is_transient
from clusterstack.server.orchestration import vm_lifecycle as lifecycle
from clusterstack.server.orchestration.cluster_access import require_quorum
from clusterstack.server.orchestration.planner import Demand, plan, require_host_in_zone
from clusterstack.server.settings import define_setting
from clusterstack.server.settings import get as get_setting

GB = 1024**3
ROOT_DISK_GB = define_setting(
    "hyperv.root.disk.size.gb", 20, "Hyper-V",
    "Size of a ROOT disk when neither the template's size nor rootdisksize says", minimum=1,
)
VM_ID = Param("id", "uuid", required=True, description="The ID of the virtual machine")


def _vm(ctx: CallContext, uuid: str, param: str = "id") -> VMInstance:
    vm = find_by_uuid(ctx.db, VMInstance, uuid, "virtual machine", param)
    check_access(ctx.db, ctx.user, vm, f"virtual machine {vm.name}")
    return vm


def _answer(ctx: CallContext, vm: VMInstance) -> dict[str, Any]:
    ctx.db.flush()
    return {"virtualmachine": render_vm(ctx.db, vm.id, admin=ctx.user.is_root_admin)}


def _require_state(vm: VMInstance, *states: str, action: str) -> None:
    if vm.state not in states:
        raise param_error(f"Unable to {action} virtual machine {vm.name}: it is {vm.state}, not "
                          f"{' or '.join(states)}")


def _require_quorum(ctx: CallContext, vm: VMInstance) -> None:
    cluster = ctx.db.get(Cluster, vm.cluster_id) if vm.cluster_id is not None else None
    if cluster is not None:
        require_quorum(cluster)


def _owner_account(ctx: CallContext, p: dict[str, Any]) -> Account:
    caller = ctx.user
    if "account" in p or "domainid" in p:
        if not (caller.is_root_admin or caller.is_domain_admin):
            raise permission_denied("Only administrators deploy instances for other accounts")
        if "account" not in p or "domainid" not in p:
            raise param_error("account and domainid go together")
        domain = find_by_uuid(ctx.db, Domain, p["domainid"], "domain", "domainid")
        return resolve_account(ctx.db, caller, p["account"], domain)
    account = ctx.db.get(Account, caller.account_id)
    assert account is not None
    return account


# An instance's name is its guest's host name: an RFC 1123 label that does not start with a digit, as in CloudStack.
_HOST_NAME = re.compile(r"[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def _check_name(db: Any, name: str, account: Account, vm: VMInstance | None = None) -> None:
    if not _HOST_NAME.fullmatch(name):
        raise param_error(f"Invalid parameter name value={name}: an instance name can contain the ASCII letters 'a' "
                          "through 'z', the digits '0' through '9' and the hyphen ('-'), is 1 to 63 characters long, "
                          "and cannot start or end with '-' nor start with a digit")
    query = select(VMInstance.id).where(VMInstance.name == name, VMInstance.account_id == account.id,
                                        VMInstance.removed.is_(None))
    if vm is not None:
        query = query.where(VMInstance.id != vm.id)
    if db.scalar(query) is not None:
        raise param_error(f"An instance named {name} already exists in account {account.name}")


# ---- deployVirtualMachine ---------------------------------------------------------------------------------------

def _prepare_deploy(ctx: CallContext, p: dict[str, Any]) -> JobTarget:
    db = ctx.db
    zone = find_by_uuid(db, Zone, p["zoneid"], "zone", "zoneid")
    if zone.allocation_state != "Enabled" and not ctx.user.is_root_admin:
        raise param_error(f"Zone {zone.name} is not enabled")
    offering = find_by_uuid(db, ServiceOffering, p["serviceofferingid"], "service offering", "serviceofferingid")
    template = find_by_uuid(db, VMTemplate, needed_here(
        "deployVirtualMachine", p, "templateid", "clusterstack deploys instances from templates (not from an ISO, a "
        "volume or a snapshot)"), "template", "templateid")
    if template.format == "ISO":
        raise param_error(f"templateid {template.uuid} is an ISO; give a VHD or VHDX template")
    if template.zone_id is not None and template.zone_id != zone.id and not template.cross_zones:
        raise param_error(f"Template {template.name} is not available in zone {zone.name}")
    if not (template.is_public or template.account_id == ctx.user.account_id or ctx.user.is_root_admin):
        raise permission_denied(f"Template {template.name} is not available to account {ctx.user.account_name}")
    host = cluster = None
    if "hostid" in p:
        if not ctx.user.is_root_admin:
            raise permission_denied("Only the root admin chooses the host of a new instance")
        host = find_by_uuid(db, Host, p["hostid"], "host", "hostid")
        require_host_in_zone(host, zone)
    if "clusterid" in p:
        if not ctx.user.is_root_admin:
            raise permission_denied("Only the root admin chooses the cluster of a new instance")
        cluster = find_by_uuid(db, Cluster, p["clusterid"], "cluster", "clusterid")
        if cluster.zone_id != zone.id:
            raise param_error(f"Cluster {cluster.name} is not in zone {zone.name}")
    disk_offering = None
    if "diskofferingid" in p:
        disk_offering = find_by_uuid(db, DiskOffering, p["diskofferingid"], "disk offering", "diskofferingid")
    data_bytes = 0
    if disk_offering is not None:
        if disk_offering.customized:
            if "size" not in p:
                raise param_error(f"Disk offering {disk_offering.name} is custom: give size (GB)")
            check_custom_size(ctx, int(p["size"]))
            data_bytes = int(p["size"]) * GB
        else:
            data_bytes = disk_offering.disk_size
    elif "size" in p:
        raise param_error("size goes with a custom diskofferingid")
    root_gb = p.get("rootdisksize")
    root_bytes = int(root_gb) * GB if root_gb else (template.size or int(get_setting(db, ROOT_DISK_GB)) * GB)
    account = _owner_account(ctx, p)
    if account.type != ACCOUNT_TYPE_ADMIN:  # CloudStack places no limits on root admin accounts (nor can one set any)
        for resource_type, amount in ((0, 1), (8, offering.cpu), (9, offering.ram_size),
                                      (2, 2 if data_bytes else 1), (10, (root_bytes + data_bytes) // GB)):
            check_limit(db, account, resource_type, amount)
    demand = Demand(offering.cpu, offering.speed, offering.ram_size, root_bytes + data_bytes,
                    tuple(t for t in (offering.host_tag or "").split(",") if t))
    placement = plan(db, zone, demand, host=host, cluster=cluster)
    require_quorum(placement.host.cluster)
    name = p.get("name")
    if name is not None:
        _check_name(db, name, account)
    start = p.get("startvm", True)
    vm = VMInstance(name=name or "", display_name=p.get("displayname") or name, state="Starting" if start else
                    "Stopped", ha_enabled=offering.offer_ha, service_offering_id=offering.id,
                    disk_offering_id=disk_offering.id if disk_offering else None, template_id=template.id,
                    guest_os_id=template.guest_os_id, zone_id=zone.id, pod_id=placement.host.pod_id,
                    cluster_id=placement.host.cluster_id, host_id=placement.host.id if start else None,
                    account_id=account.id, domain_id=account.domain_id, user_id=ctx.user.user_id,
                    hypervisor_type=HYPERVISOR_HYPERV,
                    cpu=offering.cpu, speed=offering.speed, ram_size=offering.ram_size,
                    group_name=p.get("group"), power_state="PowerOff")
    db.add(vm)
    db.flush()
    vm.instance_name = instance_name(account.id, vm.id)
    if not vm.name:
        vm.name = vm.instance_name
        vm.display_name = vm.display_name or vm.name
    pool: StoragePool = placement.pool
    base = pool.path.rstrip("\\")
    db.add(Volume(name=f"ROOT-{vm.id}", volume_type="ROOT", state="Allocated", size=root_bytes,
                  format=template.format if template.format in ("VHD", "VHDX") else "VHDX",
                  provisioning_type=offering.provisioning_type, path=f"{base}\\{vm.instance_name}\\ROOT-{vm.id}.vhdx",
                  pool_id=pool.id, instance_id=vm.id, device_id=0, zone_id=zone.id, account_id=account.id,
                  domain_id=account.domain_id, template_id=template.id))
    if data_bytes:
        db.add(Volume(name=f"DATA-{vm.id}", volume_type="DATADISK", state="Allocated", size=data_bytes,
                      provisioning_type=disk_offering.provisioning_type if disk_offering else "thin",
                      path=f"{base}\\{vm.instance_name}\\DATA-{vm.id}.vhdx", pool_id=pool.id, instance_id=vm.id,
                      device_id=1, zone_id=zone.id, account_id=account.id, domain_id=account.domain_id,
                      disk_offering_id=disk_offering.id if disk_offering else None))
    db.flush()
    return JobTarget("VirtualMachine", vm.uuid)


def _job_vm(ctx: CallContext) -> VMInstance:
    from clusterstack.server.db.models.jobs import AsyncJob

    found = ctx.db.execute(select(AsyncJob.instance_uuid, VMInstance)
                           .outerjoin(VMInstance, VMInstance.uuid == AsyncJob.instance_uuid)
                           .where(AsyncJob.uuid == ctx.job_uuid)).first()
    if found is None or found.instance_uuid is None:
        raise param_error("deployVirtualMachine runs as a job")
    if found.VMInstance is None:
        raise param_error(f"instance {found.instance_uuid} is gone")
    vm: VMInstance = found.VMInstance
    return vm


@api_command(
    "deployVirtualMachine", isasync=True, resumable=True, response="virtualmachine", roles=ALL_ROLES,
    description="Creates and automatically starts a virtual machine based on a service offering, disk offering, "
    "and template; on Hyper-V it becomes a role of the failover cluster (HA offerings: priority "
    "hyperv.ha.role.priority, others 0 = No Auto Start).",
    prepare=_prepare_deploy,
    params=[
        Param("zoneid", "uuid", required=True, description="availability zone for the virtual machine"),
        Param("serviceofferingid", "uuid", required=True, description="the ID of the service offering"),
        Param("templateid", "uuid", description="the ID of the template for the virtual machine (required here: "
              "instances are deployed from templates)"),
        Param("hostid", "uuid", description="destination Host ID to deploy the VM to (root admin only)"),
        Param("clusterid", "uuid", description="destination Cluster ID to deploy the VM to (root admin only)"),
        Param("name", description="host name for the virtual machine", length=63),
        Param("displayname", description="an optional user generated name for the virtual machine"),
        Param("diskofferingid", "uuid", description="the ID of the disk offering for a data disk"),
        Param("size", "long", description="the size of the data disk in GB for a custom disk offering", minimum=1),
        Param("rootdisksize", "long", description="the ROOT disk size in GB", minimum=1),
        Param("startvm", "boolean", description="true by default: start the VM once created"),
        Param("account", description="an optional account for the virtual machine (with domainid)"),
        Param("domainid", "uuid", description="an optional domainId for the virtual machine (with account)"),
        Param("group", description="an optional group for the virtual machine"),
        Param("hypervisor", description="the hypervisor: Hyperv", choices=HYPERVISOR_SPELLINGS),
    ],
)
def deploy_virtual_machine(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    vm = _job_vm(ctx)
    start = p.get("startvm", True)
    if vm.state in ("Running", "Stopped") and vm.role_priority is not None:
        return _answer(ctx, vm)  # a re-run after a restart: already done
    node = ctx.db.scalar(select(Host.node_name).where(Host.id == vm.host_id)) if vm.host_id is not None else None
    try:
        lifecycle.create_and_register(ctx, vm, node, start)
    except Exception as exc:
        if is_transient(exc):
            raise  # the job runs again and adopts what the cluster already made
        ctx.db.rollback()
        _discard(ctx, vm.id)
        raise
    vm = ctx.db.get(VMInstance, vm.id)  # type: ignore[assignment]
    lifecycle.vm_event(ctx.db, vm, "VM.CREATE", f"Successfully created VM {vm.name} ({vm.instance_name}) as a role "
                       f"of the failover cluster with priority {vm.role_priority}")
    if start:
        lifecycle.vm_event(ctx.db, vm, "VM.START", f"Successfully started VM {vm.name} on {_host_name(ctx, vm)}")
    return _answer(ctx, vm)


def _host_name(ctx: CallContext, vm: VMInstance) -> str:
    name = ctx.db.scalar(select(Host.name).where(Host.id == vm.host_id)) if vm.host_id else None
    return name or "-"


def _release_volumes(db: Any, vm: VMInstance) -> Any:
    """The instance's volumes are gone: expunged, and their space given back to their pools. Answers the time."""
    now = utcnow()
    for volume in db.scalars(select(Volume).where(Volume.instance_id == vm.id, Volume.removed.is_(None))):
        volume.state = "Expunged"
        volume.removed = now
    return now


def _discard(ctx: CallContext, vm_id: int) -> None:
    """A deploy that failed leaves an Error instance and nothing allocated: CloudStack's own end state."""
    db = ctx.db
    vm = db.get(VMInstance, vm_id)
    if vm is None:
        return
    now = _release_volumes(db, vm)
    vm.state = "Error"
    vm.host_id = None
    vm.removed = now
    db.flush()
    lifecycle.vm_event(db, vm, "VM.CREATE", f"Failed to create VM {vm.name}; nothing was left in the cluster",
                       level="ERROR")
    db.commit()


# ---- power -------------------------------------------------------------------------------------------------

def _prepare_state(*states: str, action: str, quorum: bool = True) -> Any:
    def prepare(ctx: CallContext, p: dict[str, Any]) -> JobTarget:
        vm = _vm(ctx, p["id"])
        _require_state(vm, *states, action=action)
        if quorum:
            _require_quorum(ctx, vm)
        return JobTarget("VirtualMachine", vm.uuid)

    return prepare


@api_command("startVirtualMachine", isasync=True, resumable=True, response="virtualmachine",
             description="Starts a virtual machine (through its failover-cluster role).",
             prepare=_prepare_state("Stopped", action="start"), params=[VM_ID])
def start_virtual_machine(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    vm = _vm(ctx, p["id"])
    if vm.state != "Running":
        lifecycle.start(ctx, vm)
        lifecycle.vm_event(ctx.db, vm, "VM.START", f"Successfully started VM {vm.name} on {_host_name(ctx, vm)}")
    return _answer(ctx, vm)


@api_command("stopVirtualMachine", isasync=True, resumable=True, response="virtualmachine",
             description="Stops a virtual machine: shut down, or turned off when forced.",
             prepare=_prepare_state("Running", action="stop"),
             params=[VM_ID, Param("forced", "boolean", description="Force stop the VM (turn it off)")])
def stop_virtual_machine(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    vm = _vm(ctx, p["id"])
    if vm.state != "Stopped":
        lifecycle.stop(ctx, vm, force=bool(p.get("forced")))
        lifecycle.vm_event(ctx.db, vm, "VM.STOP", f"Successfully stopped VM {vm.name}"
                           + (" (forced)" if p.get("forced") else ""))
    return _answer(ctx, vm)


@api_command("rebootVirtualMachine", isasync=True, resumable=True, response="virtualmachine",
             description="Reboots a virtual machine.", prepare=_prepare_state("Running", action="reboot"),
             params=[VM_ID])
def reboot_virtual_machine(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    vm = _vm(ctx, p["id"])
    lifecycle.reboot(ctx, vm)
    lifecycle.vm_event(ctx.db, vm, "VM.REBOOT", f"Successfully rebooted VM {vm.name}")
    return _answer(ctx, vm)


# ---- destroy, expunge, recover --------------------------------------------------------------------------------

def _expunge(ctx: CallContext, vm: VMInstance) -> None:
    lifecycle.remove(ctx, vm)
    now = _release_volumes(ctx.db, vm)
    vm.state = "Expunging"
    vm.host_id = None
    vm.removed = now
    ctx.db.flush()
    lifecycle.vm_event(ctx.db, vm, "VM.EXPUNGE", f"Expunged VM {vm.name}: role, VM and disks removed from the "
                       "failover cluster")


@api_command("destroyVirtualMachine", isasync=True, resumable=True, response="virtualmachine",
             description="Destroys a virtual machine; with expunge, removes it from the failover cluster at once.",
             prepare=_prepare_state("Running", "Stopped", "Error", action="destroy"),
             params=[VM_ID, Param("expunge", "boolean", description="If true, expunge the VM immediately")])
def destroy_virtual_machine(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    vm = _vm(ctx, p["id"])
    if vm.state == "Running":
        lifecycle.stop(ctx, vm, force=True)
    answer = _answer(ctx, vm)
    if p.get("expunge"):
        lifecycle.vm_event(ctx.db, vm, "VM.DESTROY", f"Destroyed VM {vm.name}")
        _expunge(ctx, vm)
        answer["virtualmachine"]["state"] = "Expunging"
        return answer
    if vm.role_priority:
        lifecycle.set_priority(ctx, vm, 0)  # a destroyed VM must not be restarted by the cluster
    vm.state = "Destroyed"
    lifecycle.vm_event(ctx.db, vm, "VM.DESTROY", f"Destroyed VM {vm.name}; recoverVirtualMachine brings it back "
                       "until it is expunged")
    return _answer(ctx, vm)


@api_command("expungeVirtualMachine", isasync=True, resumable=True, response="success", roles=ADMIN,
             description="Expunges a destroyed virtual machine: removes its role, VM and disks from the cluster.",
             prepare=_prepare_state("Destroyed", action="expunge", quorum=True), params=[VM_ID])
def expunge_virtual_machine(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    vm = find_by_uuid(ctx.db, VMInstance, p["id"], "virtual machine")
    _expunge(ctx, vm)
    return {"success": True}


@api_command("recoverVirtualMachine", response="virtualmachine", roles=ADMIN,
             description="Recovers a destroyed virtual machine (stopped, role priority restored).", params=[VM_ID])
def recover_virtual_machine(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    vm = _vm(ctx, p["id"])
    _require_state(vm, "Destroyed", action="recover")
    _require_quorum(ctx, vm)
    lifecycle.set_priority(ctx, vm, lifecycle.role_priority(ctx.db, vm.ha_enabled))
    vm.state = "Stopped"
    lifecycle.vm_event(ctx.db, vm, "VM.RECOVER", f"Recovered VM {vm.name}")
    return _answer(ctx, vm)


# ---- migrate ----------------------------------------------------------------------------------------------------

def _prepare_migrate(ctx: CallContext, p: dict[str, Any]) -> JobTarget:
    vm = _vm(ctx, p["virtualmachineid"], "virtualmachineid")
    _require_state(vm, "Running", action="migrate")
    if "hostid" not in p:
        raise param_error("Unable to execute API command migratevirtualmachine due to missing parameter hostid")
    target = find_by_uuid(ctx.db, Host, p["hostid"], "host", "hostid")
    if target.cluster_id != vm.cluster_id:
        raise param_error(f"Host {target.name} is not in the failover cluster of {vm.name}: a clustered VM "
                          "live-migrates only between nodes of its cluster")
    if target.id == vm.host_id:
        raise param_error(f"VM {vm.name} already runs on host {target.name}")
    if target.status != "Up" or target.resource_state != "Enabled":
        raise param_error(f"Host {target.name} is {target.status}/{target.resource_state}; it cannot take VMs")
    _require_quorum(ctx, vm)
    return JobTarget("VirtualMachine", vm.uuid)


@api_command("migrateVirtualMachine", isasync=True, resumable=True, response="virtualmachine", roles=ADMIN,
             description="Live-migrates a running virtual machine to another host of its failover cluster "
             "(Move-ClusterVirtualMachineRole).", prepare=_prepare_migrate,
             params=[Param("virtualmachineid", "uuid", required=True, description="the ID of the virtual machine"),
                     Param("hostid", "uuid", description="Destination Host ID to migrate VM to."),
                     Param("storageid", "uuid", description="not supported: VMs stay on their CSV")])
def migrate_virtual_machine(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    vm = _vm(ctx, p["virtualmachineid"], "virtualmachineid")
    target = find_by_uuid(ctx.db, Host, p["hostid"], "host", "hostid")
    source = _host_name(ctx, vm)
    if vm.host_id != target.id:
        lifecycle.move(ctx, vm, target)
    lifecycle.vm_event(ctx.db, vm, "VM.MIGRATE", f"Live-migrated VM {vm.name} from {source} to {target.name}")
    return _answer(ctx, vm)


# ---- update, scale -------------------------------------------------------------------------------------------

@api_command("updateVirtualMachine", response="virtualmachine",
             description="Updates properties of a virtual machine; haenable changes its failover-cluster role's "
             "priority (hyperv.ha.role.priority, or 0 = No Auto Start).",
             params=[VM_ID, Param("displayname", description="user generated name"),
                     Param("haenable", "boolean", description="true if high-availability is enabled for the VM"),
                     Param("group", description="group of the virtual machine"),
                     Param("name", description="new host name of the vm", length=63)])
def update_virtual_machine(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    vm = _vm(ctx, p["id"])
    if vm.state in ("Destroyed", "Expunging", "Error"):
        raise param_error(f"VM {vm.name} is {vm.state}")
    # Every check before the first change in the failover cluster: a refusal must leave the cluster as it was.
    if "name" in p:
        _require_state(vm, "Stopped", action="rename")
        owner = ctx.db.get(Account, vm.account_id)
        assert owner is not None
        _check_name(ctx.db, p["name"], owner, vm)
    changes = []
    if "haenable" in p and p["haenable"] != vm.ha_enabled:
        _require_quorum(ctx, vm)
        if vm.role_priority is not None:
            lifecycle.set_priority(ctx, vm, lifecycle.role_priority(ctx.db, p["haenable"]))
        vm.ha_enabled = p["haenable"]
        changes.append(f"HA {'enabled' if vm.ha_enabled else 'disabled'} (role priority {vm.role_priority})")
    if "displayname" in p:
        vm.display_name = p["displayname"]
        changes.append(f"display name {vm.display_name}")
    if "group" in p:
        vm.group_name = p["group"]
    if "name" in p:
        vm.name = p["name"]
    lifecycle.vm_event(ctx.db, vm, "VM.UPDATE", f"Updated VM {vm.name}: {', '.join(changes) or 'no change'}")
    return _answer(ctx, vm)


def _new_offering(ctx: CallContext, vm: VMInstance, p: dict[str, Any]) -> ServiceOffering:
    offering = find_by_uuid(ctx.db, ServiceOffering, p["serviceofferingid"], "service offering", "serviceofferingid")
    if offering.offer_ha != vm.ha_enabled:
        raise param_error("The new offering must have the same Offer HA as the current one (use updateVirtualMachine "
                          "haenable to change HA)")
    return offering


def _rescale(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    vm = _vm(ctx, p["id"])
    _require_state(vm, "Stopped", action="change the offering of (stop it first)")
    offering = _new_offering(ctx, vm, p)
    account = ctx.db.get(Account, vm.account_id)
    assert account is not None
    if offering.cpu > vm.cpu:
        check_limit(ctx.db, account, 8, offering.cpu - vm.cpu)
    if offering.ram_size > vm.ram_size:
        check_limit(ctx.db, account, 9, offering.ram_size - vm.ram_size)
    _require_quorum(ctx, vm)
    lifecycle.set_resources(ctx, vm, offering.cpu, offering.ram_size)
    vm.service_offering_id, vm.cpu, vm.speed, vm.ram_size = offering.id, offering.cpu, offering.speed, offering.ram_size
    lifecycle.vm_event(ctx.db, vm, "VM.UPGRADE", f"Changed the offering of VM {vm.name} to {offering.name}")
    return _answer(ctx, vm)


SCALE_PARAMS = [VM_ID, Param("serviceofferingid", "uuid", required=True, description="the new service offering")]


@api_command("changeServiceForVirtualMachine", response="virtualmachine", params=SCALE_PARAMS,
             description="Changes the service offering of a stopped virtual machine.")
def change_service_for_virtual_machine(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    return _rescale(ctx, p)


def _prepare_scale(ctx: CallContext, p: dict[str, Any]) -> JobTarget:
    vm = _vm(ctx, p["id"])
    _require_state(vm, "Stopped", action="scale (stop it first)")
    _new_offering(ctx, vm, p)
    return JobTarget("VirtualMachine", vm.uuid)


@api_command("scaleVirtualMachine", isasync=True, response="success", params=SCALE_PARAMS, prepare=_prepare_scale,
             description="Scales a stopped virtual machine to a new service offering.")
def scale_virtual_machine(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    _rescale(ctx, p)
    return {"success": True}
