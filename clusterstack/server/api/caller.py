"""Who is calling: the authenticated user, its account, domain and role, as plain values."""

from __future__ import annotations

from dataclasses import dataclass

from clusterstack.server.db.models.identity import (
    ACCOUNT_TYPE_ADMIN,
    ACCOUNT_TYPE_DOMAIN_ADMIN,
    ROLE_TYPE_ADMIN,
    ROLE_TYPE_DOMAIN_ADMIN,
)
from clusterstack.server.events import Actor


@dataclass(frozen=True)
class Caller:
    user_id: int
    user_uuid: str
    username: str
    account_id: int
    account_uuid: str
    account_name: str
    account_type: int
    domain_id: int
    domain_uuid: str
    domain_name: str
    domain_path: str  # "/" for ROOT, "/Child/" ...
    role_id: int
    role_type: str
    session_key: str | None = None  # set when the caller authenticated with a login session

    @property
    def is_root_admin(self) -> bool:
        return self.role_type == ROLE_TYPE_ADMIN or self.account_type == ACCOUNT_TYPE_ADMIN

    @property
    def is_domain_admin(self) -> bool:
        return self.role_type == ROLE_TYPE_DOMAIN_ADMIN or self.account_type == ACCOUNT_TYPE_DOMAIN_ADMIN

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user_id, account_id=self.account_id, domain_id=self.domain_id)

    def owns_domain_path(self, path: str) -> bool:
        """True when `path` is this caller's domain or below it (what a domain admin may manage)."""
        return path.startswith(self.domain_path)
