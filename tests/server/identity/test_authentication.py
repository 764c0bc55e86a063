"""The functions the dispatcher and the jobs service call: keys, sessions, user ids, role rules, bootstrap."""

from __future__ import annotations

import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clusterstack.server.api.registry import ADMIN, ALL_ROLES, USER, ApiCommand
from clusterstack.server.app import open_server, start_services, stop_services
from clusterstack.server.db.models.identity import Account, Domain, Role, RolePermission, User
from clusterstack.server.db.models.sessions import LoginSession
from clusterstack.server.identity import authentication, bootstrap, passwords
from clusterstack.server.identity.admin_keys import create_admin_keys
from clusterstack.server.identity.secret_store import KEY_FILE
from clusterstack.server.state import ServerState


def command(name: str, roles: int) -> ApiCommand:
    return ApiCommand(name=name, handler=lambda ctx, p: None, params=(), description="", response_object=None,
                      response_fields=(), roles=roles)


@pytest.fixture
def state(tmp_path: Path, db_url: str) -> Iterator[ServerState]:
    server = open_server(tmp_path / "data", db_url)
    start_services(server)
    yield server
    stop_services(server)
    server.database.dispose()


def test_first_start_creates_root_roles_and_admin(state: ServerState) -> None:
    with state.database.session() as db:
        root = db.scalar(select(Domain).where(Domain.name == "ROOT"))
        assert root is not None and root.path == "/" and root.parent_id is None
        roles = {r.name: r.role_type for r in db.scalars(select(Role))}
        assert roles == {"Root Admin": "Admin", "Domain Admin": "DomainAdmin", "User": "User"}
        account = db.scalar(select(Account).where(Account.name == "admin"))
        assert account is not None and account.type == 1 and account.domain_id == root.id
        user = db.scalar(select(User).where(User.username == "admin"))
        assert user is not None and user.password_hash != "password"
        assert passwords.verify_password(user.password_hash, "password")
    key_file = state.data_dir / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_default_password_warning_until_changed(state: ServerState, capsys: pytest.CaptureFixture[str]) -> None:
    assert bootstrap.warn_if_default_password(state)
    assert "still CloudStack's default" in capsys.readouterr().err
    with state.database.session() as db:
        user = db.scalar(select(User).where(User.username == "admin"))
        assert user is not None
        user.password_hash = passwords.hash_password("a much better one")
    assert not bootstrap.warn_if_default_password(state)
    assert capsys.readouterr().err == ""


def test_second_start_and_concurrent_starts_bootstrap_once(tmp_path: Path, db_url: str) -> None:
    servers = [open_server(tmp_path / f"d{i}", db_url) for i in range(4)]
    failures: list[BaseException] = []

    def boot(server: ServerState) -> None:
        try:
            bootstrap.ensure_bootstrapped(server)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=boot, args=(s,)) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bootstrap.ensure_bootstrapped(servers[0])
    assert failures == []
    with servers[0].database.session() as db:
        assert db.scalar(select(func.count()).select_from(Domain)) == 1
        assert db.scalar(select(func.count()).select_from(Role)) == 3
        assert db.scalar(select(func.count()).select_from(User)) == 1
    for s in servers:
        s.database.dispose()


def test_admin_keys_authenticate_and_are_stable(state: ServerState) -> None:
    api_key, secret = create_admin_keys(state)
    assert create_admin_keys(state) == (api_key, secret)
    with state.database.session() as db:
        found = authentication.caller_for_api_key(db, state, api_key)
        assert found is not None
        caller, decrypted = found
        assert decrypted == secret
        assert caller.username == "admin" and caller.is_root_admin and caller.domain_path == "/"
        stored = db.scalar(select(User.secret_key_encrypted).where(User.username == "admin"))
        assert stored is not None and secret not in stored
        assert authentication.caller_for_api_key(db, state, "no-such-key") is None
        again = authentication.caller_for_user_id(db, caller.user_id)
        assert again is not None and again.user_uuid == caller.user_uuid
        assert authentication.caller_for_user_id(db, 999999) is None


