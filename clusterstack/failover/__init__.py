"""WSFC semantics, pure and deterministic. Imports nothing else of clusterstack.

    c = Cluster.from_spec(spec, now=0.0)
    entries = c.apply(events.NodeCrash("HYPERVCLLOUD17"), now=60.0)  # the event log it writes
    entries += c.advance(c.next_deadline())                          # timers: detection, migrations, retries
    c.snapshot()                                                     # the cluster as Failover Cluster Manager shows it
"""

from clusterstack.failover import events
from clusterstack.failover.cluster import Cluster
from clusterstack.failover.errors import ClusterError, InvalidState, NotEnoughMemory, NotFound, QuorumLost
from clusterstack.failover.log import LogEntry
from clusterstack.failover.spec import ClusterSpec, DiskSpec, NodeSpec, RoleSpec, SpecError

__all__ = [
    "Cluster",
    "ClusterError",
    "ClusterSpec",
    "DiskSpec",
    "InvalidState",
    "LogEntry",
    "NodeSpec",
    "NotEnoughMemory",
    "NotFound",
    "QuorumLost",
    "RoleSpec",
    "SpecError",
    "events",
]
