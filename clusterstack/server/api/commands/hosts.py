"""Hosts: listHosts, updateHost, deleteHost. A host is a node of its cluster's failover cluster.

addHost (checked against the failover cluster's nodes) arrives with the Hyper-V work; it creates rows of
db.models.infrastructure.Host and answers with `render_host`. `state` is the connection (Up, Down, Alert, ...),
`resourcestate` what the operator asked (Enabled, Disabled, maintenance states).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from clusterstack.server import events
from clusterstack.server.api.commands.capacity import decimal, percent
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import in_use, param_error
from clusterstack.server.api.listing import ListResponse, paged
from clusterstack.server.api.lookup import (
    filter_row_id,
    find_by_uuid,
    keyword_pattern,
    matches_hypervisor,
    matches_value,
)
from clusterstack.server.api.registry import ADMIN, PAGING_PARAMS, Param, api_command, define_entity
from clusterstack.server.db.allocation import HostAllocation, host_allocation, host_allocations
from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.infrastructure import (
    HOST_RESOURCE_STATES,
    HOST_STATES,
    HOST_TYPE_ROUTING,
    Cluster,
    Host,
    Pod,
    Zone,
)
from clusterstack.server.db.references import describe_usages, usages

# CloudStack records no event for updateHost/deleteHost; clusterstack does, under these names.
EVENT_HOST_UPDATE = "HOST.UPDATE"
EVENT_HOST_DELETE = "HOST.DELETE"
_MAINTENANCE_STATES = ("PrepareForMaintenance", "Maintenance", "ErrorInMaintenance")

define_entity("host", [
    ("id", "string", "the ID of the host"),
    ("name", "string", "the name of the host"),
    ("state", "status", "the state of the host"),
    ("resourcestate", "string", "the resource state of the host"),
    ("type", "type", "the host type"),
    ("ipaddress", "string", "the IP address of the host"),
    ("hypervisor", "string", "the host hypervisor"),
    ("hypervisorversion", "string", "the hypervisor version"),
    ("cpunumber", "integer", "the CPU number of the host"),
    ("cpuspeed", "long", "the CPU speed of the host"),
    ("cpuallocated", "string", "the amount of the host's CPU currently allocated"),
    ("cpuallocatedvalue", "long", "the amount of the host's CPU currently allocated in MHz"),
    ("cpuallocatedpercentage", "string", "the amount of the host's CPU currently allocated in percentage"),
    ("cpuused", "string", "the amount of the host's CPU currently used"),
    ("cpuwithoverprovisioning", "string", "the amount of the host's CPU after applying the cpu.overprovisioning."
     "factor"),
    ("memorytotal", "long", "the memory total of the host, this parameter is deprecated use "
     "memorywithoverprovisioning"),
    ("memorywithoverprovisioning", "string", "the amount of the host's memory after applying the "
     "mem.overprovisioning.factor"),
    ("memoryallocated", "long", "the amount of the host's memory currently allocated"),
    ("memoryallocatedpercentage", "string", "the amount of the host's memory currently allocated in percentage"),
    ("memoryused", "long", "the amount of the host's memory currently used"),
    ("podid", "string", "the Pod ID of the host"),
    ("podname", "string", "the Pod name of the host"),
    ("zoneid", "string", "the Zone ID of the host"),
    ("zonename", "string", "the Zone name of the host"),
    ("clusterid", "string", "the cluster ID of the host"),
    ("clustername", "string", "the cluster name of the host"),
    ("clustertype", "string", "the cluster type of the cluster that host belongs to"),
    ("hosttags", "string", "comma-separated list of tags for the host"),
    ("explicithosttags", "string", "comma-separated list of explicit host tags for the host"),
    ("created", "date", "the date and time the host was created"),
    ("lastpinged", "date", "the date and time the host was last pinged"),
    ("disconnected", "date", "true if the host is disconnected. False otherwise."),
    ("hahost", "boolean", "true if the host is Ha host (dedicated to vms started by HA process; false otherwise"),
    ("islocalstorageactive", "boolean", "true if local storage is active, false otherwise"),
    ("managementserverid", "string", "the management server ID of the host"),
    ("oscategoryid", "string", "the OS category ID of the host"),
    ("annotation", "string", "the last annotation set on this host by an admin"),
    ("events", "string", "events available for the host"),
    ("details", "map", "Host details in key/value pairs."),
    ("arch", "string", "CPU Arch of the host"),
])


def _percent(used: float, total: float) -> str:
    return f"{percent(int(used), int(total))}%"


def render_host(host: Host, allocation: HostAllocation | None = None) -> dict[str, Any]:
    """A host as listHosts answers it; `allocation` (what its instances hold) is read when not given."""
    if allocation is None:
        session = object_session(host)
        assert session is not None, "a host to render is loaded in a session"
        allocation = host_allocation(session, host.id)
    cluster = host.cluster
    cpu_total = host.cpus * host.cpu_speed
    cpu_with_overcommit = cpu_total * cluster.cpu_overcommit_ratio
    memory_with_overcommit = host.total_memory * cluster.memory_overcommit_ratio
    tags = ",".join(host.tag_list)
    return {
        "id": host.uuid,
        "name": host.name,
        "state": host.status,
        "resourcestate": host.resource_state,
        "type": host.type,
        "ipaddress": host.private_ip_address,
        "hypervisor": host.hypervisor_type,
        "hypervisorversion": host.hypervisor_version,
        "cpunumber": host.cpus,
        "cpuspeed": host.cpu_speed,
        "cpuallocated": _percent(allocation.cpu_mhz, cpu_with_overcommit),
        "cpuallocatedvalue": allocation.cpu_mhz,
        "cpuallocatedpercentage": _percent(allocation.cpu_mhz, cpu_with_overcommit),
        "cpuused": f"{decimal(host.cpu_used_percent)}%",
        "cpuwithoverprovisioning": decimal(cpu_with_overcommit),
        "memorytotal": host.total_memory,
        "memorywithoverprovisioning": decimal(memory_with_overcommit),
        "memoryallocated": allocation.memory_bytes,
        "memoryallocatedpercentage": _percent(allocation.memory_bytes, memory_with_overcommit),
        "memoryused": host.memory_used,
        "podid": host.pod.uuid,
        "podname": host.pod.name,
        "zoneid": host.zone.uuid,
        "zonename": host.zone.name,
        "clusterid": cluster.uuid,
        "clustername": cluster.name,
        "clustertype": cluster.cluster_type,
        "hosttags": tags or None,
        "explicithosttags": tags or None,
        "created": host.created,
        "lastpinged": host.last_pinged,
        "disconnected": host.disconnected,
        "hahost": False,
        "islocalstorageactive": False,
        "managementserverid": host.mgmt_server_id,
        "annotation": host.annotation,
        "details": {"failoverClusterNode": host.node_name},
        "arch": "x86_64",
    }


@api_command(
    "listHosts", description="Lists hosts.", response="host", roles=ADMIN,
    params=[
        Param("id", "uuid", description="the id of the host"),
        Param("name", description="the name of the host"),
        Param("zoneid", "uuid", description="the Zone ID for the host"),
        Param("podid", "uuid", description="the Pod ID for the host"),
        Param("clusterid", "uuid", description="lists hosts existing in particular cluster"),
        Param("type", description="the host type"),
        Param("state", description="the state of the host"),
        Param("resourcestate", description="list hosts by resource state. Resource state represents current state "
              "determined by admin of host, value can be one of [Enabled, Disabled, Unmanaged, "
              "PrepareForMaintenance, ErrorInMaintenance, Maintenance, Error]"),
        Param("hypervisor", description="hypervisor type of host: Hyperv"),
        Param("hahost", "boolean", description="if true, list only hosts dedicated to HA"),
        Param("details", "list", description="comma separated list of host details requested, value can be a list "
              "of [ min, all, capacity, events, stats]"),
        Param("virtualmachineid", "uuid", description="lists hosts in the same cluster as this VM and flag hosts "
              "with enough CPU/RAm to host this VM"),
        Param("outofbandmanagementenabled", "boolean", description="list hosts for which out-of-band management "
              "is enabled"),
        *PAGING_PARAMS,
    ],
)
def list_hosts(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    db = ctx.db
    query = select(Host).where(Host.removed.is_(None)).order_by(Host.id)
    if "id" in p:
        query = query.where(Host.uuid == p["id"])
    if "name" in p:
        query = query.where(Host.name == p["name"])
    if "zoneid" in p:
        query = query.where(Host.zone_id == filter_row_id(db, Zone, p["zoneid"], "zone", "zoneid"))
    if "podid" in p:
        query = query.where(Host.pod_id == filter_row_id(db, Pod, p["podid"], "pod", "podid"))
    if "clusterid" in p:
        query = query.where(Host.cluster_id == filter_row_id(db, Cluster, p["clusterid"], "cluster", "clusterid"))
    if "type" in p:
        query = query.where(matches_value(Host.type, p["type"], (HOST_TYPE_ROUTING,)))
    if "state" in p:
        query = query.where(matches_value(Host.status, p["state"], HOST_STATES))
    if "resourcestate" in p:
        query = query.where(matches_value(Host.resource_state, p["resourcestate"], HOST_RESOURCE_STATES))
    if "hypervisor" in p:
        query = query.where(matches_hypervisor(Host.hypervisor_type, p["hypervisor"]))
    if p.get("hahost") or p.get("outofbandmanagementenabled"):
        query = query.where(Host.id.is_(None))  # no HA-dedicated hosts, no out-of-band management
    if "virtualmachineid" in p:
        raise param_error("Invalid parameter virtualmachineid: use findHostsForMigration to list hosts for an "
                          "instance")
    if "keyword" in p:
        query = query.where(Host.name.ilike(keyword_pattern(p["keyword"]), escape="\\"))
    rows, total = paged(db, query, p)
    held = host_allocations(db, [host.id for host in rows])
    return ListResponse("host", [render_host(host, held[host.id]) for host in rows], total)


def _normalise_tags(tags: list[str]) -> str:
    seen: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if tag and tag not in seen:
            seen.append(tag)
    return ",".join(seen)


def _check_allocation(host: Host, requested: str) -> str:
    if host.resource_state in _MAINTENANCE_STATES:
        raise param_error(f"Unable to {requested.lower()} host {host.name}: it is in resource state "
                          f"{host.resource_state}; use cancelHostMaintenance first")
    return "Enabled" if requested == "Enable" else "Disabled"


@api_command(
    "updateHost", description="Updates a host.", response="host", roles=ADMIN,
    params=[
        Param("id", "uuid", required=True, description="the ID of the host to update"),
        Param("allocationstate", description="Change resource state of host, valid values are [Enable, Disable]. "
              "Operation may failed if host in states not allowing Enable/Disable", choices=("Enable", "Disable")),
        Param("hosttags", "list", description="list of tags to be added to the host"),
        Param("istagarule", "boolean", description="Whether the informed tag is a JS interpretable rule or not."),
        Param("oscategoryid", "uuid", description="the id of Os category to update the host with"),
        Param("url", description="the new uri for the secondary storage: nfs://host/path"),
        Param("annotation", description="Add an annotation to this host"),
        Param("name", description="Change the name of host", since="4.15"),
    ],
)
def update_host(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    host = find_by_uuid(db, Host, p["id"], "host")
    new_state = _check_allocation(host, p["allocationstate"]) if "allocationstate" in p else None
    if p.get("istagarule"):
        raise param_error("Invalid parameter istagarule: host tag rules are not supported; give plain tags")
    if "oscategoryid" in p:
        raise param_error(f"Unable to find os category with specified oscategoryid: {p['oscategoryid']}")
    if "url" in p:
        raise param_error("Invalid parameter url: the url of a Hyper-V host cannot be changed")
    if "name" in p and not p["name"].strip():
        raise param_error("Invalid parameter name: a host name cannot be blank")
    changes: list[str] = []
    if new_state is not None and new_state != host.resource_state:
        changes.append(f"resource state {host.resource_state} -> {new_state}")
        host.resource_state = new_state
    if "hosttags" in p:
        host.host_tags = _normalise_tags(p["hosttags"])
        changes.append(f"host tags [{host.host_tags}]")
    if "annotation" in p:
        host.annotation = p["annotation"] or None
        changes.append("annotation")
    if "name" in p:
        host.name = p["name"].strip()
        changes.append(f"name {host.name}")
    detail = "; ".join(changes) or "no change"
    events.record_event(db, EVENT_HOST_UPDATE, f"Updated host {host.name}: {detail}", ctx.actor,
                        resource_type="Host", resource_uuid=host.uuid, resource_name=host.name)
    return {"host": render_host(host)}


def _check_deletable(db: Session, host: Host, forced: bool) -> None:
    if not forced and host.resource_state != "Maintenance":
        raise in_use(f"Host {host.name} cannot be deleted as it is not in maintenance mode. Either put the host "
                     "into maintenance or perform a forced deletion.")
    found = usages(db, Host.__table__, host.id)  # type: ignore[arg-type]
    if found:
        raise in_use(f"Host {host.name} cannot be deleted: it still has {describe_usages(found)}")


@api_command(
    "deleteHost", description="Deletes a host.", response="success", roles=ADMIN,
    params=[
        Param("id", "uuid", required=True, description="the host ID"),
        Param("forced", "boolean", description="Force delete the host. All HA enabled vms running on the host "
              "will be put to HA; HA disabled ones will be stopped"),
        Param("forcedestroylocalstorage", "boolean", description="Force destroy local storage on this host. All "
              "VMs created on this local storage will be destroyed"),
    ],
)
def delete_host(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    host = find_by_uuid(db, Host, p["id"], "host")
    _check_deletable(db, host, bool(p.get("forced")))
    host.removed = utcnow()
    host.status = "Removed"
    events.record_event(db, EVENT_HOST_DELETE, f"Successfully deleted host {host.name}", ctx.actor,
                        resource_type="Host", resource_uuid=host.uuid, resource_name=host.name)
    return {"success": True}
