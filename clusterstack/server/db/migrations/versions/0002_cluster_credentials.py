"""the account a cluster's driver connects as (its password encrypted with the server's secret.key)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cluster") as batch:
        batch.add_column(sa.Column("username", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("password_encrypted", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cluster") as batch:
        batch.drop_column("password_encrypted")
        batch.drop_column("username")
