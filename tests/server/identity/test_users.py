"""Users and their secrets over HTTP: the default admin, password changes, API keys, disabled and locked users."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from clusterstack.server.db.models.events import Event
from clusterstack.server.db.models.identity import User
from clusterstack.server.identity import bootstrap

from .conftest import PASSWORD, World, refused


def login_status(world: World, username: str, password: str) -> int:
    return world.api(command="login", username=username, password=password).status_code


def test_default_admin_works_and_password_change_clears_the_warning(
    live_server_factory: Any, db_url: str, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = live_server_factory(db_url)
    world = World(server)
    assert server.state.services["identity"].default_password_in_use
    assert login_status(world, "admin", "password") == 200
    admin_id = world.admin.listUsers(username="admin")["user"][0]["id"]
    world.admin.updateUser(id=admin_id, password="N0t-the-default")
    assert not bootstrap.admin_has_default_password(server.state)
    assert login_status(world, "admin", "password") == 531
    assert login_status(world, "admin", "N0t-the-default") == 200
    capsys.readouterr()
    again = live_server_factory(db_url)  # another management server starting on the same database
    assert not again.state.services["identity"].default_password_in_use
    assert "default" not in capsys.readouterr().err


def test_user_changes_own_password_only_with_the_current_one(world: World) -> None:
    account = world.account(name="paula")
    user_id = account["user"][0]["id"]
    paula = world.client(account)
    error = refused(paula.updateUser, id=user_id, password="NewPass-1")
    assert error["errorcode"] == 431 and "current password must be provided" in error["errortext"]
    error = refused(paula.updateUser, id=user_id, password="NewPass-1", currentpassword="wrong")
    assert error["errortext"] == "Current password is incorrect."
    assert login_status(world, "paula", PASSWORD) == 200
    paula.updateUser(id=user_id, password="NewPass-1", currentpassword=PASSWORD)
    assert login_status(world, "paula", PASSWORD) == 531
    assert login_status(world, "paula", "NewPass-1") == 200
    # an admin resets it without knowing it
    world.admin.updateUser(id=user_id, password="Reset-2")
    assert login_status(world, "paula", "Reset-2") == 200
    error = refused(world.admin.updateUser, id=user_id, password=" ")
    assert error["errortext"] == "Password cannot be empty or blank."


def test_registered_keys_sign_requests_and_replace_the_old_ones(world: World) -> None:
    account = world.account(name="kim")
    user_id = account["user"][0]["id"]
    first = world.admin.registerUserKeys(id=user_id)["userkeys"]
    kim = world.server.cs(first["apikey"], first["secretkey"])
    assert kim.listUsers()["user"][0]["username"] == "kim"
    assert kim.getUserKeys(id=user_id)["userkeys"] == first
    second = kim.registerUserKeys(id=user_id)["userkeys"]
    assert second != first
    error = refused(kim.listUsers)  # the old pair is gone
    assert error["errorcode"] == 401
    kim2 = world.server.cs(second["apikey"], second["secretkey"])
    assert kim2.listUsers()["user"][0]["apikey"] == second["apikey"]
    wrong_secret = world.server.cs(second["apikey"], first["secretkey"])
    assert refused(wrong_secret.listUsers)["errorcode"] == 401


def test_secrets_never_leave_in_lists_logs_or_events(world: World, caplog: pytest.LogCaptureFixture) -> None:
    account = world.account(name="sam")
    user_id = account["user"][0]["id"]
    keys = world.admin.registerUserKeys(id=user_id)["userkeys"]
    world.admin.updateUser(id=user_id, password="Other-pass-9")
    texts = [json.dumps(world.admin.listUsers(listall=True)), json.dumps(world.admin.listAccounts(listall=True)),
             json.dumps(account)]
    for text in texts:
        assert keys["secretkey"] not in text
        assert "secretkey" not in text and "password" not in text
        assert "$argon2" not in text
    with world.server.state.database.session() as db:
        stored = db.scalar(select(User).where(User.uuid == user_id))
        assert stored is not None and stored.secret_key_encrypted is not None
        assert keys["secretkey"] not in stored.secret_key_encrypted
        assert stored.password_hash.startswith("$argon2id$")
        descriptions = " ".join(e.description for e in db.scalars(select(Event)))
    for secret in (keys["secretkey"], PASSWORD, "Other-pass-9"):
        assert secret not in descriptions
        assert secret not in caplog.text


def test_other_users_keys_are_not_theirs_to_read(sqlite_world: World) -> None:
    world = sqlite_world
    alice = world.client(world.account(name="alice"))
    bob = world.account(name="bob")
    world.admin.registerUserKeys(id=bob["user"][0]["id"])
    # out of reach is answered as missing: the same text as for a user that does not exist, naming no account
    for call in (alice.getUserKeys, alice.registerUserKeys):
        out_of_reach, missing = refused(call, id=bob["user"][0]["id"]), refused(call, id=str(uuid.uuid4()))
        assert out_of_reach["errorcode"] == missing["errorcode"] == 431
        assert out_of_reach["errortext"].replace(bob["user"][0]["id"], "X") == \
            missing["errortext"].rsplit(": ", 1)[0] + ": X"
        assert bob["id"] not in out_of_reach["errortext"]
    assert refused(alice.listUsers, id=bob["user"][0]["id"])["errorcode"] == 531


@pytest.mark.parametrize(("refuse", "allow", "state"), [
    ("disableUser", "enableUser", "disabled"),
    ("lockUser", "enableUser", "locked"),
])
def test_disabled_and_locked_users_are_refused(world: World, refuse: str, allow: str, state: str) -> None:
    account = world.account(name="lee")
    user_id = account["user"][0]["id"]
    lee = world.client(account)
    assert lee.listUsers()["count"] == 1
    answer = getattr(world.admin, refuse)(id=user_id)["user"]
    assert answer["state"] == state
    assert refused(lee.listUsers)["errorcode"] == 401
    getattr(world.admin, allow)(id=user_id)
    assert lee.listUsers()["count"] == 1


@pytest.mark.parametrize(("lock", "state"), [(False, "disabled"), (True, "locked")])
def test_disabled_and_locked_accounts_refuse_their_users(sqlite_world: World, lock: bool, state: str) -> None:
    world = sqlite_world
    account = world.account(name="acme")
    acme = world.client(account)
    assert world.admin.disableAccount(id=account["id"], lock=lock)["account"]["state"] == state
    assert refused(acme.listUsers)["errorcode"] == 401
    assert world.admin.enableAccount(id=account["id"])["account"]["state"] == "enabled"
    assert acme.listUsers()["count"] == 1
    world.admin.lockAccount(account="acme", domainid=world.root_id)
    assert refused(acme.listUsers)["errorcode"] == 401


def test_create_list_update_delete_users(world: World) -> None:
    account = world.account(name="team")
    user = world.admin.createUser(account="team", username="second", password=PASSWORD, firstname="Sec",
                                  lastname="Ond", email="s@example.org", domainid=world.root_id)["user"]
    assert user["account"] == "team" and user["accounttype"] == 0 and user["rolename"] == "User"
    assert user["state"] == "enabled" and user["domainid"] == world.root_id
    error = refused(world.admin.createUser, account="team", username="second", password=PASSWORD,
                    firstname="a", lastname="b", email="e@example.org")
    assert "already exists" in error["errortext"]
    missing = refused(world.admin.createUser, account="team", username="x", password=PASSWORD, firstname="a",
                      lastname="b")
    assert missing["errorcode"] == 431 and "email" in missing["errortext"]
    listed = world.admin.listUsers(account="team", domainid=world.root_id)
    assert {u["username"] for u in listed["user"]} == {"team", "second"}
    assert world.admin.listUsers(keyword="seco", listall=True)["user"][0]["id"] == user["id"]
    updated = world.admin.updateUser(id=user["id"], firstname="Renamed", email="new@example.org",
                                     username="second2")["user"]
    assert (updated["firstname"], updated["email"], updated["username"]) == ("Renamed", "new@example.org",
                                                                             "second2")
    assert world.admin.deleteUser(id=user["id"])["success"] is True
    assert world.admin.listUsers(id=user["id"]) == {}
    assert refused(world.admin.deleteUser, id=user["id"])["errorcode"] == 431
    admin_id = world.admin.listUsers(username="admin")["user"][0]["id"]
    assert refused(world.admin.deleteUser, id=admin_id)["errorcode"] == 431
    assert len(account["user"]) == 1


def test_user_key_pair_can_be_set_by_update_user(sqlite_world: World) -> None:
    world = sqlite_world
    account = world.account(name="ivan")
    world.admin.updateUser(id=account["user"][0]["id"], userapikey="my-api-key", usersecretkey="my-secret-key")
    ivan = world.server.cs("my-api-key", "my-secret-key")
    assert ivan.listUsers()["user"][0]["username"] == "ivan"
    assert refused(world.admin.updateUser, id=account["user"][0]["id"], userapikey="only-one")["errorcode"] == 431
