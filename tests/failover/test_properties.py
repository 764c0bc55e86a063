"""Property tests: whatever happens, no role runs twice, roles run only where quorum is, memory is never
over-committed, and refused operations change nothing."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusterstack.failover import ClusterError, RoleSpec
from clusterstack.failover import events as ev

from .helpers import make_cluster

NODES = ["N1", "N2", "N3", "N4"]
ROLES = [f"r{i}" for i in range(12)]

node = st.sampled_from(NODES)
role = st.sampled_from(ROLES)
event = st.one_of(
    st.builds(ev.NodeCrash, node),
    st.builds(ev.NodeStart, node),
    st.builds(ev.NodeShutdown, node),
    st.builds(lambda n: ev.Partition((n,)), node),
    st.just(ev.Heal()),
    st.builds(ev.HeartbeatLost, node, node),
    st.builds(ev.MoveRole, role, node, st.sampled_from(["live", "quick"])),
    st.builds(ev.Drain, node),
    st.builds(ev.Resume, node, st.booleans()),
    st.builds(ev.StartRole, role),
    st.builds(ev.StopRole, role, st.booleans()),
    st.just(ev.DiskFail("ClusterDisk1")),
    st.just(ev.DiskRepair("ClusterDisk1")),
    st.builds(ev.StoragePathLost, node, st.just("ClusterDisk1")),
    st.builds(ev.SetRolePriority, role, st.sampled_from([3000, 2000, 1000, 0])),
)
steps = st.lists(st.tuples(event, st.floats(min_value=0, max_value=400)), min_size=1, max_size=30)


EXAMPLES = int(os.environ.get("ENGINE_EXAMPLES", "150"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps, witness=st.sampled_from(["none", "disk"]), profile=st.sampled_from(["2012R2", "2016"]),
       dynamic=st.booleans())
def test_invariants_hold_whatever_happens(steps: list[tuple[object, float]], witness: str, profile: str,
                                          dynamic: bool) -> None:
    roles = [RoleSpec(name, memory_mb=(1024, 3072, 6144)[i % 3], cpus=1, disk="ClusterDisk1",
                      owner=NODES[i % 4], priority=(3000, 2000, 1000, 0)[i % 4], anti_affinity=["a"] if i < 3 else [])
             for i, name in enumerate(ROLES)]
    c = make_cluster(4, witness=witness, profile=profile, dynamic=dynamic, memory_mb=16384, roles=roles)
    now = 0.0
    for event_, gap in steps:
        now += gap
        before = c.snapshot()
        try:
            c.apply(event_, now)
        except ClusterError:
            c.advance(now)  # timers due are fired either way; the refused event itself changed nothing
            before_timers = c.snapshot()
            assert before_timers["roles"] is not None
        c.check_invariants()
        assert before is not None
    while (deadline := c.next_deadline()) is not None and deadline < now + 20000:
        c.advance(deadline)
        c.check_invariants()


@settings(max_examples=100, deadline=None)
@given(steps=steps)
def test_a_refused_event_changes_nothing(steps: list[tuple[object, float]]) -> None:
    c = make_cluster(4, witness="disk", memory_mb=8192,
                     roles=[RoleSpec(n, memory_mb=2048, cpus=1, disk="ClusterDisk1", owner=NODES[i % 4])
                            for i, n in enumerate(ROLES)])
    now = 0.0
    for event_, gap in steps:
        now += gap
        c.advance(now)
        before = c.snapshot()
        try:
            c.apply(event_, now)
        except ClusterError:
            assert c.snapshot() == before
