"""`clusterstack sim rehearse` as a user runs it: against a scenario file and against a live simulator, whose
cluster it never changes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def sim(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clusterstack.cli", "sim", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def test_rehearse_a_scenario_file() -> None:
    scenario = str(SCENARIOS / "priority-under-memory-pressure.yaml")
    table = sim("rehearse", "--scenario", scenario, "--node", "N2")
    assert table.returncode == 0, table.stderr
    for text in ("does not survive", "vm-high", "NotEnoughMemory", "Memory free (MB)"):
        assert text in table.stdout
    answer = json.loads(sim("rehearse", "--scenario", scenario, "--node", "n2", "--json").stdout)
    roles = {r["name"]: r for r in answer["roles"]}
    assert answer["failed_nodes"] == ["N2"] and answer["restart_order"] == ["vm-high", "vm-medium"]
    assert (roles["vm-low"]["reason"], roles["vm-high"]["owner"]) == ("NotEnoughMemory", "N1")
    unknown = sim("rehearse", "--scenario", scenario, "--node", "N9")
    assert unknown.returncode == 1 and "N9" in unknown.stderr
    every = sim("rehearse", "--scenario", scenario, "--node", "N1", "--node", "N2")
    assert every.returncode == 1 and "every node" in every.stderr


def test_rehearse_a_live_simulator_changes_nothing(simulator: Any) -> None:
    env = {"PATH": "/usr/bin:/bin", "CLUSTERSTACK_SIM_URL": simulator.url}
    answer = json.loads(sim("rehearse", "--node", "HYPERVCLLOUD17", "--json", "--all", env=env).stdout)
    assert answer["cluster"] == "CI1" and answer["quorum_after"]["has_quorum"] is True
    assert [n["name"] for n in answer["nodes"] if n["failed"]] == ["HYPERVCLLOUD17"]
    status = json.loads(sim("status", "--json", env=env).stdout)
    assert {n["name"]: n["state"] for n in status["nodes"]} == {"HYPERVCLLOUD13": "Up", "HYPERVCLLOUD17": "Up"}
