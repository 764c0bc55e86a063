"""Fixtures for identity tests: a live server with domains, accounts and their `cs` clients."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import cs
import httpx
import pytest

PASSWORD = "S3cret-pass!"
_names = itertools.count(1)


def refused(call: Callable[..., Any], **params: Any) -> dict[str, Any]:
    """Call a command that must fail; return its error envelope (HTTP status checked against errorcode)."""
    with pytest.raises(cs.CloudStackApiException) as info:
        call(**params)
    error = info.value.error or {}
    assert info.value.response is not None and info.value.response.status_code == error.get("errorcode")
    return error


class World:
    """A live server, the admin's client, and helpers that make domains and accounts with their own clients."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.admin = server.cs()
        self.root_id = self.admin.listDomains()["domain"][0]["id"]

    def domain(self, name: str, parent: dict[str, Any] | None = None) -> dict[str, Any]:
        params = {"name": name}
        if parent is not None:
            params["parentdomainid"] = parent["id"]
        return self.admin.createDomain(**params)["domain"]

    def account(self, domain: dict[str, Any] | None = None, accounttype: int = 0, name: str | None = None,
                **extra: Any) -> dict[str, Any]:
        name = name or f"acct{next(_names)}"
        return self.admin.createAccount(
            accounttype=accounttype, account=name, username=name, password=PASSWORD, email=f"{name}@example.org",
            firstname=name, lastname="Test", domainid=(domain or {"id": self.root_id})["id"], **extra,
        )["account"]

    def client(self, account: dict[str, Any]) -> Any:
        keys = self.admin.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
        return self.server.cs(keys["apikey"], keys["secretkey"])

    def api(self, cookies: Any = None, **params: Any) -> httpx.Response:
        """A raw, unsigned call (for login and session tests); a session needs its login's cookies."""
        return httpx.post(self.server.endpoint, data={"response": "json", **params}, cookies=cookies)


@pytest.fixture
def world(live_server_factory: Any, db_url: str) -> World:
    """On SQLite, then on PostgreSQL."""
    return World(live_server_factory(db_url))


@pytest.fixture
def sqlite_world(live_server: Any) -> World:
    """On SQLite only, for checks whose outcome does not depend on the database."""
    return World(live_server)
