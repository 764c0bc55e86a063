"""what CloudStack's own tests look for: accounts that need cleanup, resource tags, the I/O fields of offerings

- account.needs_cleanup (CloudStack's column): a removed account whose resources are not all released yet.
- resource_tags (CloudStack's table): createTags, deleteTags, listTags and the tags[0].key= filters.
- disk and service offerings: encrypt / encryptroot, cache mode, bytes and IOPS read/write limits with their
  max and max-length variants, hypervisor snapshot reserve; service offerings: customized IOPS, min/max IOPS and
  the system VM type of issystem=true offerings.
- on a new installation (no offering yet), the offerings a fresh CloudStack has: service offerings Small Instance
  and Medium Instance, disk offerings Small, Medium, Large and Custom (ConfigurationServerImpl.persistDefaultValues).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

IO_COLUMNS = tuple(
    f"{kind}_{direction}_rate{suffix}"
    for kind in ("bytes", "iops") for direction in ("read", "write") for suffix in ("", "_max", "_max_length")
)


def _io_columns() -> list[sa.Column[object]]:
    return [*(sa.Column(name, sa.BigInteger(), nullable=True) for name in IO_COLUMNS),
            sa.Column("cache_mode", sa.String(length=16), nullable=True),
            sa.Column("hv_ss_reserve", sa.Integer(), nullable=True)]


def _false(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.add_column(_false("needs_cleanup"))
    op.create_table(
        "resource_tags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("resource_type", sa.String(length=255), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("resource_uuid", sa.String(length=255), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("customer", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["domain_id"], ["domain.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
        sa.UniqueConstraint("resource_type", "resource_id", "key", name="uq_resource_tags_resource_key"),
    )
    with op.batch_alter_table("resource_tags") as batch:
        batch.create_index("ix_resource_tags_type_key_value", ["resource_type", "key", "value"], unique=False)
        batch.create_index(batch.f("ix_resource_tags_resource_uuid"), ["resource_uuid"], unique=False)
        batch.create_index(batch.f("ix_resource_tags_account_id"), ["account_id"], unique=False)
        batch.create_index(batch.f("ix_resource_tags_domain_id"), ["domain_id"], unique=False)
    with op.batch_alter_table("disk_offering") as batch:
        for column in _io_columns():
            batch.add_column(column)
        batch.add_column(_false("encrypt"))
    with op.batch_alter_table("service_offering") as batch:
        for column in _io_columns():
            batch.add_column(column)
        batch.add_column(sa.Column("system_vm_type", sa.String(length=32), nullable=True))
        batch.add_column(_false("encrypt_root"))
        batch.add_column(_false("customized_iops"))
        batch.add_column(sa.Column("min_iops", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("max_iops", sa.BigInteger(), nullable=True))
    _default_offerings()


# CloudStack's ConfigurationServerImpl: createServiceOffering(name, cpu, ramSize, speed, displayText, THIN, local
# storage false, offerHA false) and createDefaultDiskOffering(name, description, THIN, GiB, customized)
DEFAULT_SERVICE_OFFERINGS = (("Small Instance", 1, 512, 500), ("Medium Instance", 1, 1024, 1000))
DEFAULT_DISK_OFFERINGS = (("Small", "Small Disk, 5 GB", 5, False), ("Medium", "Medium Disk, 20 GB", 20, False),
                          ("Large", "Large Disk, 100 GB", 100, False), ("Custom", "Custom Disk", 0, True))


def _seed_uuid(kind: str, name: str) -> str:
    """The same id on every new installation (as catalog.seed_uuid: the migration does not import the models)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"clusterstack:{kind}:{name}"))


def _default_offerings() -> None:
    bind = op.get_bind()
    service = sa.table("service_offering", *(sa.column(name) for name in (
        "uuid", "created", "name", "display_text", "cpu", "speed", "ram_size", "storage_type", "provisioning_type",
        "offer_ha", "limit_cpu_use", "is_volatile", "system_use", "sort_key", "state")))
    disk = sa.table("disk_offering", *(sa.column(name) for name in (
        "uuid", "created", "name", "display_text", "disk_size", "customized", "storage_type", "provisioning_type",
        "customized_iops", "display_offering", "sort_key", "state")))
    if bind.execute(sa.select(sa.func.count()).select_from(service)).scalar() or \
            bind.execute(sa.select(sa.func.count()).select_from(disk)).scalar():
        return  # not a new installation: its operator has chosen its offerings
    now = datetime.now(UTC).replace(tzinfo=None)
    op.bulk_insert(service, [
        {"uuid": _seed_uuid("service_offering", name), "created": now, "name": name, "display_text": name,
         "cpu": cpu, "speed": speed, "ram_size": ram, "storage_type": "shared", "provisioning_type": "thin",
         "offer_ha": False, "limit_cpu_use": False, "is_volatile": False, "system_use": False, "sort_key": 0,
         "state": "Active"}
        for name, cpu, ram, speed in DEFAULT_SERVICE_OFFERINGS])
    op.bulk_insert(disk, [
        {"uuid": _seed_uuid("disk_offering", name), "created": now, "name": name, "display_text": text,
         "disk_size": gib * 1024**3, "customized": customized, "storage_type": "shared", "provisioning_type": "thin",
         "customized_iops": False, "display_offering": True, "sort_key": 0, "state": "Active"}
        for name, text, gib, customized in DEFAULT_DISK_OFFERINGS])


def downgrade() -> None:
    with op.batch_alter_table("service_offering") as batch:
        for name in ("max_iops", "min_iops", "customized_iops", "encrypt_root", "system_vm_type", "hv_ss_reserve",
                     "cache_mode", *IO_COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table("disk_offering") as batch:
        for name in ("encrypt", "hv_ss_reserve", "cache_mode", *IO_COLUMNS):
            batch.drop_column(name)
    op.drop_table("resource_tags")
    with op.batch_alter_table("account") as batch:
        batch.drop_column("needs_cleanup")
