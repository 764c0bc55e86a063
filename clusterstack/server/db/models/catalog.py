"""What users deploy from: compute (service) offerings, disk offerings, templates and ISOs, guest OS types.

Names follow CloudStack's VOs (ServiceOfferingVO, DiskOfferingVO, VMTemplateVO, GuestOSVO, GuestOSCategoryVO).
Deletes are soft (`removed`), so an instance keeps pointing at the offering or template it was deployed from.
"""

from __future__ import annotations

import uuid as uuidlib

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from clusterstack.server.db.base import Base, Entity

# CloudStack's ServiceOffering.StorageType and Storage.ProvisioningType
STORAGE_TYPES = ("shared", "local")
PROVISIONING_TYPES = ("thin", "sparse", "fat")
# Offering state (CloudStack 4.19's ServiceOffering.State / DiskOffering.State)
OFFERING_STATES = ("Active", "Inactive")

# CloudStack's Storage.ImageFormat values a Hyper-V cloud uses, and TemplateType
TEMPLATE_FORMATS = ("VHD", "VHDX")
FORMAT_ISO = "ISO"
TEMPLATE_TYPES = ("USER", "SYSTEM", "BUILTIN", "PERHOST", "ROUTING")
# CloudStack's templatefilter / isofilter values
TEMPLATE_FILTERS = ("featured", "self", "selfexecutable", "sharedexecutable", "executable", "community", "all")
# What listTemplates' `status` says once a template is on secondary (here: PreSetup) storage
STATUS_DOWNLOADED = "Download Complete"


# CloudStack's DiskOffering.DiskCacheMode values (cachemode)
CACHE_MODES = ("none", "writeback", "writethrough", "hypervisor_default")
# CloudStack's VirtualMachine.Type values a system offering names (systemvmtype)
SYSTEM_VM_TYPES = ("domainrouter", "consoleproxy", "secondarystoragevm", "internalloadbalancervm")
# The I/O limits an offering sets on its disks (CloudStack's DiskOfferingVO columns), as (parameter, column)
IO_LIMITS = tuple(
    (f"{kind}{direction}rate{suffix}", f"{kind}_{direction}_rate{column}")
    for kind in ("bytes", "iops") for direction in ("read", "write")
    for suffix, column in (("", ""), ("max", "_max"), ("maxlength", "_max_length"))
)


class DiskIoColumns:
    """What CloudStack's disk offerings (and a service offering's root disk) say about I/O: read/write limits in
    bytes and IOPS per second with their bursts (max, max length in seconds), cache mode, and the hypervisor
    snapshot reserve (a percentage)."""

    bytes_read_rate: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    bytes_read_rate_max: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    bytes_read_rate_max_length: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    bytes_write_rate: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    bytes_write_rate_max: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    bytes_write_rate_max_length: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    iops_read_rate: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    iops_read_rate_max: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    iops_read_rate_max_length: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    iops_write_rate: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    iops_write_rate_max: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    iops_write_rate_max_length: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    cache_mode: Mapped[str | None] = mapped_column(String(16), nullable=True)
    hv_ss_reserve: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ServiceOffering(DiskIoColumns, Entity, Base):
    """A compute offering: CPU cores and speed, memory, and whether its instances are HA (`offerha`)."""

    __tablename__ = "service_offering"

    name: Mapped[str] = mapped_column(String(255), index=True)
    display_text: Mapped[str] = mapped_column(String(4096))
    cpu: Mapped[int] = mapped_column(Integer)  # number of cores
    speed: Mapped[int] = mapped_column(Integer)  # MHz per core
    ram_size: Mapped[int] = mapped_column(Integer)  # MB
    storage_type: Mapped[str] = mapped_column(String(16), default="shared")  # shared | local
    provisioning_type: Mapped[str] = mapped_column(String(16), default="thin")  # thin | sparse | fat
    offer_ha: Mapped[bool] = mapped_column(Boolean, default=False)
    limit_cpu_use: Mapped[bool] = mapped_column(Boolean, default=False)
    is_volatile: Mapped[bool] = mapped_column(Boolean, default=False)
    host_tag: Mapped[str | None] = mapped_column(String(4096), nullable=True)  # comma-separated
    tags: Mapped[str | None] = mapped_column(String(4096), nullable=True)  # storage tags, comma-separated
    network_rate: Mapped[int | None] = mapped_column(Integer, nullable=True)  # Mb/s
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domain.id"), nullable=True, index=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("data_center.id"), nullable=True, index=True)
    system_use: Mapped[bool] = mapped_column(Boolean, default=False)
    system_vm_type: Mapped[str | None] = mapped_column(String(32), nullable=True)  # with system_use
    sort_key: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="Active")
    # the root disk: encrypted, IOPS given at deploy (customizediops) or fixed here
    encrypt_root: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    customized_iops: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    min_iops: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_iops: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    @property
    def host_tag_list(self) -> list[str]:
        return [t.strip() for t in (self.host_tag or "").split(",") if t.strip()]


