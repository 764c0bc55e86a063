"""Events (what happened, listEvents) and alerts (what needs an operator, listAlerts)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clusterstack.server.db.base import Base, Entity, UtcDateTime


class Event(Entity, Base):
    __tablename__ = "event"

    type: Mapped[str] = mapped_column(String(64), index=True)          # CloudStack's event type: VM.CREATE ...
    state: Mapped[str] = mapped_column(String(16), default="Completed")  # Created, Scheduled, Started, Completed
    level: Mapped[str] = mapped_column(String(8), default="INFO")       # INFO, WARN, ERROR
    description: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    account_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    domain_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    resource_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    resource_uuid: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    resource_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    start_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the Started event a Completed one closes
    archived: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class Alert(Entity, Base):
    __tablename__ = "alert"

    type: Mapped[int] = mapped_column(Integer, index=True)  # CloudStack's AlertManager type number
    name: Mapped[str] = mapped_column(String(64))           # e.g. ALERT.HOST, ALERT.MANAGEMENT
    subject: Mapped[str] = mapped_column(String(999))
    description: Mapped[str] = mapped_column(Text, default="")
    zone_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pod_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cluster_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    resource_uuid: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    last_sent: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
