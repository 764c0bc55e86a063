"""Start-ClusterNode [-ClearQuarantine] on the simulated node: a quarantined node rejoins only when the quarantine is
cleared; a node whose machine is off cannot be started from here."""

from __future__ import annotations

from clusterstack.failover import events as ev
from clusterstack.simulator.service import SimulatedCluster

from .test_cmdlets_reading import cmd, out, run, text, with_sim

N17 = "HYPERVCLLOUD17"


async def quarantine(sim: SimulatedCluster) -> None:
    """Three noticed crashes within an hour, run straight on the engine's clock."""
    c = sim.cluster
    for crash in range(3):
        c.apply(ev.NodeCrash(N17), c.now)
        c.advance(c.now + 60)
        if crash < 2:
            c.apply(ev.NodeStart(N17), c.now)
            c.advance(c.now + 60)
    assert c.nodes[N17].state == "Quarantined"
    sim.clock._start = c.now  # the simulator's clock goes on from where the engine is


def test_start_cluster_node_clears_a_quarantine_only_when_asked() -> None:
    async def check(sim: SimulatedCluster) -> None:
        await quarantine(sim)
        off = await run(sim, cmd("Start-ClusterNode", Name=N17, ClearQuarantine=True))
        assert off.output == [] and "The RPC server is unavailable" in off.errors[0].message
        assert sim.cluster.nodes[N17].state == "Quarantined"

        sim.apply(ev.NodeStart(N17))
        without = await run(sim, cmd("Start-ClusterNode", Name=N17))
        assert without.output == [] and "quarantined" in without.errors[0].message
        assert without.errors[0].category == 7  # InvalidOperation
        assert sim.cluster.nodes[N17].state == "Quarantined"

        [node] = await out(sim, cmd("Start-ClusterNode", N17, ClearQuarantine=True))
        assert node.Name == N17 and text(node.State) == "Joining"
        assert sim.cluster.nodes[N17].quarantined_until is None
        sim.cluster.advance(sim.cluster.now + 10)
        assert sim.cluster.nodes[N17].state == "Up"
        [again] = await out(sim, cmd("Start-ClusterNode", Name=N17, ClearQuarantine=True))  # running: nothing to do
        assert text(again.State) == "Up"

    with_sim(check)
