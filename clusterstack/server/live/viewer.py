"""Who listens on the live channel, and what of a change they may hear.

A listener is a login session: the sessionkey (given as a parameter, as on the API) must belong to the session
the JSESSIONID cookie names. A root admin hears every topic; a domain admin hears owned topics of its domain
and the domains below; a user those of its own account. Job ids are only ever those of the listener's account.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from clusterstack.server.api.caller import Caller
from clusterstack.server.db.models.identity import Domain
from clusterstack.server.db.models.sessions import LoginSession
from clusterstack.server.identity.authentication import caller_for_session, hash_session_key
from clusterstack.server.live.changes import Change, Owner
from clusterstack.server.state import ServerState


@dataclass(frozen=True)
class Viewer:
    user_id: int
    account_id: int
    root_admin: bool
    # the domains whose owned topics this viewer hears (a domain admin's subtree); empty for a plain user
    domains: frozenset[int] = frozenset()

    def sees(self, owner: Owner) -> bool:
        if self.root_admin:
            return True
        if owner.account_id is not None and owner.account_id == self.account_id:
            return True
        return owner.domain_id is not None and owner.domain_id in self.domains

    def message(self, change: Change) -> tuple[set[str], list[str]]:
        """The topics and finished job ids of `change` this viewer may hear."""
        topics = set(change.infrastructure) if self.root_admin else set()
        for topic, owners in change.owned.items():
            if any(self.sees(owner) for owner in owners):
                topics.add(topic)
        jobs = [job.uuid for job in change.finished_jobs if job.owner.account_id == self.account_id]
        return topics, jobs


def viewer_of(db: Session, caller: Caller) -> Viewer:
    domains: frozenset[int] = frozenset()
    if caller.is_domain_admin and not caller.is_root_admin:
        domains = frozenset(db.scalars(select(Domain.id).where(Domain.path.startswith(caller.domain_path,
                                                                                      autoescape=True),
                                                               Domain.removed.is_(None))))
    return Viewer(user_id=caller.user_id, account_id=caller.account_id, root_admin=caller.is_root_admin,
                  domains=domains)


def _session_matches(db: Session, session_key: str, session_id: str) -> bool:
    session = db.scalar(select(LoginSession).where(LoginSession.key_hash == hash_session_key(session_key)))
    return session is not None and hmac.compare_digest(session.uuid.encode(), session_id.encode())


def authenticate(state: ServerState, session_key: str | None, session_id: str | None, *,
                 touch: bool = True) -> Viewer | None:
    """The viewer of a live login session, or None. With touch=False nothing is written (the session's idle
    time is not reset: an open live channel alone does not keep a session alive)."""
    if not session_key or not session_id:
        return None
    with state.database.session() as db:
        if not _session_matches(db, session_key, session_id):
            return None
        caller = caller_for_session(db, state, session_key)
        viewer = viewer_of(db, caller) if caller is not None else None
        if not touch:
            db.rollback()
        return viewer
