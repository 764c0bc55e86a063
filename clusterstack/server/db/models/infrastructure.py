"""The physical inventory: zones, pods, clusters (one per Hyper-V failover cluster), hosts, primary storage.

Names and states are CloudStack's (DataCenterVO, HostPodVO, ClusterVO, HostVO, StoragePoolVO). Deletes are
soft (`removed`), so names may be reused once a row is removed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clusterstack.server.db.base import Base, Entity, UtcDateTime

# CloudStack's Grouping.AllocationState
ALLOCATION_STATES = ("Enabled", "Disabled")
NETWORK_TYPES = ("Basic", "Advanced")
# CloudStack's Hypervisor.HypervisorType name for Hyper-V is "Hyperv": what the API answers and the database
# holds. On input CloudStack matches it case-insensitively; "Hyper-V", the product's name, is accepted too.
HYPERVISOR_HYPERV = "Hyperv"
HYPERVISORS = (HYPERVISOR_HYPERV,)
HYPERVISOR_SPELLINGS = (HYPERVISOR_HYPERV, "Hyper-V")  # what a `hypervisor` parameter accepts, in any case


def hypervisor_type(name: str) -> str | None:
    """CloudStack's name for a hypervisor given on input ("hyperv", "Hyper-V", ...), or None for one we don't run."""
    spelled = name.strip().lower()
    return HYPERVISOR_HYPERV if spelled in {s.lower() for s in HYPERVISOR_SPELLINGS} else None
CLUSTER_TYPE_CLOUD_MANAGED = "CloudManaged"
CLUSTER_TYPES = (CLUSTER_TYPE_CLOUD_MANAGED,)
# CloudStack's Managed.ManagedState
MANAGED_STATES = ("Managed", "PrepareUnmanaged", "Unmanaged", "PrepareUnmanagedError")
# CloudStack's Status (host connection state) and ResourceState (what the operator asked for)
HOST_STATES = ("Up", "Down", "Alert", "Disconnected", "Connecting", "Disconnecting", "Removed", "Error")
HOST_RESOURCE_STATES = ("Enabled", "Disabled", "PrepareForMaintenance", "Maintenance", "ErrorInMaintenance",
                        "Creating", "Error", "Degraded")
HOST_TYPE_ROUTING = "Routing"
# CloudStack's ScopeType and StoragePoolType (the ones Hyper-V uses) and StoragePoolStatus
STORAGE_SCOPES = ("CLUSTER", "ZONE")
STORAGE_TYPE_PRESETUP = "PreSetup"
STORAGE_TYPE_SMB = "SMB"
STORAGE_POOL_STATES = ("Initial", "Initialized", "Creating", "Attaching", "Up", "PrepareForMaintenance",
                       "ErrorInMaintenance", "CancelMaintenance", "Maintenance", "Disabled", "Removed")


class Zone(Entity, Base):
    __tablename__ = "data_center"

    name: Mapped[str] = mapped_column(String(255), index=True)
    description: Mapped[str | None] = mapped_column(String(255), nullable=True)
    network_type: Mapped[str] = mapped_column(String(16))  # Basic | Advanced
    allocation_state: Mapped[str] = mapped_column(String(16), default="Disabled")
    dns1: Mapped[str] = mapped_column(String(255))
    dns2: Mapped[str | None] = mapped_column(String(255), nullable=True)
    ip6_dns1: Mapped[str | None] = mapped_column(String(255), nullable=True)
    ip6_dns2: Mapped[str | None] = mapped_column(String(255), nullable=True)
    internal_dns1: Mapped[str] = mapped_column(String(255))
    internal_dns2: Mapped[str | None] = mapped_column(String(255), nullable=True)
    guest_cidr: Mapped[str | None] = mapped_column(String(64), nullable=True)
    network_domain: Mapped[str | None] = mapped_column(String(255), nullable=True)
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domain.id"), nullable=True)  # dedicated zone
    local_storage_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    security_group_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    zone_token: Mapped[str] = mapped_column(String(255))
    sort_key: Mapped[int] = mapped_column(Integer, default=0)


class Pod(Entity, Base):
    __tablename__ = "host_pod_ref"

    name: Mapped[str] = mapped_column(String(255), index=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("data_center.id"), index=True)
    gateway: Mapped[str] = mapped_column(String(255))
    netmask: Mapped[str] = mapped_column(String(255))
    start_ip: Mapped[str] = mapped_column(String(64))
    end_ip: Mapped[str] = mapped_column(String(64))
    allocation_state: Mapped[str] = mapped_column(String(16), default="Enabled")

    zone: Mapped[Zone] = relationship(lazy="joined")


class Cluster(Entity, Base):
    """One CloudStack cluster = one Windows failover cluster (WSFC)."""

    __tablename__ = "cluster"

    name: Mapped[str] = mapped_column(String(255), index=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("data_center.id"), index=True)
    pod_id: Mapped[int] = mapped_column(ForeignKey("host_pod_ref.id"), index=True)
    hypervisor_type: Mapped[str] = mapped_column(String(32), default=HYPERVISOR_HYPERV)
    cluster_type: Mapped[str] = mapped_column(String(32), default=CLUSTER_TYPE_CLOUD_MANAGED)
    allocation_state: Mapped[str] = mapped_column(String(16), default="Enabled")
    managed_state: Mapped[str] = mapped_column(String(32), default="Managed")
    cpu_overcommit_ratio: Mapped[float] = mapped_column(Float, default=1.0)
    memory_overcommit_ratio: Mapped[float] = mapped_column(Float, default=1.0)
    # the failover cluster this cluster is: its address (what addCluster's url names) and its WSFC name
    failover_address: Mapped[str | None] = mapped_column(String(255), nullable=True)
    failover_name: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    # the cluster's quorum as last reported (issue 5 keeps it current)
    quorate: Mapped[bool] = mapped_column(Boolean, default=True)
    # the account the driver connects as; the password encrypted with the server's secret.key, never rendered
    username: Mapped[str | None] = mapped_column(String(255), nullable=True)
    password_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)

    zone: Mapped[Zone] = relationship(lazy="joined")
    pod: Mapped[Pod] = relationship(lazy="joined")


class Host(Entity, Base):
    """A Hyper-V host: a node of its cluster's failover cluster."""

    __tablename__ = "host"

    name: Mapped[str] = mapped_column(String(255), index=True)
    type: Mapped[str] = mapped_column(String(32), default=HOST_TYPE_ROUTING)
    status: Mapped[str] = mapped_column(String(32), default="Connecting")  # Up, Down, Alert, ...
    resource_state: Mapped[str] = mapped_column(String(32), default="Enabled")
    zone_id: Mapped[int] = mapped_column(ForeignKey("data_center.id"), index=True)
    pod_id: Mapped[int] = mapped_column(ForeignKey("host_pod_ref.id"), index=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("cluster.id"), index=True)
    hypervisor_type: Mapped[str] = mapped_column(String(32), default=HYPERVISOR_HYPERV)
    hypervisor_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    private_ip_address: Mapped[str | None] = mapped_column(String(255), nullable=True)
    url: Mapped[str | None] = mapped_column(String(255), nullable=True)
    node_name: Mapped[str] = mapped_column(String(255), index=True)  # the failover cluster node's name
    cpus: Mapped[int] = mapped_column(Integer, default=0)
    cpu_speed: Mapped[int] = mapped_column(Integer, default=0)  # MHz
    total_memory: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes
    cpu_allocated: Mapped[int] = mapped_column(BigInteger, default=0)  # MHz promised to instances
    memory_allocated: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes promised to instances
    cpu_used_percent: Mapped[float] = mapped_column(Float, default=0.0)  # as last reported
    memory_used: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes, as last reported
    host_tags: Mapped[str] = mapped_column(Text, default="")  # comma-separated
    os_category_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    annotation: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_pinged: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    disconnected: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    mgmt_server_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    zone: Mapped[Zone] = relationship(lazy="joined")
    pod: Mapped[Pod] = relationship(lazy="joined")
    cluster: Mapped[Cluster] = relationship(lazy="joined")

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.host_tags.split(",") if t]


