"""Async jobs (CloudStack's async_job): what was asked, by whom, its state, its result, who runs it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clusterstack.server.db.base import Base, Entity, UtcDateTime

JOB_PENDING = 0
JOB_SUCCEEDED = 1
JOB_FAILED = 2
JOB_STATE_NAMES = {JOB_PENDING: "pending", JOB_SUCCEEDED: "succeeded", JOB_FAILED: "failed"}


class AsyncJob(Entity, Base):
    __tablename__ = "async_job"
    __table_args__ = (Index("ix_async_job_status_lease", "status", "lease_expires"),)

    user_id: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    domain_id: Mapped[int] = mapped_column(Integer, index=True)
    cmd: Mapped[str] = mapped_column(String(255))  # the API command name
    params: Mapped[str] = mapped_column(Text)  # JSON of the request's own parameters
    instance_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    instance_uuid: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    status: Mapped[int] = mapped_column(Integer, default=JOB_PENDING)
    proc_status: Mapped[int] = mapped_column(Integer, default=0)
    result_code: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON
    owner_msid: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the server running it
    lease_expires: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