class DiskOffering(DiskIoColumns, Entity, Base):
    """A data disk offering: a fixed size in GB, or `customized` (the size is given at createVolume)."""

    __tablename__ = "disk_offering"

    name: Mapped[str] = mapped_column(String(255), index=True)
    display_text: Mapped[str] = mapped_column(String(4096))
    disk_size: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes; 0 when customized
    customized: Mapped[bool] = mapped_column(Boolean, default=False)
    storage_type: Mapped[str] = mapped_column(String(16), default="shared")
    provisioning_type: Mapped[str] = mapped_column(String(16), default="thin")
    tags: Mapped[str | None] = mapped_column(String(4096), nullable=True)  # storage tags
    min_iops: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_iops: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    customized_iops: Mapped[bool] = mapped_column(Boolean, default=False)
    encrypt: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    display_offering: Mapped[bool] = mapped_column(Boolean, default=True)
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domain.id"), nullable=True, index=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("data_center.id"), nullable=True, index=True)
    sort_key: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="Active")


class GuestOSCategory(Entity, Base):
    __tablename__ = "guest_os_category"

    name: Mapped[str] = mapped_column(String(255), unique=True)


class GuestOS(Entity, Base):
    """An OS type (listOsTypes): what a template says it runs, so the hypervisor can pick settings."""

    __tablename__ = "guest_os"

    category_id: Mapped[int] = mapped_column(ForeignKey("guest_os_category.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(255), unique=True)
    is_user_defined: Mapped[bool] = mapped_column(Boolean, default=False)
    for_display: Mapped[bool] = mapped_column(Boolean, default=True)


class VMTemplate(Entity, Base):
    """A template (VHD/VHDX disk image) or an ISO (format ISO), owned by an account.

    clusterstack's primary storage is a Cluster Shared Volume set up outside CloudStack (PreSetup), so a
    registered image is recorded as already in place ("Download Complete", ready); nothing is downloaded.
    """

    __tablename__ = "vm_template"

    name: Mapped[str] = mapped_column(String(255), index=True)
    display_text: Mapped[str] = mapped_column(String(4096))
    format: Mapped[str] = mapped_column(String(16), index=True)  # VHD | VHDX | ISO
    hypervisor_type: Mapped[str | None] = mapped_column(String(32), nullable=True)  # Hyper-V; None for ISOs
    template_type: Mapped[str] = mapped_column(String(16), default="USER")
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    checksum: Mapped[str | None] = mapped_column(String(255), nullable=True)
    guest_os_id: Mapped[int | None] = mapped_column(ForeignKey("guest_os.id"), nullable=True, index=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("data_center.id"), nullable=True, index=True)
    cross_zones: Mapped[bool] = mapped_column(Boolean, default=False)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domain.id"), index=True)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    extractable: Mapped[bool] = mapped_column(Boolean, default=False)
    bootable: Mapped[bool] = mapped_column(Boolean, default=True)
    password_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    requires_hvm: Mapped[bool] = mapped_column(Boolean, default=True)
    dynamically_scalable: Mapped[bool] = mapped_column(Boolean, default=False)
    bits: Mapped[int] = mapped_column(Integer, default=64)
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # bytes, virtual size when known
    status: Mapped[str] = mapped_column(String(64), default=STATUS_DOWNLOADED)
    ready: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_key: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON of key/value details

    @property
    def is_iso(self) -> bool:
        return self.format == FORMAT_ISO


def seed_uuid(kind: str, name: str) -> str:
    """The same UUID for a seeded row on every installation (and for servers seeding one database at once)."""
    return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"clusterstack:{kind}:{name}"))


# CloudStack's guest OS categories and the common guest OS types among its seeded ones (display names as
# CloudStack spells them). Hyper-V runs these; Windows Server 2012 R2 and later are Hyper-V's own generation.
GUEST_OS_CATEGORIES: tuple[str, ...] = ("CentOS", "Debian", "Oracle", "RedHat", "SUSE", "Windows", "Other",
                                        "Novel", "Unix", "Ubuntu", "None")
GUEST_OS_TYPES: tuple[tuple[str, str], ...] = (
    ("Windows", "Windows Server 2012 R2 (64-bit)"),
    ("Windows", "Windows Server 2016 (64-bit)"),
    ("Windows", "Windows Server 2019 (64-bit)"),
    ("Windows", "Windows Server 2022 (64-bit)"),
    ("Windows", "Windows 10 (64-bit)"),
    ("CentOS", "CentOS 7"),
    ("Ubuntu", "Ubuntu 20.04 LTS"),
    ("Ubuntu", "Ubuntu 22.04 LTS"),
    ("Debian", "Debian GNU/Linux 11 (64-bit)"),
    ("Debian", "Debian GNU/Linux 12 (64-bit)"),
    ("RedHat", "Red Hat Enterprise Linux 9"),
    ("Oracle", "Oracle Linux 8"),
    ("SUSE", "SUSE Linux Enterprise Server 15 (64-bit)"),
    ("Other", "Other Linux (64-bit)"),
    ("Other", "Other (64-bit)"),
    ("Other", "Other (32-bit)"),
)
