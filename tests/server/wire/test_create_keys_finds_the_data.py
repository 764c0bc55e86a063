"""`clusterstack admin create-keys` without --data-dir acts on the database that exists (the server's or the demo's),
never on a new empty one whose keys the running server would refuse."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from clusterstack.cli import main


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default data directory is tmp_path/share (as ~/.local/share/clusterstack would be)."""
    directory = tmp_path / "share"
    monkeypatch.setenv("CLUSTERSTACK_DATA_DIR", str(directory))
    monkeypatch.delenv("CLUSTERSTACK_DB_URL", raising=False)
    return directory


def keys(output: str) -> dict[str, str]:
    return dict(line.split(" = ", 1) for line in output.strip().splitlines() if " = " in line)


def test_without_any_database_it_refuses_naming_data_dir_and_creates_nothing(data_dir: Path) -> None:
    result = CliRunner().invoke(main, ["admin", "create-keys"])
    assert result.exit_code != 0
    assert "--data-dir" in result.output and str(data_dir / "demo") in result.output
    assert "apikey" not in result.output
    assert not (data_dir / "clusterstack.db").exists() and not (data_dir / "demo" / "clusterstack.db").exists()


def test_it_finds_the_demos_database(data_dir: Path) -> None:
    runner = CliRunner()
    demo = data_dir / "demo"
    made = runner.invoke(main, ["admin", "create-keys", "--data-dir", str(demo)])
    assert made.exit_code == 0, made.output
    found = runner.invoke(main, ["admin", "create-keys"])
    assert found.exit_code == 0, found.output
    assert keys(found.output) == keys(made.output) and keys(found.output)
    assert f"using the database in {demo}" in found.output
    assert not (data_dir / "clusterstack.db").exists()


def test_it_finds_the_servers_database_and_refuses_when_both_exist(data_dir: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(main, ["admin", "create-keys", "--data-dir", str(data_dir)])
    assert made.exit_code == 0, made.output
    found = runner.invoke(main, ["admin", "create-keys"])
    assert found.exit_code == 0 and keys(found.output) == keys(made.output)
    assert runner.invoke(main, ["admin", "create-keys", "--data-dir", str(data_dir / "demo")]).exit_code == 0
    both = runner.invoke(main, ["admin", "create-keys"])
    assert both.exit_code != 0 and "--data-dir" in both.output and "apikey" not in both.output
