"""Instance work done through the failover cluster: create and register, start, stop, reboot, move, remove.

Every operation leaves nothing half-made: a failed create removes what it made in the cluster and marks the
instance Error; a re-run after a management-server restart adopts a role that already exists instead of
creating it twice. The failover cluster owns placement of clustered VMs, so the instance's host is always read
back from the role's owner node.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from clusterstack.hypervisor.base import (
    PRIORITY_NO_AUTO_START,
    DriverError,
    FailoverClusterDriver,
    InvalidState,
    NotFound,
    RoleReport,
    VhdSpec,
    VmSpec,
)
from clusterstack.server import events, settings
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import ApiError, internal_error
from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.infrastructure import Cluster, Host
from clusterstack.server.db.models.instances import VMInstance, Volume
from clusterstack.server.events import Actor
from clusterstack.server.orchestration.admission import admit_instance
from clusterstack.server.orchestration.cluster_access import as_api_error, driver_for, wake

log = logging.getLogger("clusterstack.server.orchestration.vm_lifecycle")

HA_PRIORITY = settings.define_setting(
    "hyperv.ha.role.priority", 2000, "Hyper-V",
    "Failover-cluster priority of the role of an HA instance: 3000 High, 2000 Medium, 1000 Low",
    choices=(3000, 2000, 1000),
)
OPERATION_TIMEOUT = settings.define_setting(
    "hyperv.operation.timeout", 300, "Hyper-V",
    "Seconds to wait for the failover cluster to start, stop or move a VM", minimum=1,
)


def role_priority(db: Session, ha: bool) -> int:
    return int(settings.get(db, HA_PRIORITY)) if ha else PRIORITY_NO_AUTO_START


def owner_actor(vm: VMInstance) -> Actor:
    return Actor(user_id=vm.user_id, account_id=vm.account_id, domain_id=vm.domain_id)


def vm_event(db: Session, vm: VMInstance, event_type: str, description: str, level: str = "INFO") -> None:
    events.record_event(db, event_type, description, owner_actor(vm), level=level, resource_type="VirtualMachine",
                        resource_uuid=vm.uuid, resource_name=vm.name)


def _cluster(db: Session, vm: VMInstance) -> Cluster:
    cluster = db.get(Cluster, vm.cluster_id) if vm.cluster_id is not None else None
    if cluster is None:
        raise internal_error(f"instance {vm.name} is not placed in a cluster")
    return cluster


def driver_of(ctx: CallContext, vm: VMInstance) -> FailoverClusterDriver:
    return driver_for(ctx.server, _cluster(ctx.db, vm))


def wait_for_role(ctx: CallContext, driver: FailoverClusterDriver, name: str, done: Callable[[RoleReport], bool],
                  what: str, role: RoleReport | None = None) -> RoleReport:
    """Wait until `done(role)`; `role` is the role as last seen (from the call that started the change), if known.

    The driver is asked to answer when the role changes (the simulator answers the moment it does), so a VM
    that comes up in 20 ms is seen in about 20 ms, without a poll loop's sleeps and requests.
    """
    deadline = time.monotonic() + float(settings.get(ctx.db, OPERATION_TIMEOUT))
    seen: RoleReport | None = role
    try:
        if seen is None:
            seen = driver.role(name)
        while True:
            if seen is None:
                raise internal_error(f"the failover cluster no longer has role {name} while waiting for it to "
                                     f"{what}")
            if done(seen):
                return seen
            if seen.state == "Failed":
                raise ApiError(533, f"The failover cluster could not {what} {name}: "
                               f"{seen.information or 'the role failed'}", 4325)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise internal_error(f"{name} did not {what} in time (its role is {seen.state}, VM "
                                     f"{seen.vm_state})")
            seen = driver.wait_for_role_change(seen, min(5.0, remaining))
    except DriverError as exc:
        raise as_api_error(exc) from None


def host_of_node(db: Session, cluster_id: int, node: str | None) -> Host | None:
    if node is None:
        return None
    return db.scalar(select(Host).where(Host.cluster_id == cluster_id, Host.node_name == node,
                                        Host.removed.is_(None)))


def follow_role(db: Session, vm: VMInstance, role: RoleReport) -> None:
    """Record where the cluster runs the VM and in what state."""
    running = role.vm_state in ("Running", "Migrating", "Unmonitored")
    # the owner node's host as a plain row: loading the Host with its zone, pod and cluster cost every deploy
    host = db.execute(select(Host.id, Host.pod_id).where(
        Host.cluster_id == (vm.cluster_id or 0), Host.node_name == role.owner_node, Host.removed.is_(None))
    ).first() if role.owner_node is not None else None
    if running:
        vm.state = "Running"
        vm.host_id = host.id if host else vm.host_id
        vm.power_state = "PowerOn"
    else:
        vm.state = "Stopped"
        vm.last_host_id = host.id if host else (vm.host_id or vm.last_host_id)
        vm.host_id = None
        vm.power_state = "PowerOff"
    if host is not None:
        vm.pod_id = host.pod_id
        vm.power_host_id = host.id
    vm.power_state_update_time = utcnow()
    vm.update_count = (vm.update_count or 0) + 1
    vm.update_time = utcnow()


def root_volume(db: Session, vm: VMInstance) -> Volume | None:
    return db.scalar(select(Volume).where(Volume.instance_id == vm.id, Volume.volume_type == "ROOT",
                                          Volume.removed.is_(None)))


def create_and_register(ctx: CallContext, vm: VMInstance, node: str | None, start: bool) -> RoleReport:
    """New-VM on the CSV + Add-ClusterVirtualMachineRole (+ start), or adopt the role a previous run made."""
    driver = driver_of(ctx, vm)
    name = vm.instance_name or ""
    priority = role_priority(ctx.db, vm.ha_enabled)
    volumes = list(ctx.db.scalars(select(Volume).where(Volume.instance_id == vm.id, Volume.removed.is_(None))
                                  .order_by(Volume.device_id)))
    spec = VmSpec(name=name, cpus=vm.cpu, memory_mb=vm.ram_size, priority=priority,
                  vhds=tuple(VhdSpec(v.path or "", v.size) for v in volumes), node=node, start=start)
    if start:  # HA admission control (hyperv.ha.admission.failures)
        admit_instance(ctx.server, ctx.db, _cluster(ctx.db, vm), name, vm.ram_size, priority, node)
    try:
        role, created_here = driver.create_vm(spec), True
    except InvalidState as exc:
        # a previous run (its server stopped mid-deploy) already made the role: adopt it, never make it twice
        try:
            existing = driver.role(name)
        except DriverError as again:
            raise as_api_error(again, _cluster(ctx.db, vm)) from None
        if existing is None:
            raise as_api_error(exc, _cluster(ctx.db, vm)) from None
        role, created_here = existing, False
    except DriverError as exc:
        raise as_api_error(exc, _cluster(ctx.db, vm)) from None
    try:
        if not created_here and start and role.vm_state == "Off":
            role = driver.start_vm(name)
        vm.role_priority = priority
        for volume in volumes:
            volume.state = "Ready"
            volume.attached = utcnow()
        ctx.db.commit()  # the role exists: record it before waiting for the VM to come up
        if start and role.vm_state != "Running":
            role = wait_for_role(ctx, driver, name, lambda r: r.vm_state == "Running", "start", role)
        follow_role(ctx.db, vm, role)
        return role
    except (ApiError, DriverError) as exc:
        if created_here:
            _remove_quietly(driver, name)
        raise exc if isinstance(exc, ApiError) else as_api_error(exc, _cluster(ctx.db, vm)) from None


def _remove_quietly(driver: FailoverClusterDriver, name: str) -> None:
    with contextlib.suppress(DriverError):
        driver.stop_vm(name, force=True)
    try:
        driver.remove_vm(name)
    except NotFound:
        pass
    except DriverError as exc:
        log.error("could not remove role %s after a failed create: %s", name, exc)


def start(ctx: CallContext, vm: VMInstance) -> RoleReport:
    driver = driver_of(ctx, vm)
    name = vm.instance_name or ""
    admit_instance(ctx.server, ctx.db, _cluster(ctx.db, vm), name, vm.ram_size, role_priority(ctx.db, vm.ha_enabled))
    try:
        role = driver.start_vm(name)
    except DriverError as exc:
        raise as_api_error(exc, _cluster(ctx.db, vm)) from None
    role = wait_for_role(ctx, driver, name, lambda r: r.vm_state == "Running", "start", role)
    follow_role(ctx.db, vm, role)
    return role


def stop(ctx: CallContext, vm: VMInstance, force: bool) -> RoleReport:
    driver = driver_of(ctx, vm)
    name = vm.instance_name or ""
    try:
        role = driver.stop_vm(name, force=force)
    except DriverError as exc:
        raise as_api_error(exc, _cluster(ctx.db, vm)) from None
    role = wait_for_role(ctx, driver, name, lambda r: r.vm_state == "Off", "stop", role)
    follow_role(ctx.db, vm, role)
    return role


def reboot(ctx: CallContext, vm: VMInstance) -> None:
    try:
        driver_of(ctx, vm).reboot_vm(vm.instance_name or "")
    except DriverError as exc:
        raise as_api_error(exc, _cluster(ctx.db, vm)) from None


def move(ctx: CallContext, vm: VMInstance, target: Host) -> RoleReport:
    driver = driver_of(ctx, vm)
    name = vm.instance_name or ""
    try:
        role = driver.move_vm(name, target.node_name, "live")
    except DriverError as exc:
        raise as_api_error(exc, _cluster(ctx.db, vm)) from None
    role = wait_for_role(ctx, driver, name, lambda r: r.owner_node == target.node_name and r.vm_state == "Running",
                         "live-migrate", role)
    follow_role(ctx.db, vm, role)
    return role


def set_priority(ctx: CallContext, vm: VMInstance, priority: int) -> None:
    if vm.state == "Running" and not vm.role_priority:  # HA turned on for a running instance
        admit_instance(ctx.server, ctx.db, _cluster(ctx.db, vm), vm.instance_name or "", vm.ram_size, priority)
    try:
        driver_of(ctx, vm).set_priority(vm.instance_name or "", priority)
    except DriverError as exc:
        raise as_api_error(exc, _cluster(ctx.db, vm)) from None
    vm.role_priority = priority


def set_resources(ctx: CallContext, vm: VMInstance, cpus: int, memory_mb: int) -> None:
    if vm.ha_enabled:  # checked as it will run, at its new size
        admit_instance(ctx.server, ctx.db, _cluster(ctx.db, vm), vm.instance_name or "", memory_mb,
                       role_priority(ctx.db, True))
    try:
        driver_of(ctx, vm).set_resources(vm.instance_name or "", cpus, memory_mb)
    except DriverError as exc:
        raise as_api_error(exc, _cluster(ctx.db, vm)) from None


def remove(ctx: CallContext, vm: VMInstance) -> None:
    """Remove the role, the VM and its VHDs from the cluster (the VM is turned off first)."""
    driver = driver_of(ctx, vm)
    name = vm.instance_name or ""
    try:
        role = driver.role(name)
        if role is not None and role.vm_state != "Off":
            stopping = driver.stop_vm(name, force=True)
            wait_for_role(ctx, driver, name, lambda r: r.vm_state == "Off", "turn off", stopping)
        if role is not None:
            driver.remove_vm(name)
    except NotFound:
        pass
    except DriverError as exc:
        raise as_api_error(exc, _cluster(ctx.db, vm)) from None
    wake(ctx.server, vm.cluster_id or 0)
