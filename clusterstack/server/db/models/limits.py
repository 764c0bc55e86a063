"""Resource limits and counts per account and per domain (CloudStack's resource_limit and resource_count).

A limit row exists only where an administrator set one; otherwise the default applies (a setting for
accounts and domains, unlimited for the ROOT domain and for root admin accounts). Counts are kept per
owner and can be recalculated from the rows they count (updateResourceCount).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clusterstack.server.db.base import Base

# CloudStack's Resource.ResourceType: ordinal -> name
RESOURCE_TYPES: dict[int, str] = {
    0: "user_vm",
    1: "public_ip",
    2: "volume",
    3: "snapshot",
    4: "template",
    5: "project",
    6: "network",
    7: "vpc",
    8: "cpu",
    9: "memory",
    10: "primary_storage",
    11: "secondary_storage",
}
RESOURCE_TYPE_BY_NAME = {name: number for number, name in RESOURCE_TYPES.items()}
UNLIMITED = -1


class ResourceLimit(Base):
    """An explicit limit for one account or one domain (exactly one of the two is set)."""

    __tablename__ = "resource_limit"
    __table_args__ = (
        UniqueConstraint("type", "account_id", "domain_id", name="uq_resource_limit_owner"),
        CheckConstraint("(account_id IS NULL) <> (domain_id IS NULL)", name="ck_resource_limit_one_owner"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    type: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True, index=True)
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domain.id"), nullable=True, index=True)
    max: Mapped[int] = mapped_column(BigInteger, default=UNLIMITED)


class ResourceCount(Base):
    """How much of a resource type an account or a domain (its whole subtree) uses."""

    __tablename__ = "resource_count"
    __table_args__ = (
        UniqueConstraint("type", "account_id", "domain_id", name="uq_resource_count_owner"),
        CheckConstraint("(account_id IS NULL) <> (domain_id IS NULL)", name="ck_resource_count_one_owner"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    type: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True, index=True)
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domain.id"), nullable=True, index=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
