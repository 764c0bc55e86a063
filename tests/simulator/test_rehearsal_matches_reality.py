"""A rehearsal's prediction is what then happens: for every scenario under scenarios/, at the start and just
before each of its node crashes, the rehearsal of a crash (of each running node alone, and of the nodes the
scenario crashes at that moment) is compared with the crash itself run by the engine on virtual time, as the
simulator runs it: every role's final owner node, group state and VM state must agree.

Two predictions are held to it: the rehearsal on the cluster itself, and the rehearsal on the cluster rebuilt from
the simulator's report as the management server reads it (the JSON driver's parse, then the server's conversion),
which is what rehearseFailoverClusterFailure answers."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from clusterstack.failover import Cluster, ClusterError
from clusterstack.failover import events as ev
from clusterstack.failover.rehearsal import Rehearsal, rehearse
from clusterstack.failover.rehearsal_state import cluster_from_state
from clusterstack.hypervisor.simulator import parse_report
from clusterstack.server.orchestration.rehearsal import state_of
from clusterstack.simulator.scenario import Scenario, load_scenario
from clusterstack.simulator.service import SimulatedCluster

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))


def _moments(scenario: Scenario) -> list[tuple[Cluster, tuple[str, ...]]]:
    """(the cluster just before, the nodes to crash) at the start and before each crash step of the scenario."""
    cluster = Cluster.from_spec(scenario.spec, now=0.0)
    out: list[tuple[Cluster, tuple[str, ...]]] = []
    running = tuple(n.name for n in cluster._ordered_nodes() if n.usable)
    out += [(cluster.copy(), (name,)) for name in running[:-1] or running]
    steps = sorted(scenario.steps, key=lambda s: s.at)
    for i, step in enumerate(steps):
        if isinstance(step.event, ev.NodeCrash) and (i == 0 or steps[i - 1].at != step.at
                                                     or not isinstance(steps[i - 1].event, ev.NodeCrash)):
            _run(cluster, step.at)
            together = tuple(s.event.node for s in steps[i:] if s.at == step.at and isinstance(s.event, ev.NodeCrash))
            if any(cluster.nodes[n].usable for n in together):
                out.append((cluster.copy(), together))
        _run(cluster, step.at)
        with contextlib.suppress(ClusterError):  # a step the cluster refuses changes nothing; the scenario goes on
            cluster.apply(step.event, step.at)
    return out


def _run(cluster: Cluster, until: float) -> None:
    while (deadline := cluster.next_deadline()) is not None and deadline <= until:
        cluster.advance(deadline)
    cluster.advance(until)


def _reality(cluster: Cluster, nodes: tuple[str, ...]) -> dict[str, tuple[Any, ...]]:
    real = cluster.copy()
    start = real.now
    for name in nodes:
        real.apply(ev.NodeCrash(name), start)
    horizon = start + real.profile.failed_retry
    while (deadline := real.next_deadline()) is not None and deadline < horizon:
        real.advance(deadline)
    return {r.name: (r.owner, r.state, r.vm_state) for r in real.roles.values()}


def _predicted(answer: Rehearsal) -> dict[str, tuple[Any, ...]]:
    return {r.name: (r.owner, r.state, r.vm_state) for r in answer.roles}


def _as_reported(cluster: Cluster, spec: Any) -> Cluster:
    """The cluster rebuilt from the simulator's GET /cluster as the management server reads it."""
    sim = SimulatedCluster(spec, port=1)
    sim.cluster = cluster
    report, _ = parse_report(sim.report())
    return cluster_from_state(state_of(report))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_prediction_is_what_happens(path: Path) -> None:
    scenario = load_scenario(path)
    moments = _moments(scenario)
    assert moments, f"{path.name}: no node to crash"
    for cluster, nodes in moments:
        reality = _reality(cluster, nodes)
        before = {r.name: (r.owner, r.state, r.vm_state) for r in cluster.roles.values()}
        assert _predicted(rehearse(cluster, nodes)) == reality, f"{path.name} at {cluster.now:g} s, crash {nodes}"
        assert {r.name: (r.owner, r.state, r.vm_state) for r in cluster.roles.values()} == before  # unchanged
        from_report = rehearse(_as_reported(cluster, scenario.spec), nodes)
        assert _predicted(from_report) == reality, f"{path.name} at {cluster.now:g} s, crash {nodes}, from the report"

