"""listAccounts iscleanuprequired filters by CloudStack's needs_cleanup flag instead of being ignored."""

from __future__ import annotations

from sqlalchemy import update

from clusterstack.server.db.models.identity import Account
from tests.server.identity.conftest import World


def test_list_accounts_by_cleanup_required(sqlite_world: World) -> None:
    account = sqlite_world.account()
    listed = {a["id"] for a in sqlite_world.admin.listAccounts(listall=True, iscleanuprequired=False)["account"]}
    assert account["id"] in listed
    assert sqlite_world.admin.listAccounts(listall=True, iscleanuprequired=True) == {}
    # as CloudStack marks a disabled account whose resources it could not stop
    with sqlite_world.server.state.database.session() as db:
        db.execute(update(Account).where(Account.uuid == account["id"]).values(needs_cleanup=True))
    pending = sqlite_world.admin.listAccounts(listall=True, iscleanuprequired=True)["account"]
    assert [a["id"] for a in pending] == [account["id"]]
