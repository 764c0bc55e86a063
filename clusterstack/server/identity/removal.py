"""Removing users: their sessions end, their API keys stop working, and the rows are soft-deleted.

CloudStack's cleanupAccount removes an account's users first (AccountManagerImpl.cleanupAccount), so that nobody
acts for the account while its resources are released.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.identity import User
from clusterstack.server.db.models.sessions import LoginSession


def drop_sessions(db: Session, user_ids: Any) -> None:
    """End every login session of these users (a list of ids or a SELECT of them)."""
    db.execute(delete(LoginSession).where(LoginSession.user_id.in_(user_ids)))


def remove_users_of(db: Session, account_ids: list[int]) -> int:
    """Remove every live user of these accounts: disabled, keys dropped, sessions ended. Answers how many."""
    user_ids = list(db.scalars(select(User.id).where(User.account_id.in_(account_ids), User.removed.is_(None))))
    if user_ids:
        db.execute(update(User).where(User.id.in_(user_ids))
                   .values(removed=utcnow(), state="disabled", api_key=None, secret_key_encrypted=None))
        drop_sessions(db, user_ids)
    return len(user_ids)
