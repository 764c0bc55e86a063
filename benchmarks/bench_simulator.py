"""Simulating an hour: 64 nodes, 8,000 roles, 10 node crashes and recoveries.

Prints the wall time of the simulated hour on the engine (target <= 1 s) and of `clusterstack sim run` on the
same scenario as a separate process, start-up and YAML loading included (target <= 3 s). For comparison,
Pacemaker's crm_simulate takes 20-27 s to place 2,000 resources on 64 nodes on this kind of machine.
`--small` runs the CI size. Figures only; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from clusterstack.simulator.runner import run_scenario
from clusterstack.simulator.scenario import parse_scenario


def scenario_text(nodes: int, roles: int, crashes: int) -> str:
    names = [f"NODE{i:03d}" for i in range(nodes)]
    steps = []
    for i in range(crashes):
        victim = names[(i * 7 + 3) % nodes]
        at = 60 + i * (3000 // crashes)
        steps.append({"at": at, "do": "node-down", "node": victim})
        steps.append({"at": at + 120, "do": "node-up", "node": victim})
    document = {
        "cluster": {
            "name": "BENCH", "witness": "disk", "witness_disk": "Witness",
            "nodes": [{"name": n, "memory_mb": 1024 * 1024, "cpus": 64} for n in names],
            "disks": [{"name": "ClusterDisk1", "capacity_gb": 100000, "csv": "C:\\ClusterStorage\\Volume1",
                       "owner": names[0]}, {"name": "Witness", "capacity_gb": 1, "owner": names[0]}],
            "roles": [{"name": f"i-2-{i}-VM", "memory_mb": 2048, "cpus": 2, "disk": "ClusterDisk1",
                       "owner": names[i % nodes], "priority": (3000, 2000, 2000, 1000, 0)[i % 5]}
                      for i in range(roles)],
        },
        "steps": steps,
        "run_until": 3600,
    }
    return yaml.safe_dump(document, sort_keys=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="CI size: 16 nodes, 1,000 roles, 3 runs")
    args = parser.parse_args()
    nodes, roles, runs = (16, 1000, 3) if args.small else (64, 8000, 5)
    text = scenario_text(nodes, roles, 10)
    scenario = parse_scenario(text, "bench.yaml")
    engine_times, events = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        result = run_scenario(scenario)
        engine_times.append(time.perf_counter() - started)
        events = len(result["events"])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(text)
        cli_times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "clusterstack.cli", "sim", "run", str(path), "--json"],
                           check=True, stdout=subprocess.DEVNULL)
            cli_times.append(time.perf_counter() - started)
    print(f"one simulated hour, {nodes} nodes, {roles} roles, 10 crashes and recoveries ({events} log entries): "
          f"median {statistics.median(engine_times):.3f} s wall (target <= 1 s)")
    print(f"`clusterstack sim run` of it as a process, start-up and YAML included: median "
          f"{statistics.median(cli_times):.3f} s (target <= 3 s; crm_simulate: 20-27 s for 2,000 resources)")


if __name__ == "__main__":
    main()
