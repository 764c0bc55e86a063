"""The default-password warning reads whole in the management-server log (no `password=***** password>` left
by the redaction), and the log never holds a password."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from clusterstack.server.app import open_server, start_services, stop_services
from clusterstack.server.identity import bootstrap
from clusterstack.server.logging_setup import REDACTED, configure_logging, log_path, redact
from clusterstack.server.state import ServerState


@pytest.fixture
def state(tmp_path: Path, sqlite_url: str) -> Iterator[ServerState]:
    server = open_server(tmp_path / "data", sqlite_url)
    configure_logging(server.data_dir, console_level="CRITICAL")
    start_services(server)
    try:
        yield server
    finally:
        stop_services(server)
        server.database.dispose()
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "_clusterstack", False):
                logging.getLogger().removeHandler(handler)
                handler.close()


def test_the_warning_is_one_readable_line_with_nothing_masked(state: ServerState) -> None:
    assert bootstrap.warn_if_default_password(state)
    for handler in logging.getLogger().handlers:
        handler.flush()
    lines = [line for line in log_path(state.data_dir).read_text().splitlines() if "still CloudStack's default" in line]
    assert lines
    for line in lines:
        assert " WARN  [" in line
        assert line.endswith(bootstrap.DEFAULT_PASSWORD_WARNING)  # whole: the redaction had nothing to hide
        assert REDACTED not in line and "'password'" not in line


def test_a_placeholder_after_a_secret_name_is_masked_whole() -> None:
    assert redact("updateUser id=7 password=<new password>, or in the console") == \
        "updateUser id=7 password=*****, or in the console"
    assert redact("password=<hunter2 and more") == "password=***** and more"
    assert redact("login password=hunter2&username=admin") == "login password=*****&username=admin"