@pytest.mark.parametrize("what", ["user", "account"])
@pytest.mark.parametrize("new_state", ["disabled", "locked"])
def test_inactive_user_or_account_has_no_caller(state: ServerState, what: str, new_state: str) -> None:
    api_key, _ = create_admin_keys(state)
    with state.database.session() as db:
        user = db.scalar(select(User).where(User.api_key == api_key))
        assert user is not None
        row = user if what == "user" else db.get(Account, user.account_id)
        assert row is not None
        row.state = new_state
        db.add(LoginSession(key_hash=authentication.hash_session_key("abc"), user_id=user.id))
    with state.database.session() as db:
        assert authentication.caller_for_api_key(db, state, api_key) is None
        assert authentication.caller_for_session(db, state, "abc") is None


def test_sessions_expire_when_idle(state: ServerState) -> None:
    from datetime import timedelta

    from clusterstack.server.db.base import utcnow

    with state.database.session() as db:
        user = db.scalar(select(User).where(User.username == "admin"))
        assert user is not None
        db.add(LoginSession(key_hash=authentication.hash_session_key("fresh"), user_id=user.id))
        db.add(LoginSession(key_hash=authentication.hash_session_key("stale"), user_id=user.id,
                            last_access=utcnow() - timedelta(minutes=31)))
    with state.database.session() as db:
        fresh = authentication.caller_for_session(db, state, "fresh")
        assert fresh is not None and fresh.session_key == "fresh"
        assert authentication.caller_for_session(db, state, "stale") is None
        assert authentication.caller_for_session(db, state, "unknown") is None
    with state.database.session() as db:
        assert db.scalar(select(func.count()).select_from(LoginSession)) == 1


def test_rule_matching() -> None:
    assert authentication.rule_matches("list*", "listZones")
    assert authentication.rule_matches("listzones", "listZones")
    assert not authentication.rule_matches("list*", "deleteZone")
    assert authentication.rule_matches("*", "anything")
    assert not authentication.rule_matches("listZone", "listZones")


def test_role_rules_first_match_wins_then_defaults(state: ServerState) -> None:
    api_key, _ = create_admin_keys(state)
    with state.database.session() as db:
        found = authentication.caller_for_api_key(db, state, api_key)
        assert found is not None
        admin = found[0]
        assert authentication.is_allowed(db, admin, command("createZone", ADMIN))
        role = Role(name="Auditor", role_type="User", description="")
        db.add(role)
        db.flush()
        db.add_all([
            RolePermission(role_id=role.id, rule="listZones", permission="allow", sort_order=0),
            RolePermission(role_id=role.id, rule="list*", permission="deny", sort_order=1),
        ])
        db.flush()
        from dataclasses import replace

        auditor = replace(admin, role_id=role.id, role_type="User", account_type=0)
        assert authentication.is_allowed(db, auditor, command("listZones", ALL_ROLES))
        assert not authentication.is_allowed(db, auditor, command("listPods", ALL_ROLES))
        # no rule matches: the command's default roles decide
        assert authentication.is_allowed(db, auditor, command("deployVirtualMachine", ALL_ROLES))
        assert not authentication.is_allowed(db, auditor, command("createZone", ADMIN))
        user_role = db.scalar(select(Role).where(Role.name == "User"))
        assert user_role is not None
        plain = replace(admin, role_id=user_role.id, role_type="User", account_type=0)
        assert not authentication.is_allowed(db, plain, command("createZone", ADMIN))
        assert authentication.is_allowed(db, plain, command("somethingNew", USER))


def test_rotated_admin_keys_replace_the_old_pair(state: ServerState) -> None:
    old_key, _ = create_admin_keys(state)
    new_key, new_secret = create_admin_keys(state, rotate=True)
    assert new_key != old_key
    with state.database.session() as db:
        assert authentication.caller_for_api_key(db, state, old_key) is None
        found = authentication.caller_for_api_key(db, state, new_key)
        assert found is not None and found[1] == new_secret


def test_keys_from_another_key_file_are_unreadable_not_an_error(state: ServerState, tmp_path: Path) -> None:
    api_key, _ = create_admin_keys(state)
    other = ServerState(database=state.database, data_dir=tmp_path / "elsewhere")
    with state.database.session() as db:
        assert authentication.caller_for_api_key(db, other, api_key) is None
