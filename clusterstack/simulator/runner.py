"""`clusterstack sim run`: a scenario on virtual time, as fast as it can go."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clusterstack.failover import Cluster, ClusterError, LogEntry
from clusterstack.simulator.scenario import Scenario, ScenarioError, load_scenario


def run_scenario(scenario: Scenario, path: str = "<scenario>") -> dict[str, Any]:
    """Run every step at its time and every timer in between; the event log and the final cluster."""
    cluster = Cluster.from_spec(scenario.spec, now=0.0)
    log: list[LogEntry] = []
    applied: list[dict[str, Any]] = []
    for step in scenario.steps:
        if step.at > scenario.run_until:
            break
        applied.append({"time": step.at, "step": step.text})
        try:
            log.extend(cluster.apply(step.event, step.at))
        except ClusterError as exc:
            raise ScenarioError(path, step.line, f"at {step.at:g} s the cluster refused the step: {exc}") from None
    while True:
        deadline = cluster.next_deadline()
        if deadline is None or deadline > scenario.run_until:
            break
        log.extend(cluster.advance(deadline))
    log.extend(cluster.advance(scenario.run_until))
    return {"steps": applied, "events": [entry.to_dict() for entry in log], "final": cluster.snapshot()}


def run_scenario_file(path: str | Path) -> dict[str, Any]:
    return run_scenario(load_scenario(path), str(path))
