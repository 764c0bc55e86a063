"""Property tests over random clusters: the rehearsal on its cheap scratch copy answers what a full copy answers
and what the crash itself then does, leaves the cluster as it was, and HA admission refuses exactly when the worst
case (some loss of k nodes) would strand an HA role."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusterstack.failover import Cluster, ClusterSpec, DiskSpec, NodeSpec, RoleSpec
from clusterstack.failover import events as ev
from clusterstack.failover.rehearsal import rehearse

PRIORITIES = (3000, 2000, 1000, 0)


@st.composite
def clusters(draw: Any) -> Cluster:
    count = draw(st.integers(2, 6))
    names = [f"N{i + 1}" for i in range(count)]
    memory = [draw(st.sampled_from((4096, 8192, 16384))) for _ in names]
    witness = draw(st.sampled_from(("none", "disk")))
    disks = [DiskSpec("ClusterDisk1", 100, r"C:\ClusterStorage\Volume1", names[0])]
    if witness == "disk":
        disks.append(DiskSpec("Witness", 1, None, names[0]))
    used = dict.fromkeys(names, 0)
    roles = []
    for i in range(draw(st.integers(0, 14))):
        owner = draw(st.sampled_from(names))
        size = draw(st.sampled_from((512, 1024, 2048, 4096)))
        running = draw(st.booleans()) and used[owner] + size <= memory[names.index(owner)]
        if running:
            used[owner] += size
        possible = draw(st.sampled_from(([], [owner], names[:2])))
        if possible and owner not in possible:
            possible = [*possible, owner]
        roles.append(RoleSpec(f"vm-{i}", memory_mb=size, owner=owner, priority=draw(st.sampled_from(PRIORITIES)),
                              state="Running" if running else "Off", possible_owners=possible,
                              preferred_owners=draw(st.sampled_from(([], names[-1:]))),
                              anti_affinity=draw(st.sampled_from(([], ["web"], ["sql"])))))
    spec = ClusterSpec(name="P", profile=draw(st.sampled_from(("2012R2", "2016"))), witness=witness,
                       witness_disk="Witness" if witness == "disk" else None, dynamic_quorum=draw(st.booleans()),
                       nodes=[NodeSpec(n, memory_mb=m) for n, m in zip(names, memory, strict=True)], disks=disks,
                       roles=roles)
    return Cluster.from_spec(spec)


def outcome(cluster: Cluster) -> dict[str, tuple[Any, ...]]:
    return {r.name: (r.owner, r.state, r.vm_state, r.memory_mb, tuple(r.failovers)) for r in cluster.roles.values()}


def crash(cluster: Cluster, nodes: tuple[str, ...]) -> Cluster:
    real = cluster.copy()
    for name in nodes:
        real.apply(ev.NodeCrash(name), real.now)
    horizon = real.now + real.profile.failed_retry
    while (deadline := real.next_deadline()) is not None and deadline < horizon:
        real.advance(deadline)
    return real


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters(), st.data())
def test_scratch_copy_full_copy_and_reality_agree(cluster: Cluster, data: Any) -> None:
    names = list(cluster.nodes)
    lost = tuple(data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names) - 1, unique=True)))
    before = outcome(cluster)
    nodes_before = {n.name: (n.state, n.memory_used_mb, sorted(n.roles)) for n in cluster.nodes.values()}
    cheap = rehearse(cluster, lost)
    assert outcome(cluster) == before
    assert {n.name: (n.state, n.memory_used_mb, sorted(n.roles)) for n in cluster.nodes.values()} == nodes_before
    assert cheap == rehearse(cluster, lost, full_copy=True)
    real = crash(cluster, lost)
    assert {r.name: (r.owner, r.state, r.vm_state) for r in cheap.roles} == \
        {r.name: (r.owner, r.state, r.vm_state) for r in real.roles.values()}
    real.check_invariants()
    for node in cheap.nodes:
        assert node.memory_used_mb == real.nodes[node.name].memory_used_mb
    for fate in cheap.roles:
        assert (fate.reason is None) == (fate.vm_state in ("Running", "Starting", "Migrating", "Unmonitored"))


def strands_ha(cluster: Cluster, k: int) -> bool:
    """The definition, by brute force on full copies: some loss of k running nodes leaves an HA role that ran
    without a place."""
    running = [n.name for n in cluster._ordered_nodes() if n.usable]
    sets = [tuple(running)] if k >= len(running) else list(itertools.combinations(running, k))
    for lost in sets:
        real = crash(cluster, lost)
        for role in cluster.roles.values():
            was = role.vm_state == "Running"
            if was and role.priority > 0 and real.roles[role.name].vm_state not in ("Running", "Starting"):
                return True
    return False


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters(), st.integers(1, 2), st.sampled_from((512, 2048, 8192)), st.data())
def test_admission_refuses_exactly_when_the_worst_case_strands_an_ha_role(cluster: Cluster, k: int, memory: int,
                                                                         data: Any) -> None:
    from clusterstack.server.orchestration.admission import Change, with_change, worst_case

    node = data.draw(st.sampled_from(list(cluster.nodes)))
    change = Change("new-ha", memory, 2000, node)
    changed = with_change(cluster, change)
    if changed is None:  # the cluster could not run it at all: it refuses by itself
        assert not any(n.usable and n.free_mb >= memory for n in cluster.nodes.values())
        return
    # the same change made through the engine's own events on a full copy
    real = cluster.copy()
    real.apply(ev.AddRole(RoleSpec("new-ha", memory_mb=memory, owner=changed.roles["new-ha"].owner,
                                   priority=2000, state="Off")), real.now)
    real.apply(ev.StartRole("new-ha"), real.now)
    while (deadline := real.next_deadline()) is not None and deadline <= real.now + 1:
        real.advance(deadline)
    assert real.roles["new-ha"].owner == changed.roles["new-ha"].owner
    assert (worst_case(changed, k) is not None) == strands_ha(real, k)
    assert "new-ha" not in cluster.roles  # the cluster asked about is not changed


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters(), st.data())
def test_the_shortcut_proves_only_what_the_rehearsal_then_shows(cluster: Cluster, data: Any) -> None:
    """LossBounds.placed answers only when the full rehearsal keeps quorum and restarts every HA role that ran on
    the lost nodes, and then with the memory the rehearsal leaves free on the survivors."""
    from clusterstack.failover.rehearsal_bounds import LossBounds

    names = list(cluster.nodes)
    lost = tuple(data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names) - 1, unique=True)))
    free = LossBounds(cluster).placed(lost)
    answer = rehearse(cluster, lost)
    if free is not None:
        assert answer.quorum_after.has_quorum
        assert not answer.stranded(ha_only=True)
        assert free == sum(n.memory_free_mb for n in answer.survivors())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters(), st.data())
def test_a_random_cluster_read_from_its_report_rehearses_as_itself(cluster: Cluster, data: Any) -> None:
    """The cluster the server rebuilds from the simulator's report (the JSON driver's parse, the server's conversion)
    predicts what the cluster itself predicts, and so what it then does."""
    from clusterstack.failover.rehearsal_state import cluster_from_state
    from clusterstack.hypervisor.simulator import parse_report
    from clusterstack.server.orchestration.rehearsal import state_of
    from clusterstack.simulator.service import SimulatedCluster

    names = list(cluster.nodes)
    lost = tuple(data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names) - 1, unique=True)))
    sim = SimulatedCluster(ClusterSpec(name=cluster.name, nodes=[NodeSpec(n) for n in names]), port=1)
    sim.cluster = cluster
    report, _ = parse_report(sim.report())
    rebuilt = cluster_from_state(state_of(report))

    def fates(answer: Any) -> dict[str, tuple[Any, ...]]:
        return {r.name: (r.owner, r.state, r.vm_state, r.reason, r.online_after_seconds) for r in answer.roles}

    assert fates(rehearse(rebuilt, lost)) == fates(rehearse(cluster, lost))
