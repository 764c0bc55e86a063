from click.testing import CliRunner

from clusterstack.cli import main


def test_help_lists_available_groups() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "clusterstack" in result.output


def test_demo_refuses_to_run_when_its_simulator_port_is_taken(tmp_path) -> None:
    """Another process on the simulator's port must not pass for our simulator: the demo stops and says why."""
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "clusterstack.cli", "demo", "--data-dir", str(tmp_path),
                               "--port", "0", "--sim-port", str(port)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert f"the simulator on http://127.0.0.1:{port} could not start" in done.stderr
