"""the hypervisor is stored under CloudStack's name for it, Hyperv (its HypervisorType), not the product's Hyper-V

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# (table, column) pairs that hold a hypervisor name
HYPERVISOR_COLUMNS = (
    ("cluster", "hypervisor_type"),
    ("host", "hypervisor_type"),
    ("storage_pool", "hypervisor"),
    ("vm_template", "hypervisor_type"),
    ("vm_instance", "hypervisor_type"),
)


def _rename(old: str, new: str) -> None:
    for table, column in HYPERVISOR_COLUMNS:
        column_ref = sa.column(column, sa.String)
        op.execute(sa.table(table, column_ref).update().where(column_ref == old).values({column: new}))


def upgrade() -> None:
    _rename("Hyper-V", "Hyperv")


def downgrade() -> None:
    _rename("Hyperv", "Hyper-V")
