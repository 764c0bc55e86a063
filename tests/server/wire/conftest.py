"""Fixtures for wire tests: a signed raw-HTTP caller on a live server (SQLite, or SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from wire_client import ApiCaller


@pytest.fixture
def api(live_server: Any) -> Iterator[ApiCaller]:
    key, secret = live_server.admin_keys()
    caller = ApiCaller(live_server.endpoint, key, secret)
    yield caller
    caller.http.close()


@pytest.fixture
def api_on(live_server_factory: Any, db_url: str) -> Iterator[ApiCaller]:
    """Like `api`, on SQLite and on PostgreSQL."""
    server = live_server_factory(db_url)
    key, secret = server.admin_keys()
    caller = ApiCaller(server.endpoint, key, secret)
    caller.server = server  # type: ignore[attr-defined]
    yield caller
    caller.http.close()
