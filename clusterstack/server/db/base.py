"""Declarative base and the columns every CloudStack entity carries."""

from __future__ import annotations

import uuid as uuidlib
from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_uuid() -> str:
    return str(uuidlib.uuid4())


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored naive-in-UTC on every backend and returned timezone-aware (UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class Entity:
    """Mixin: internal integer id, public UUID (what the API shows as `id`), creation and removal time.

    CloudStack never shows internal ids on the API; `uuid` is the API id. `removed` marks soft deletes.
    """

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, index=True, default=new_uuid)
    created: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    removed: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, default=None)
