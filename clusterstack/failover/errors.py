"""Operations the cluster refuses. Raised by Cluster.apply before anything changes."""

from __future__ import annotations


class ClusterError(Exception):
    kind = "bad_request"


class NotFound(ClusterError):
    kind = "not_found"


class QuorumLost(ClusterError):
    kind = "quorum_lost"


class NotEnoughMemory(ClusterError):
    kind = "not_enough_memory"


class InvalidState(ClusterError):
    kind = "invalid_state"
