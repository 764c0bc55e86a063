"""Which management server follows which failover cluster (a lease, renewed while it follows)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from clusterstack.server.db.base import Base, UtcDateTime


class ClusterSyncLease(Base):
    __tablename__ = "cluster_sync_lease"

    cluster_id: Mapped[int] = mapped_column(ForeignKey("cluster.id", ondelete="CASCADE"), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))  # the management server's msid
    expires: Mapped[datetime] = mapped_column(UtcDateTime())
    renewals: Mapped[int] = mapped_column(Integer, default=0)
