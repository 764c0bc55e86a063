"""Fixtures for client tests: a live server on SQLite and PostgreSQL, driven by real client libraries."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def cloud(live_server_factory: Any, db_url: str) -> Any:
    """A live management server on SQLite, and again on PostgreSQL."""
    return live_server_factory(db_url)
