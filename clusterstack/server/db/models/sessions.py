"""Login sessions, kept in the database so that every management server sharing it knows them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from clusterstack.server.db.base import Base, Entity, UtcDateTime, utcnow


class LoginSession(Entity, Base):
    """One `login`: the SHA-256 of its sessionkey (never the key itself), whose it is and when it was last used.

    `uuid` is the value of the JSESSIONID cookie; it identifies the session but does not authenticate anything.
    """

    __tablename__ = "login_session"

    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    last_access: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
