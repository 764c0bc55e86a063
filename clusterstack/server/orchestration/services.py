"""Background services of the orchestration layer, started with the management server."""

from __future__ import annotations

from clusterstack.server.app import register_service
from clusterstack.server.orchestration.follower import ClusterFollowerService

register_service("clusters", ClusterFollowerService)
