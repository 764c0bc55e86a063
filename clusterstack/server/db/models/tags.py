"""Resource tags (CloudStack's resource_tags, ResourceTagVO): key/value pairs users put on their resources.

A tag names its resource by type (CloudStack's ResourceObjectType: UserVm, Volume, Template, ISO) and by both
ids; it belongs to the resource's owner. CloudStack deletes tags for good (the table has no `removed`), and so
does clusterstack.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clusterstack.server.db.base import Base, new_uuid

# CloudStack's ResourceObjectType names for what clusterstack has, in the case clients send them (matched without
# regard to case on input, as CloudStack's ResourceObjectType lookup does)
TAGGABLE_TYPES = ("UserVm", "Volume", "Template", "ISO")


class ResourceTag(Base):
    __tablename__ = "resource_tags"
    __table_args__ = (
        UniqueConstraint("resource_type", "resource_id", "key", name="uq_resource_tags_resource_key"),
        Index("ix_resource_tags_type_key_value", "resource_type", "key", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))
    resource_type: Mapped[str] = mapped_column(String(255))
    resource_id: Mapped[int] = mapped_column(Integer)
    resource_uuid: Mapped[str] = mapped_column(String(255), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domain.id"), index=True)
    customer: Mapped[str | None] = mapped_column(String(255), nullable=True)
