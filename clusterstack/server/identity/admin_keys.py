"""`clusterstack admin create-keys`: an API key pair for the first admin, made directly in the database."""

from __future__ import annotations

from sqlalchemy import select

from clusterstack.server.db.models.identity import Account, User
from clusterstack.server.identity import bootstrap, secret_store
from clusterstack.server.identity.api_keys import register_keys
from clusterstack.server.identity.secret_store import SecretStoreError
from clusterstack.server.state import ServerState


def create_admin_keys(state: ServerState, *, rotate: bool = False) -> tuple[str, str]:
    """The API key pair of user `admin` in ROOT: its current pair when this server can read it, else a new one.

    Keeping a readable pair means that calling this twice does not invalidate clients already using the first
    answer. With `rotate`, always a new pair (the old one stops working), like registerUserKeys.
    """
    bootstrap.ensure_bootstrapped(state)
    store = secret_store.for_data_dir(state.data_dir)
    with state.database.session() as db:
        user = db.scalar(
            select(User)
            .join(Account, User.account_id == Account.id)
            .where(User.username == bootstrap.ADMIN_USERNAME, Account.domain_id == bootstrap.root_domain_id(db),
                   User.removed.is_(None))
            .order_by(User.id)
            .with_for_update()
        )
        if user is None:
            raise RuntimeError("user admin does not exist in domain ROOT")
        if user.api_key and user.secret_key_encrypted and not rotate:
            try:
                return user.api_key, store.decrypt(user.secret_key_encrypted)
            except SecretStoreError:
                pass
        return register_keys(user, store)
