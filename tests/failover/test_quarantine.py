"""Quarantine and its way out: Start-ClusterNode -ClearQuarantine (events.ClearQuarantine)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusterstack.failover import Cluster, ClusterError, InvalidState, NotFound, RoleSpec
from clusterstack.failover import events as ev

from .helpers import ids, make_cluster, run_until
from .test_properties import NODES, ROLES, event


def crash_three_times(c: Cluster, node: str = "N3", start: float = 0.0) -> float:
    """Crash `node` three times within an hour, restarting it after each noticed crash; returns the time after."""
    t = start
    for _ in range(3):
        c.apply(ev.NodeCrash(node), t)
        run_until(c, t + 60)
        c.apply(ev.NodeStart(node), t + 60)
        run_until(c, t + 120)
        t += 600
    return t


def test_a_third_crash_quarantines_and_a_start_alone_does_not_bring_it_back() -> None:
    c = make_cluster(3)
    t = crash_three_times(c)
    assert c.nodes["N3"].state == "Quarantined" and c.nodes["N3"].alive and not c.nodes["N3"].member
    c.apply(ev.NodeStart("N3"), t)
    run_until(c, t + 600)
    assert c.nodes["N3"].state == "Quarantined"


def test_clear_quarantine_lets_a_running_node_join_at_once() -> None:
    c = make_cluster(3)
    t = crash_three_times(c)
    entries = c.apply(ev.ClearQuarantine("N3"), t)
    assert 1683 not in ids(entries)
    assert c.nodes["N3"].state == "Joining" and c.nodes["N3"].quarantined_until is None
    run_until(c, t + 30)
    node = c.nodes["N3"]
    assert (node.state, node.member, node.current_vote) == ("Up", True, 1)
    # the quarantine timer that was set for later finds nothing to do
    run_until(c, t + 3 * 3600)
    assert c.nodes["N3"].state == "Up"
    c.check_invariants()


def test_the_count_starts_again_after_a_clear() -> None:
    c = make_cluster(3)
    t = crash_three_times(c)
    c.apply(ev.ClearQuarantine("N3"), t)
    run_until(c, t + 30)
    c.apply(ev.NodeCrash("N3"), t + 60)
    run_until(c, t + 120)
    assert c.nodes["N3"].state == "Down"  # one crash since the clear, not four


def test_clear_quarantine_of_a_node_whose_machine_is_off_leaves_it_down_until_it_starts() -> None:
    c = make_cluster(3)
    t = crash_three_times(c)
    c.apply(ev.NodeCrash("N3"), t)  # the machine dies while quarantined
    c.apply(ev.ClearQuarantine("N3"), t + 10)
    run_until(c, t + 60)
    assert c.nodes["N3"].state == "Down"
    c.apply(ev.NodeStart("N3"), t + 60)
    run_until(c, t + 120)
    assert c.nodes["N3"].state == "Up"


def test_roles_can_go_back_to_a_cleared_node() -> None:
    c = make_cluster(3, roles=[RoleSpec("a", memory_mb=1024, cpus=1, disk="ClusterDisk1", owner="N3")])
    t = crash_three_times(c)
    assert c.roles["a"].owner != "N3" and c.roles["a"].vm_state == "Running"
    c.apply(ev.ClearQuarantine("N3"), t)
    run_until(c, t + 30)
    c.apply(ev.MoveRole("a", "N3", "live"), t + 30)
    run_until(c, t + 300)
    assert (c.roles["a"].owner, c.roles["a"].vm_state) == ("N3", "Running")


@pytest.mark.parametrize("state", ["Up", "Down"])
def test_clearing_a_node_that_is_not_quarantined_is_refused_and_changes_nothing(state: str) -> None:
    c = make_cluster(3)
    if state == "Down":
        c.apply(ev.NodeCrash("N3"), 0)
        run_until(c, 60)
    before = c.snapshot()
    with pytest.raises(InvalidState, match=f"N3 is {state}, not Quarantined"):
        c.apply(ev.ClearQuarantine("N3"), 60)
    assert c.snapshot() == before
    with pytest.raises(NotFound):
        c.apply(ev.ClearQuarantine("N9"), 60)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.one_of(event, st.builds(ev.ClearQuarantine, st.sampled_from(NODES))),
                                st.floats(min_value=0, max_value=400)), min_size=1, max_size=40))
def test_invariants_hold_with_clears_among_everything_else(steps: list[tuple[object, float]]) -> None:
    roles = [RoleSpec(name, memory_mb=2048, cpus=1, disk="ClusterDisk1", owner=NODES[i % 4])
             for i, name in enumerate(ROLES)]
    c = make_cluster(4, witness="disk", memory_mb=16384, roles=roles)
    now = 0.0
    for event_, gap in steps:
        now += gap
        c.advance(now)
        before = c.snapshot()
        try:
            c.apply(event_, now)
        except ClusterError:
            assert c.snapshot() == before
        c.check_invariants()
    while (deadline := c.next_deadline()) is not None and deadline < now + 20000:
        c.advance(deadline)
        c.check_invariants()
