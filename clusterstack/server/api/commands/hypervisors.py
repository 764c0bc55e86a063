"""listHypervisors: clusterstack runs Hyper-V failover clusters, so Hyper-V is the one hypervisor it knows, under
CloudStack's name for it, `Hyperv`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from clusterstack.server.api.context import CallContext
from clusterstack.server.api.listing import ListResponse
from clusterstack.server.api.lookup import filter_row_id
from clusterstack.server.api.registry import ALL_ROLES, Param, api_command, define_entity
from clusterstack.server.db.models.infrastructure import HYPERVISORS, Cluster, Zone

define_entity("hypervisor", [("name", "string", "Hypervisor name")])


@api_command(
    "listHypervisors", description="List hypervisors", response="hypervisor", roles=ALL_ROLES,
    params=[Param("zoneid", "uuid", description="the zone id for listing hypervisors.")],
)
def list_hypervisors(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    """Without a zone: every hypervisor clusterstack supports. With one: those of the zone's clusters."""
    names: list[str] = list(HYPERVISORS)
    if "zoneid" in p:
        zone_id = filter_row_id(ctx.db, Zone, p["zoneid"], "zone", "zoneid")
        present = set(ctx.db.scalars(select(Cluster.hypervisor_type).where(
            Cluster.zone_id == zone_id, Cluster.removed.is_(None)).distinct()))
        names = [n for n in names if n in present]
    return ListResponse("hypervisor", [{"name": n} for n in names], len(names))
