"""`clusterstack sim` as a user runs it: run, status and faults against a live simulator, bad scenarios."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
GOOD_CLUSTER = """\
cluster:
  name: CI1
  witness: disk
  witness_disk: ClusterDisk2
  nodes:
    - {name: HYPERVCLLOUD13, memory_mb: 65536, cpus: 16}
    - {name: HYPERVCLLOUD17, memory_mb: 65536, cpus: 16}
  disks:
    - {name: ClusterDisk1, capacity_gb: 100, csv: 'C:\\ClusterStorage\\Volume1', owner: HYPERVCLLOUD13}
    - {name: ClusterDisk2, capacity_gb: 1}
  roles:
    - {name: i-4-5-VM, memory_mb: 512, disk: ClusterDisk1, owner: HYPERVCLLOUD17, priority: 2000}
"""


def sim(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clusterstack.cli", "sim", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def test_run_json_prints_one_object_of_the_documented_shape() -> None:
    result = sim("run", str(SCENARIOS / "seed-node-crash.yaml"), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"steps", "events", "final"}
    assert data["steps"] == [{"time": 60.0, "step": "node-down node=HYPERVCLLOUD17"}]
    assert set(data["events"][0]) == {"time", "source", "id", "level", "node", "message"}
    final = data["final"]
    assert set(final) == {"cluster", "quorum", "nodes", "roles", "disks"}
    assert set(final["quorum"]) == {"state", "model", "votes", "votes_needed"}
    assert set(final["nodes"][0]) == {"name", "state", "assigned_vote", "current_vote"}
    assert set(final["roles"][0]) == {"name", "type", "state", "vm_state", "owner_node", "priority"}
    assert set(final["disks"][0]) == {"name", "state", "assigned_to", "owner_node", "disk_number",
                                      "capacity_bytes", "free_bytes", "path"}
    roles = {r["name"]: r for r in final["roles"]}
    assert roles["i-4-3-VM"]["owner_node"] == "HYPERVCLLOUD13"  # No Auto Start stays where it was
    assert roles["i-4-5-VM"]["owner_node"] == roles["i-4-6-VM"]["owner_node"] == "HYPERVCLLOUD13"


BAD = {
    "unknown action": ("steps:\n  - {at: 10, do: explode, node: HYPERVCLLOUD13}\n", 14, "unknown action 'explode'"),
    "unknown node": ("steps:\n  - {at: 10, do: node-down, node: HYPERVCLLOUD99}\n", 14, "unknown node HYPERVCLLOUD99"),
    "unknown disk": ("steps:\n  - {at: 10, do: disk-fail, disk: Nope}\n", 14, "unknown disk Nope"),
    "negative memory": (None, 12, "memory_mb: must be positive"),
    "role larger than any node": (None, 12, "larger than any node"),
    "bad yaml": ("steps: [\n  - {at: 10\n", None, "bad YAML"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_scenario_exits_2_naming_file_and_line(case: str, tmp_path: Path) -> None:
    steps, line, message = BAD[case]
    text = GOOD_CLUSTER + (steps or "")
    if case == "negative memory":
        text = text.replace("{name: i-4-5-VM, memory_mb: 512", "{name: i-4-5-VM, memory_mb: -512")
    if case == "role larger than any node":
        text = text.replace("{name: i-4-5-VM, memory_mb: 512", "{name: i-4-5-VM, memory_mb: 131072")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = sim("run", str(path), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert str(path) in lines[0] and message in lines[0]
    if line is not None:
        assert f"{path}:{line}:" in lines[0]


def test_status_and_faults_against_a_live_simulator(simulator: Any) -> None:
    env = {"PATH": "/usr/bin:/bin", "CLUSTERSTACK_SIM_URL": simulator.url}
    status = sim("status", env=env)
    assert status.returncode == 0, status.stderr
    for header in ("Name", "Status", "Owner Node", "Priority", "Assigned Vote", "Current Vote", "Disk Number",
                   "HYPERVCLLOUD13", "C:\\ClusterStorage\\Volume1", "100.0 GB free of 100.0 GB"):
        assert header in status.stdout
    down = sim("node-down", "HYPERVCLLOUD17", env=env)
    assert down.returncode == 0, down.stderr
    report = json.loads(sim("status", "--json", env=env).stdout)
    assert report["name"] == "CI1"
    unknown = sim("node-down", "NOPE", env=env)
    assert unknown.returncode == 1 and "NOPE" in unknown.stderr


def test_an_unreachable_simulator_is_one_clear_line() -> None:
    result = sim("status", "--sim", "http://127.0.0.1:9")
    assert result.returncode == 1
    assert "does not answer" in result.stderr and "Traceback" not in result.stderr
