"""Global configuration values an operator has changed (defaults live in server/settings.py)."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clusterstack.server.db.base import Base


class ConfigurationValue(Base):
    __tablename__ = "configuration"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text, nullable=True)
