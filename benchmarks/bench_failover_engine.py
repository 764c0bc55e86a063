"""Failover planning speed: a 64-node cluster with 8,000 roles, one node crashes.

Prints the median time the engine takes to remove the crashed node and plan the restart of its roles
(placement of every role, highest priority first). Target (issue 3): <= 5 ms median at full size.
`--small` runs the CI size. Figures only; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import statistics
import time

from clusterstack.failover import Cluster, ClusterSpec, DiskSpec, NodeSpec, RoleSpec
from clusterstack.failover import events as ev


def build(nodes: int, roles: int) -> Cluster:
    names = [f"NODE{i:03d}" for i in range(nodes)]
    spec = ClusterSpec(
        name="BENCH", witness="disk", witness_disk="Witness",
        nodes=[NodeSpec(n, memory_mb=1024 * 1024, cpus=64) for n in names],
        disks=[DiskSpec("ClusterDisk1", 100_000, r"C:\ClusterStorage\Volume1", names[0]), DiskSpec("Witness", 1)],
        roles=[RoleSpec(f"i-2-{i}-VM", memory_mb=2048, cpus=2, disk="ClusterDisk1", owner=names[i % nodes],
                        priority=(3000, 2000, 2000, 1000, 0)[i % 5]) for i in range(roles)],
    )
    return Cluster.from_spec(spec)


def plan_once(template: Cluster, victim: str) -> float:
    cluster = template.copy()
    cluster.apply(ev.NodeCrash(victim), 100.0)
    detect = cluster.next_deadline()
    assert detect is not None
    started = time.perf_counter()
    cluster.advance(detect)  # membership change, votes, and the placement of every role of the victim
    elapsed = time.perf_counter() - started
    moved = [r for r in cluster.roles.values() if r.owner == victim]
    assert not moved, "every role left the crashed node"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="CI size: 16 nodes, 1,000 roles, 5 runs")
    args = parser.parse_args()
    nodes, roles, runs = (16, 1000, 5) if args.small else (64, 8000, 21)
    template = build(nodes, roles)
    times = [plan_once(template, f"NODE{(i * 7) % nodes:03d}") for i in range(runs)]
    median = statistics.median(times) * 1000
    print(f"failover planning, {nodes} nodes, {roles} roles ({roles // nodes} on the crashed node), {runs} runs: "
          f"median {median:.2f} ms, min {min(times) * 1000:.2f} ms, max {max(times) * 1000:.2f} ms "
          f"(target <= 5 ms at 64 nodes / 8,000 roles)")


if __name__ == "__main__":
    main()
