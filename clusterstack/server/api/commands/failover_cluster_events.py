"""listFailoverClusterEvents: the failover cluster's event log (Failover Cluster Manager's Cluster Events).

The log holds FailoverClustering and Hyper-V-VMMS entries (1069, 1135, 1201, 20418, ...), newest first here.
An entry names the role it concerns only in its message, in the wording Windows uses ("clustered role
'i-2-3-VM'", "virtual machine 'i-2-3-VM'", "'i-2-3-VM' started successfully"); `role` is read from there.
"""

from __future__ import annotations

import re
from typing import Any

from clusterstack.hypervisor.base import ClusterEventReport, DriverError
from clusterstack.server.api.commands.failover_cluster import (
    CLUSTER_ID,
    cluster_fields,
    failover_cluster_of,
    matches,
    page_of,
)
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import param_error
from clusterstack.server.api.listing import ListResponse
from clusterstack.server.api.lookup import find_by_uuid
from clusterstack.server.api.registry import ADMIN, PAGING_PARAMS, Param, api_command, define_entity
from clusterstack.server.db.models.infrastructure import Cluster
from clusterstack.server.db.models.instances import VMInstance
from clusterstack.server.orchestration.cluster_access import as_api_error, follower_service

EVENT_LEVELS = ("Critical", "Error", "Warning", "Information", "Verbose")
BATCH = 1000  # entries asked of the cluster at a time

# How FailoverClustering and Hyper-V-VMMS messages name a role (its VM has the role's name).
_ROLE_IN_MESSAGE = (
    re.compile(r"clustered role '([^']+)'", re.IGNORECASE),
    re.compile(r"virtual machine '([^']+)'", re.IGNORECASE),
    re.compile(r"^'([^']+)' (?:was|started|has|is)\b"),
)

define_entity("failoverclusterevent", [
    ("id", "long", "the entry's sequence number in the cluster's log (newer entries have larger ones)"),
    ("created", "date", "when the cluster logged the entry"),
    ("source", "string", "the channel, e.g. Microsoft-Windows-FailoverClustering"),
    ("eventid", "integer", "the Windows event ID, e.g. 1069 or 1135"),
    ("level", "string", "Critical, Error, Warning or Information"),
    ("node", "string", "the node that logged the entry"),
    ("message", "string", "the entry's text"),
    ("role", "string", "the role the entry concerns, if any"),
    ("clusterid", "string", "the ID of the CloudStack cluster"),
    ("clustername", "string", "the name of the CloudStack cluster"),
])


def role_in_message(message: str) -> str | None:
    for pattern in _ROLE_IN_MESSAGE:
        found = pattern.search(message)
        if found:
            return found.group(1)
    return None


def cluster_events(ctx: CallContext, cluster: Cluster, since: int) -> list[ClusterEventReport]:
    """Every entry the cluster still has after sequence number `since`, oldest first (read in batches)."""
    try:
        driver = follower_service(ctx.server).driver_for(cluster)
        entries: list[ClusterEventReport] = []
        cursor: str | None = None
        while True:
            page = driver.read_events(cursor, BATCH)
            entries.extend(e for e in page.events if e.seq > since)
            if len(page.events) < BATCH:
                return entries
            cursor = page.cursor
    except DriverError as exc:
        raise as_api_error(exc, cluster) from None


def render_event(cluster: Cluster, entry: ClusterEventReport, role: str | None) -> dict[str, Any]:
    return {
        "id": entry.seq, "created": entry.time, "source": entry.source, "eventid": entry.id,
        "level": entry.level, "node": entry.node, "message": entry.message, "role": role,
        **cluster_fields(cluster),
    }


@api_command(
    "listFailoverClusterEvents", roles=ADMIN, response="failoverclusterevent",
    description="Lists the event log of a cluster's failover cluster, newest first (Failover Cluster Manager's "
    "Cluster Events): node removals, role failures and moves, live migrations, CSV redirection.",
    params=[
        CLUSTER_ID,
        Param("role", description="only entries about this role (an instance's internal name)"),
        Param("virtualmachineid", "uuid", description="only entries about the role of this instance"),
        Param("level", description="only entries of this level", choices=EVENT_LEVELS),
        Param("since", "long", minimum=0, description="only entries after this id (sequence number)"),
        *PAGING_PARAMS,
    ],
)
def list_failover_cluster_events(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    cluster = failover_cluster_of(ctx, p)
    roles = {p["role"].lower()} if "role" in p else None
    if "virtualmachineid" in p:
        vm = find_by_uuid(ctx.db, VMInstance, p["virtualmachineid"], "virtual machine", "virtualmachineid")
        if vm.cluster_id != cluster.id or not vm.instance_name:
            raise param_error(f"Invalid parameter virtualmachineid value={p['virtualmachineid']}: VM {vm.name} is "
                              f"not a role of cluster {cluster.name}")
        named = vm.instance_name.lower()
        roles = {named} if roles is None or named in roles else set()
    items = []
    for entry in reversed(cluster_events(ctx, cluster, p.get("since", 0))):
        role = role_in_message(entry.message)
        if roles is not None and (role is None or role.lower() not in roles):
            continue
        if "level" in p and entry.level.lower() != p["level"].lower():
            continue
        if not matches(p.get("keyword"), entry.message, entry.source, entry.node, str(entry.id)):
            continue
        items.append(render_event(cluster, entry, role))
    return page_of(ctx, "failoverclusterevent", items, p)
