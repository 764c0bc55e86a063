"""login / logout sessions: sessionkey parameter or header, cookies, one answer for every failed login."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

ADMIN_PASSWORD = "password"  # CloudStack's default, created on first start


@pytest.fixture
def server(live_server_factory: Any, db_url: str) -> Any:
    return live_server_factory(db_url)


def _login(http: httpx.Client, endpoint: str, password: str = ADMIN_PASSWORD, **extra: str) -> httpx.Response:
    form = {"command": "login", "username": "admin", "password": password, "response": "json", **extra}
    return http.post(endpoint, data=form)


def test_login_returns_a_sessionkey_and_sets_cookies(server: Any) -> None:
    with httpx.Client() as http:
        response = _login(http, server.endpoint, domain="/")
        assert response.status_code == 200, response.text
        body = response.json()["loginresponse"]
        assert body["username"] == "admin" and body["type"] == "ADMIN"
        assert body["sessionkey"] and int(body["timeout"]) > 0
        assert response.cookies.get("sessionkey") == body["sessionkey"]
        assert response.cookies.get("JSESSIONID")
        by_param = http.get(server.endpoint, params={"command": "listCapabilities", "response": "json",
                                                     "sessionkey": body["sessionkey"]})
        assert by_param.status_code == 200, by_param.text
        by_header = http.get(server.endpoint, params={"command": "listZones", "response": "json"},
                             headers={"sessionkey": body["sessionkey"]})
        assert by_header.status_code == 200, by_header.text


def test_a_cookie_alone_authenticates_nothing(server: Any) -> None:
    with httpx.Client() as http:
        assert _login(http, server.endpoint).status_code == 200
        assert http.cookies.get("sessionkey")
        response = http.get(server.endpoint, params={"command": "listZones", "response": "json"})
        assert response.status_code == 401


def test_logout_ends_the_session(server: Any) -> None:
    with httpx.Client() as http:
        key = _login(http, server.endpoint).json()["loginresponse"]["sessionkey"]
        out = http.get(server.endpoint, params={"command": "logout", "response": "json", "sessionkey": key})
        assert out.status_code == 200, out.text
        assert out.json()["logoutresponse"]["description"] == "success"
        again = http.get(server.endpoint, params={"command": "listZones", "response": "json", "sessionkey": key})
        assert again.status_code == 401


def test_failed_logins_answer_531_without_saying_which_part_was_wrong(server: Any) -> None:
    with httpx.Client() as http:
        wrong_password = _login(http, server.endpoint, password="nope")
        wrong_user = http.post(server.endpoint, data={"command": "login", "username": "nobody", "password": "x",
                                                      "response": "json"})
        wrong_domain = _login(http, server.endpoint, domain="/NoSuchDomain/")
    for response, who in ((wrong_password, "admin"), (wrong_user, "nobody"), (wrong_domain, "admin")):
        assert response.status_code == 531, response.text
        body = response.json()["loginresponse"]
        assert body["errorcode"] == 531
        assert body["errortext"] == f"Failed to authenticate user {who}; please provide valid credentials"
        assert "password" not in body["errortext"].lower().replace("provide valid credentials", "")


def test_a_made_up_sessionkey_is_401(server: Any) -> None:
    response = httpx.get(server.endpoint, params={"command": "listZones", "sessionkey": "made-up"})
    assert response.status_code == 401
