"""`clusterstack serve | db upgrade | admin create-keys` as an operator runs them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import cs
import httpx
import pytest
from click.testing import CliRunner

from clusterstack.cli import main
from clusterstack.server.cli import banner, default_data_dir


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("args", [["serve", "--help"], ["db", "--help"], ["db", "upgrade", "--help"],
                                  ["admin", "--help"], ["admin", "create-keys", "--help"]])
def test_help_on_everything(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_serve_help_names_its_options() -> None:
    output = CliRunner().invoke(main, ["serve", "--help"]).output
    for option in ("--host", "--port", "--db", "--data-dir"):
        assert option in output


def test_data_dir_default_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CLUSTERSTACK_DATA_DIR", raising=False)
    assert default_data_dir() == Path.home() / ".local" / "share" / "clusterstack"
    monkeypatch.setenv("CLUSTERSTACK_DATA_DIR", str(tmp_path))
    assert default_data_dir() == tmp_path


def test_banner_says_where_api_and_console_are() -> None:
    assert banner("127.0.0.1", 8080) == ("clusterstack management server: API http://127.0.0.1:8080/client/api, "
                                         "console http://127.0.0.1:8080/client/")


def test_db_upgrade_creates_then_keeps_the_schema(tmp_path: Path, fresh_db_url: str) -> None:
    db_url = fresh_db_url
    runner = CliRunner()
    first = runner.invoke(main, ["db", "upgrade", "--db", db_url, "--data-dir", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert "upgraded from empty" in first.output
    second = runner.invoke(main, ["db", "upgrade", "--db", db_url, "--data-dir", str(tmp_path)])
    assert second.exit_code == 0 and "already at" in second.output


def test_db_upgrade_defaults_to_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["db", "upgrade", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "clusterstack.db").exists()


def test_create_keys_prints_a_pair_that_is_stable(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["admin", "create-keys", "--data-dir", str(tmp_path)])
    assert first.exit_code == 0, first.output
    lines = dict(line.split(" = ", 1) for line in first.output.strip().splitlines() if " = " in line)
    assert set(lines) == {"apikey", "secretkey"} and all(lines.values())
    second = runner.invoke(main, ["admin", "create-keys", "--data-dir", str(tmp_path)])
    assert second.output == first.output


def test_serve_starts_with_a_banner_and_answers_the_created_keys(tmp_path: Path) -> None:
    keys = CliRunner().invoke(main, ["admin", "create-keys", "--data-dir", str(tmp_path)]).output
    pair = dict(line.split(" = ", 1) for line in keys.strip().splitlines() if " = " in line)
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "clusterstack.cli", "serve", "--port", str(port), "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline().strip()
        assert first_line == banner("127.0.0.1", port)
        endpoint = f"http://127.0.0.1:{port}/client/api"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(endpoint, timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "serve did not come up"
                time.sleep(0.1)
        client = cs.CloudStack(endpoint=endpoint, key=pair["apikey"], secret=pair["secretkey"])
        assert client.listCapabilities()["capability"]["cloudstackversion"]
        log = tmp_path / "logs" / "management-server.log"
        assert log.exists()
        assert "starting on 127.0.0.1" in log.read_text()
        assert pair["secretkey"] not in log.read_text()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