class StoragePool(Entity, Base):
    """Primary storage: a CSV of one failover cluster (PreSetup) or an SMB share."""

    __tablename__ = "storage_pool"

    name: Mapped[str] = mapped_column(String(255), index=True)
    pool_type: Mapped[str] = mapped_column(String(32))  # PreSetup | SMB
    scope: Mapped[str] = mapped_column(String(16))  # CLUSTER | ZONE
    status: Mapped[str] = mapped_column(String(32), default="Up")
    zone_id: Mapped[int] = mapped_column(ForeignKey("data_center.id"), index=True)
    pod_id: Mapped[int | None] = mapped_column(ForeignKey("host_pod_ref.id"), nullable=True, index=True)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("cluster.id"), nullable=True, index=True)
    hypervisor: Mapped[str | None] = mapped_column(String(32), nullable=True)
    host_address: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(String(1024))  # as given, credentials removed
    provider: Mapped[str] = mapped_column(String(64), default="DefaultPrimary")
    capacity_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    used_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    allocated_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    capacity_iops: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    storage_tags: Mapped[str] = mapped_column(Text, default="")  # comma-separated
    is_tag_a_rule: Mapped[bool] = mapped_column(Boolean, default=False)
    managed: Mapped[bool] = mapped_column(Boolean, default=False)
    # SMB credentials (user, password, domain): JSON encrypted with the server's secret.key; never rendered
    details: Mapped[str | None] = mapped_column(Text, nullable=True)

    zone: Mapped[Zone] = relationship(lazy="joined")
    pod: Mapped[Pod | None] = relationship(lazy="joined")
    cluster: Mapped[Cluster | None] = relationship(lazy="joined")

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.storage_tags.split(",") if t]
