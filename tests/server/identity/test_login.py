"""login / logout over HTTP: sessionkey, cookies, refusals, and sessions shared by management servers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import PASSWORD, World

UNKNOWN_COMMAND = "The given command does not exist or it is not available for user"


def login(world: World, **params: Any) -> httpx.Response:
    return world.api(command="login", **params)


def session_of(answer: httpx.Response) -> tuple[str, httpx.Cookies]:
    """A login's sessionkey and the cookies (JSESSIONID) it must travel with."""
    return answer.json()["loginresponse"]["sessionkey"], answer.cookies


def test_login_answers_sessionkey_and_sets_cookies(world: World) -> None:
    answer = login(world, username="admin", password="password")
    assert answer.status_code == 200
    body = answer.json()["loginresponse"]
    assert body["username"] == "admin" and body["account"] == "admin" and body["type"] == "ADMIN"
    assert body["domainid"] == world.root_id
    assert body["userid"] == world.admin.listUsers(username="admin")["user"][0]["id"]
    assert body["timeout"] == 1800 and len(body["sessionkey"]) >= 32
    assert answer.cookies["sessionkey"] == body["sessionkey"]
    assert answer.cookies["JSESSIONID"]
    set_cookies = answer.headers.get_list("set-cookie")
    assert any(c.startswith("JSESSIONID=") and "HttpOnly" in c for c in set_cookies)


def test_session_needs_the_key_not_just_the_cookie(world: World) -> None:
    answer = login(world, username="admin", password="password")
    key = answer.json()["loginresponse"]["sessionkey"]
    cookies = dict(answer.cookies)
    with httpx.Client(base_url=world.server.base_url, cookies=cookies) as client:
        with_param = client.get("/client/api", params={"command": "listUsers", "response": "json",
                                                       "sessionkey": key})
        assert with_param.status_code == 200
        assert with_param.json()["listusersresponse"]["count"] == 1
        with_header = client.get("/client/api", params={"command": "listDomains", "response": "json"},
                                 headers={"sessionkey": key})
        assert with_header.status_code == 200
        cookie_only = client.get("/client/api", params={"command": "listUsers", "response": "json"})
        assert cookie_only.status_code == 401
        assert cookie_only.json()["listusersresponse"]["errorcode"] == 401
        wrong = client.get("/client/api", params={"command": "listUsers", "response": "json",
                                                  "sessionkey": key + "x"})
        assert wrong.status_code == 401


def test_logout_ends_the_session_and_clears_cookies(world: World) -> None:
    key, cookies = session_of(login(world, username="admin", password="password"))
    out = world.api(command="logout", sessionkey=key, cookies=cookies)
    assert out.status_code == 200
    assert out.json()["logoutresponse"]["description"] == "success"
    cleared = out.headers.get_list("set-cookie")
    assert any(c.startswith("sessionkey=") and "Max-Age=0" in c for c in cleared)
    assert world.api(command="listUsers", sessionkey=key, cookies=cookies).status_code == 401


def test_login_events_are_recorded(world: World) -> None:
    from sqlalchemy import select

    from clusterstack.server.db.models.events import Event

    key, cookies = session_of(login(world, username="admin", password="password"))
    assert world.api(command="logout", sessionkey=key, cookies=cookies).status_code == 200
    with world.server.state.database.session() as db:
        events = list(db.scalars(select(Event).order_by(Event.id)))
    assert [e.type for e in events if e.type.startswith("USER.LOG")] == ["USER.LOGIN", "USER.LOGOUT"]
    assert all(key not in (e.description or "") for e in events)


@pytest.mark.parametrize("params", [
    {"username": "admin", "password": "wrong"},
    {"username": "nobody", "password": "password"},
    {"username": "admin", "password": "password", "domain": "/NoSuchDomain"},
    {"username": "admin", "password": "password", "domainId": "1b4e28ba-2fa1-11d2-883f-0016d3cca427"},
])
def test_failed_login_is_531_and_does_not_say_why(sqlite_world: World, params: dict[str, str]) -> None:
    answer = login(sqlite_world, **params)
    assert answer.status_code == 531
    error = answer.json()["loginresponse"]
    assert error["errorcode"] == 531
    text = error["errortext"].lower()
    assert "please provide valid credentials" in text
    assert "password" not in text.replace("please provide valid credentials", "")
    assert "domain" not in text and "exist" not in text
    assert "set-cookie" not in answer.headers


