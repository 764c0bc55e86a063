"""Instances (user VMs) and their volumes, as CloudStack's VMInstanceVO/UserVmVO and VolumeVO hold them.

An instance's internal name is CloudStack's `i-<account id>-<vm id>-VM`; on a Hyper-V failover cluster it is
also the name of the VM and of its cluster role. `host_id` is where the VM runs now (the failover cluster
decides for clustered VMs), `last_host_id` where it last ran; `update_count` increases with every state change
so that two writers can compare-and-set the state (CloudStack's VMInstanceVO.updated).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clusterstack.server.db.base import Base, Entity, UtcDateTime
from clusterstack.server.db.models.infrastructure import HYPERVISOR_HYPERV

# CloudStack's VirtualMachine.State
VM_STATES = ("Starting", "Running", "Stopping", "Stopped", "Migrating", "Error", "Unknown", "Shutdown",
             "Destroyed", "Expunging")
# CloudStack's VirtualMachine.PowerState
POWER_STATES = ("PowerOn", "PowerOff", "PowerUnknown", "PowerReportMissing")
VM_TYPE_USER = "User"

# CloudStack's Volume.Type and Volume.State
VOLUME_TYPES = ("ROOT", "DATADISK")
VOLUME_STATES = ("Allocated", "Creating", "Ready", "Resizing", "Migrating", "Attaching", "UploadOp",
                 "Destroy", "Expunging", "Expunged")


def instance_name(account_id: int, vm_id: int) -> str:
    """CloudStack's internal name of a user VM: i-<account id>-<vm id>-VM."""
    return f"i-{account_id}-{vm_id}-VM"


class VMInstance(Entity, Base):
    __tablename__ = "vm_instance"
    __table_args__ = (
        # listVirtualMachines filters: the caller's account (users), state, placement
        Index("ix_vm_instance_account_removed", "account_id", "removed"),
        Index("ix_vm_instance_domain_removed", "domain_id", "removed"),
    )

    name: Mapped[str] = mapped_column(String(255), index=True)  # the hostname
    display_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    instance_name: Mapped[str | None] = mapped_column(String(255), unique=True, nullable=True)  # set once id known
    vm_type: Mapped[str] = mapped_column(String(32), default=VM_TYPE_USER)
    state: Mapped[str] = mapped_column(String(32), default="Stopped", index=True)
    ha_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # the failover cluster role's priority (3000/2000/1000, 0 = No Auto Start), once registered
    role_priority: Mapped[int | None] = mapped_column(Integer, nullable=True)
    service_offering_id: Mapped[int] = mapped_column(ForeignKey("service_offering.id"), index=True)
    disk_offering_id: Mapped[int | None] = mapped_column(ForeignKey("disk_offering.id"), nullable=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("vm_template.id"), nullable=True, index=True)
    iso_id: Mapped[int | None] = mapped_column(ForeignKey("vm_template.id"), nullable=True)
    guest_os_id: Mapped[int | None] = mapped_column(ForeignKey("guest_os.id"), nullable=True)
    hypervisor_type: Mapped[str] = mapped_column(String(32), default=HYPERVISOR_HYPERV)
    zone_id: Mapped[int] = mapped_column(ForeignKey("data_center.id"), index=True)
    pod_id: Mapped[int | None] = mapped_column(ForeignKey("host_pod_ref.id"), nullable=True, index=True)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("cluster.id"), nullable=True, index=True)
    host_id: Mapped[int | None] = mapped_column(ForeignKey("host.id"), nullable=True, index=True)
    last_host_id: Mapped[int | None] = mapped_column(ForeignKey("host.id"), nullable=True, index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    domain_id: Mapped[int] = mapped_column(ForeignKey("domain.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), nullable=True)
    cpu: Mapped[int] = mapped_column(Integer)  # cores
    speed: Mapped[int] = mapped_column(Integer)  # MHz per core
    ram_size: Mapped[int] = mapped_column(Integer)  # MB
    power_state: Mapped[str] = mapped_column(String(32), default="PowerUnknown")
    power_state_update_time: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    power_host_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # host of the last power report
    update_count: Mapped[int] = mapped_column(BigInteger, default=0)
    update_time: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    group_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    display_vm: Mapped[bool] = mapped_column(Boolean, default=True)
    user_data: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON of key/value details


class Volume(Entity, Base):
    """A virtual disk (VHDX) of an instance on primary storage: `path` is its file on the CSV."""

    __tablename__ = "volumes"
    __table_args__ = (Index("ix_volumes_account_removed", "account_id", "removed"),)

    name: Mapped[str] = mapped_column(String(255), index=True)
    volume_type: Mapped[str] = mapped_column(String(16))  # ROOT | DATADISK
    state: Mapped[str] = mapped_column(String(32), default="Allocated", index=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes (virtual size)
    format: Mapped[str] = mapped_column(String(16), default="VHDX")
    provisioning_type: Mapped[str] = mapped_column(String(16), default="thin")
    path: Mapped[str | None] = mapped_column(String(1024), nullable=True)  # e.g. C:\ClusterStorage\Volume1\...
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("storage_pool.id"), nullable=True, index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("vm_instance.id"), nullable=True, index=True)
    device_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 0 for ROOT
    zone_id: Mapped[int] = mapped_column(ForeignKey("data_center.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    domain_id: Mapped[int] = mapped_column(ForeignKey("domain.id"), index=True)
    disk_offering_id: Mapped[int | None] = mapped_column(ForeignKey("disk_offering.id"), nullable=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("vm_template.id"), nullable=True)
    min_iops: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_iops: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    attached: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    display_volume: Mapped[bool] = mapped_column(Boolean, default=True)
    update_count: Mapped[int] = mapped_column(BigInteger, default=0)
