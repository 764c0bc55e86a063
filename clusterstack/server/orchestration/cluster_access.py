"""Reaching a cluster's failover cluster from a command: the driver, and refusals in CloudStack's words."""

from __future__ import annotations

from typing import Any

from clusterstack.hypervisor.base import (
    AccessDenied,
    AuthenticationFailed,
    CertificateRejected,
    ClusterReport,
    ClusterUnreachable,
    DriverError,
    FailoverClusterDriver,
    InvalidState,
    NodeUnreachable,
    NotEnoughMemory,
    NotFound,
    OperationTimeout,
    QuorumLost,
)
from clusterstack.server.api import errors
from clusterstack.server.api.errors import ApiError
from clusterstack.server.db.models.infrastructure import Cluster
from clusterstack.server.state import ServerState


def follower_service(server: ServerState) -> Any:
    return server.service("clusters")


def driver_for(server: ServerState, cluster: Cluster) -> FailoverClusterDriver:
    try:
        return follower_service(server).driver_for(cluster)
    except DriverError as exc:
        raise as_api_error(exc, cluster) from None


def as_api_error(exc: DriverError, cluster: Cluster | None = None) -> ApiError:
    """A driver failure as the CloudStack error an API caller (or a failed job) reads."""
    where = f" (cluster {cluster.name})" if cluster is not None else ""
    text = f"{exc}{where}"
    if isinstance(exc, NotEnoughMemory):
        return errors.insufficient_capacity(text)
    if isinstance(exc, QuorumLost):
        return errors.unavailable(f"Failover cluster has lost quorum{where}: {exc}. New work on this cluster is "
                                  "refused until quorum is back")
    if isinstance(exc, AuthenticationFailed | AccessDenied):
        return errors.unavailable(f"{text}. The failover cluster refuses clusterstack's account: give a working "
                                  "one with updateHostPassword")
    if isinstance(exc, CertificateRejected):
        return errors.unavailable(f"{text}. Set hyperv.winrm.ca.file or hyperv.winrm.cert.sha256 to trust it")
    if isinstance(exc, ClusterUnreachable | NodeUnreachable | OperationTimeout):
        return errors.unavailable(text)
    if isinstance(exc, NotFound | InvalidState):
        return errors.param_error(text)
    return errors.internal_error(text)


def quorate_report(server: ServerState, cluster: Cluster) -> ClusterReport:
    """The cluster's report, refusing (534) when the failover cluster has no quorum."""
    try:
        report = driver_for(server, cluster).report()
    except DriverError as exc:
        raise as_api_error(exc, cluster) from None
    if report.quorum.state != "Up":
        raise errors.unavailable(
            f"Failover cluster {report.name} of cluster {cluster.name} has lost quorum ({report.quorum.votes} of "
            f"{report.quorum.votes_needed} votes needed); new work on this cluster is refused until quorum is back")
    return report


def require_quorum(cluster: Cluster) -> None:
    """Refuse new work (534) on a cluster whose failover cluster has lost quorum, as last reported.

    The follower keeps `cluster.quorate` current within milliseconds of the cluster's change feed, so this
    costs no round trip to the cluster on every request.
    """
    if not cluster.quorate:
        raise errors.unavailable(
            f"Failover cluster {cluster.failover_name or cluster.name} of cluster {cluster.name} has lost quorum; "
            "new work on this cluster is refused until quorum is back")


def wake(server: ServerState, cluster_id: int) -> None:
    service = server.services.get("clusters")
    if service is not None:
        service.wake(cluster_id)