def test_login_by_domain_path_and_id(world: World) -> None:
    child = world.domain("Child")
    grandchild = world.domain("Grand", child)
    account = world.account(grandchild, name="gina")
    assert login(world, username="gina", password=PASSWORD).status_code == 531  # not in ROOT
    for domain in ("/Child/Grand", "ROOT/Child/Grand", "/Child/Grand/"):
        answer = login(world, username="gina", password=PASSWORD, domain=domain)
        assert answer.status_code == 200, domain
        assert answer.json()["loginresponse"]["domainid"] == grandchild["id"]
    by_id = login(world, username="gina", password=PASSWORD, domainId=grandchild["id"], domain="/Child")
    assert by_id.status_code == 200
    assert by_id.json()["loginresponse"]["userid"] == account["user"][0]["id"]
    assert login(world, username="admin", password="password", domain="ROOT").status_code == 200
    assert login(world, username="admin", password="password", domain="/").status_code == 200


@pytest.mark.parametrize("how", ["disableUser", "lockUser", "disableAccount"])
def test_disabled_or_locked_users_cannot_log_in_and_lose_sessions(sqlite_world: World, how: str) -> None:
    world = sqlite_world
    account = world.account(name="dora")
    key, cookies = session_of(login(world, username="dora", password=PASSWORD))
    assert world.api(command="listUsers", sessionkey=key, cookies=cookies).status_code == 200
    if how == "disableAccount":
        world.admin.disableAccount(id=account["id"], lock=False)
    else:
        getattr(world.admin, how)(id=account["user"][0]["id"])
    assert world.api(command="listUsers", sessionkey=key, cookies=cookies).status_code == 401
    assert login(world, username="dora", password=PASSWORD).status_code == 531


def test_sessions_are_shared_by_management_servers(live_server_factory: Any, postgres_url: str) -> None:
    first = live_server_factory(postgres_url)
    second = live_server_factory(postgres_url)
    answer = httpx.post(first.endpoint, data={"command": "login", "username": "admin", "password": "password",
                                              "response": "json"})
    key, cookies = session_of(answer)
    on_second = httpx.post(second.endpoint, data={"command": "listUsers", "sessionkey": key, "response": "json"},
                           cookies=cookies)
    assert on_second.status_code == 200
    httpx.post(second.endpoint, data={"command": "logout", "sessionkey": key, "response": "json"}, cookies=cookies)
    again = httpx.post(first.endpoint, data={"command": "listUsers", "sessionkey": key, "response": "json"},
                       cookies=cookies)
    assert again.status_code == 401


def test_session_caller_is_subject_to_role_rules(sqlite_world: World) -> None:
    world = sqlite_world
    world.account(name="ursula")
    key, cookies = session_of(login(world, username="ursula", password=PASSWORD))
    answer = world.api(command="createDomain", name="Nope", sessionkey=key, cookies=cookies)
    assert answer.status_code == 432
    assert answer.json()["createdomainresponse"]["errortext"] == UNKNOWN_COMMAND


def test_login_forgets_sessions_idle_past_the_timeout(sqlite_world: World) -> None:
    from datetime import timedelta

    from sqlalchemy import func, select

    from clusterstack.server.db.base import utcnow
    from clusterstack.server.db.models.identity import User
    from clusterstack.server.db.models.sessions import LoginSession
    from clusterstack.server.identity.authentication import hash_session_key

    world = sqlite_world
    database = world.server.state.database
    with database.session() as db:
        admin_id = db.scalar(select(User.id).where(User.username == "admin"))
        db.add(LoginSession(key_hash=hash_session_key("old"), user_id=admin_id,
                            last_access=utcnow() - timedelta(minutes=45)))
    assert world.api(command="listUsers", sessionkey="old").status_code == 401
    key = login(world, username="admin", password="password").json()["loginresponse"]["sessionkey"]
    with database.session() as db:
        hashes = list(db.scalars(select(LoginSession.key_hash)))
        assert hashes == [hash_session_key(key)]
        assert key not in hashes  # only the hash is stored
        assert db.scalar(select(func.count()).select_from(LoginSession)) == 1
