"""management-server.log: CloudStack's line shape, request log ids, rotation, and no secrets in it."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from wire_client import ApiCaller

from clusterstack.server.api.registry import ADMIN, api_command, find_command
from clusterstack.server.logging_setup import (
    REDACTED,
    abbreviate,
    configure_logging,
    log_context,
    log_path,
    redact,
)

LINE = re.compile(
    r"^(?P<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) (?P<level>[A-Z]+) +\[(?P<logger>[^\]]+)\] "
    r"\((?P<thread>[^)]*)\) \(logid:(?P<logid>[0-9a-f]+)\) (?P<message>.*)$"
)
LEAKY_COMMAND = "leakForLogTest"


@pytest.fixture
def isolated_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_abbreviated_logger_names_like_log4j() -> None:
    assert abbreviate("clusterstack.server.api.dispatch") == "c.s.a.dispatch"
    assert abbreviate("uvicorn") == "uvicorn"


@pytest.mark.parametrize("text", [
    "command=login&username=admin&password=hunter2&response=json",
    "{'password': 'hunter2', 'username': 'admin'}",
    '{"secretkey": "hunter2"}',
    "signature=hunter2&apikey=abc",
    "sessionkey: hunter2",
    "SecretKey=hunter2",
])
def test_redaction_removes_secret_values(text: str) -> None:
    cleaned = redact(text)
    assert "hunter2" not in cleaned
    assert REDACTED in cleaned


def test_redaction_keeps_other_values() -> None:
    assert redact("username=admin&apikey=abc&name=zone1") == "username=admin&apikey=abc&name=zone1"


def test_lines_have_cloudstacks_shape_and_carry_the_log_id(tmp_path: Path, isolated_root_logger: None) -> None:
    path = configure_logging(tmp_path)
    assert path == tmp_path / "logs" / "management-server.log"
    logger = logging.getLogger("clusterstack.server.api.dispatch")
    with log_context("1a2b3c4d", job="42"):
        logger.info("created zone %s with password=%s", "z1", "hunter2")
    logger.warning("outside any request")
    lines = path.read_text().splitlines()
    first, second = (LINE.match(line) for line in lines[-2:])
    assert first and second, lines
    assert first["level"] == "INFO" and first["logger"] == "c.s.a.dispatch"
    assert first["logid"] == "1a2b3c4d" and "ctx-1a2b3c4d job-42" in first["thread"]
    assert first["message"] == f"created zone z1 with password={REDACTED}"
    assert second["level"] == "WARN" and second["logid"] == "00000000"
    assert "hunter2" not in path.read_text()


def test_log_rotates(tmp_path: Path, isolated_root_logger: None) -> None:
    path = configure_logging(tmp_path, max_bytes=2000, backup_count=2)
    logger = logging.getLogger("clusterstack.test")
    for i in range(200):
        logger.info("line %d %s", i, "x" * 50)
    assert path.exists()
    assert (path.parent / "management-server.log.1").exists()
    assert (path.parent / "management-server.log.2").exists()
    assert not (path.parent / "management-server.log.3").exists()


def test_an_internal_failure_is_logged_with_its_log_id_and_without_secrets(
    live_server: Any, api: ApiCaller, isolated_root_logger: None
) -> None:
    if find_command(LEAKY_COMMAND) is None:

        @api_command(LEAKY_COMMAND, description="test only: fails with a secret in its message", roles=ADMIN)
        def leak(ctx: Any, p: dict[str, Any]) -> dict[str, Any]:
            raise RuntimeError("connect failed for secretkey=hunter2 password=hunter3")

    configure_logging(live_server.data_dir)
    response = api.get(LEAKY_COMMAND, response="json")
    assert response.status_code == 530
    text = log_path(live_server.data_dir).read_text()
    assert "hunter2" not in text and "hunter3" not in text
    assert api.secret not in text
    failures = [m for m in map(LINE.match, text.splitlines())
                if m and m["message"] == f"unexpected error executing {LEAKY_COMMAND}"]
    assert failures, text
    assert failures[-1]["level"] == "ERROR" and failures[-1]["logid"] != "00000000"
    assert "Traceback" in text and "RuntimeError" in text


def test_debug_level_logs_each_call_without_its_secrets(
    live_server: Any, api: ApiCaller, isolated_root_logger: None
) -> None:
    configure_logging(live_server.data_dir, level="DEBUG")
    assert api.get("listZones", keyword="findme").status_code == 200
    response = api.http.post(live_server.endpoint, data={"command": "login", "username": "admin",
                                                         "password": "hunter2-wrong", "response": "json"})
    assert response.status_code == 531
    lines = [m for m in map(LINE.match, log_path(live_server.data_dir).read_text().splitlines())
             if m and m["message"].startswith("===END===")]
    calls = {m["message"].split()[1]: m for m in lines}
    assert "keyword=findme" in calls["listZones"]["message"]
    assert "signature=" + REDACTED in calls["listZones"]["message"]
    assert " 531 " in calls["login"]["message"] and "password=" + REDACTED in calls["login"]["message"]
    assert "hunter2" not in log_path(live_server.data_dir).read_text()
