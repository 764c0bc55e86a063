"""`clusterstack sim run`'s text output: column headers, and the scenario's own steps in the timeline before the
events they caused (issue 15)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _run(name: str) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "clusterstack.cli", "sim", "run", str(SCENARIOS / f"{name}.yaml")],
                          capture_output=True, text=True, timeout=120, env={"COLUMNS": "200", "PATH": ""})
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_the_timeline_has_headers_and_shows_each_step_before_what_it_caused() -> None:
    lines = _run("drain-and-resume")
    assert lines[0].split() == ["Time", "Level", "Source", "Event", "Computer", "Message"]
    drain = next(i for i, line in enumerate(lines) if "Step" in line and "drain node=HYPERVCLLOUD17" in line)
    resume = next(i for i, line in enumerate(lines) if "Step" in line and "resume node=HYPERVCLLOUD17" in line)
    first_move = next(i for i, line in enumerate(lines) if " 1641 " in line)
    failback = next(i for i, line in enumerate(lines) if " 1641 " in line and "'HYPERVCLLOUD13' to" in line)
    assert drain < first_move < resume < failback
    assert lines[drain].split()[0] == "10.0s" and lines[resume].split()[0] == "100.0s"


def test_a_partition_and_the_way_out_of_quarantine_show_as_steps() -> None:
    steps = [line.split(None, 3)[3] for line in _run("quarantine-cleared") if line.split()[1:2] == ["Step"]]
    assert steps == ["partition nodes=N3", "heal"] * 3 + ["clear-quarantine node=N3"]
