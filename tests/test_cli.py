from click.testing import CliRunner

from clusterstack.cli import main


def test_help_lists_available_groups() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "clusterstack" in result.output
