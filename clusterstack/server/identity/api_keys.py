"""API key pairs (registerUserKeys): a public api key and a secret key stored encrypted."""

from __future__ import annotations

import secrets

from clusterstack.server.db.models.identity import User
from clusterstack.server.identity.secret_store import SecretStore


def new_key() -> str:
    """86 URL-safe characters, like CloudStack's generated keys."""
    return secrets.token_urlsafe(64)


def register_keys(user: User, store: SecretStore) -> tuple[str, str]:
    """Give `user` a fresh key pair (replacing any old one); returns (api key, secret key)."""
    api_key, secret_key = new_key(), new_key()
    user.api_key = api_key
    user.secret_key_encrypted = store.encrypt(secret_key)
    return api_key, secret_key
