"""Primary storage: createStoragePool, listStoragePools, updateStoragePool, deleteStoragePool.

Hyper-V takes PreSetup (a Cluster Shared Volume, scope CLUSTER) or SMB (scope CLUSTER or ZONE). Whether a
PreSetup path really is a CSV of the cluster is for the failover cluster to say: the Hyper-V layer registers a
check with `register_presetup_check`, which refuses the path or reports the volume's size and used space.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import false, func, select

from clusterstack.server import events
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import in_use, param_error
from clusterstack.server.api.listing import ListResponse, paged
from clusterstack.server.api.lookup import filter_row_id, find_by_uuid, keyword_pattern
from clusterstack.server.api.registry import ADMIN, PAGING_PARAMS, Param, api_command, define_entity
from clusterstack.server.api.storage_url import StorageUrl, parse_storage_url
from clusterstack.server.db.allocation import pool_allocation, pool_allocations
from clusterstack.server.db.base import new_uuid, utcnow
from clusterstack.server.db.models.infrastructure import (
    HYPERVISOR_HYPERV,
    HYPERVISOR_SPELLINGS,
    STORAGE_POOL_STATES,
    STORAGE_SCOPES,
    STORAGE_TYPE_PRESETUP,
    STORAGE_TYPE_SMB,
    Cluster,
    Host,
    Pod,
    StoragePool,
    Zone,
    hypervisor_type,
)
from clusterstack.server.db.references import describe_usages, usages
from clusterstack.server.identity import secret_store
from clusterstack.server.state import ServerState

# CloudStack's primary storage events (UPDATE.PS, ENABLE.PS, DISABLE.PS); it records none for create and
# delete, so clusterstack names those in the same style.
EVENT_CREATE_PRIMARY_STORAGE = "CREATE.PS"
EVENT_DELETE_PRIMARY_STORAGE = "DELETE.PS"
EVENT_UPDATE_PRIMARY_STORAGE = "UPDATE.PS"
EVENT_ENABLE_PRIMARY_STORAGE = "ENABLE.PS"
EVENT_DISABLE_PRIMARY_STORAGE = "DISABLE.PS"


@dataclass(frozen=True)
class VolumeFacts:
    """What the failover cluster says of a CSV: its size and the space in use, in bytes."""

    capacity_bytes: int
    used_bytes: int


PresetupCheck = Callable[[CallContext, Cluster, str], "VolumeFacts | None"]
_PRESETUP_CHECKS: list[PresetupCheck] = []


def register_presetup_check(check: PresetupCheck) -> None:
    """Add a check run before a PreSetup pool is created: raise an ApiError to refuse the path, or return the
    volume's figures (None when this check has nothing to say about the cluster)."""
    if check not in _PRESETUP_CHECKS:
        _PRESETUP_CHECKS.append(check)


def unregister_presetup_check(check: PresetupCheck) -> None:
    if check in _PRESETUP_CHECKS:
        _PRESETUP_CHECKS.remove(check)


def seal_credentials(server: ServerState, credentials: dict[str, str]) -> str | None:
    """SMB credentials as stored: JSON encrypted with the server's secret.key (never shown in a response)."""
    if not credentials:
        return None
    return secret_store.for_data_dir(server.data_dir).encrypt(json.dumps(credentials, sort_keys=True))


def pool_credentials(server: ServerState, pool: StoragePool) -> dict[str, str]:
    """The SMB user, password and domain of a pool, for the layer that mounts the share."""
    if not pool.details:
        return {}
    return dict(json.loads(secret_store.for_data_dir(server.data_dir).decrypt(pool.details)))


define_entity("storagepool", [
    ("id", "string", "the ID of the storage pool"),
    ("name", "string", "the name of the storage pool"),
    ("zoneid", "string", "the Zone ID of the storage pool"),
    ("zonename", "string", "the Zone name of the storage pool"),
    ("podid", "string", "the Pod ID of the storage pool"),
    ("podname", "string", "the Pod name of the storage pool"),
    ("clusterid", "string", "the ID of the cluster for the storage pool"),
    ("clustername", "string", "the name of the cluster for the storage pool"),
    ("ipaddress", "string", "the IP address of the storage pool"),
    ("path", "string", "the storage pool path"),
    ("created", "date", "the date and time the storage pool was created"),
    ("type", "string", "the storage pool type"),
    ("disksizetotal", "long", "the total disk size of the storage pool"),
    ("disksizeallocated", "long", "the host's currently allocated disk size"),
    ("disksizeused", "long", "the host's currently used disk size"),
    ("capacityiops", "long", "IOPS CloudStack can provision from this storage pool"),
    ("tags", "string", "the tags for the storage pool"),
    ("istagarule", "boolean", "whether the storage pool tags are a rule or not"),
    ("state", "storagepoolstatus", "the state of the storage pool"),
    ("scope", "string", "the scope of the storage pool"),
    ("overprovisionfactor", "string", "the overprovisionfactor for the storage pool"),
    ("hypervisor", "string", "the hypervisor type of the storage pool"),
    ("provider", "string", "Storage provider for this pool"),
    ("managed", "boolean", "whether this pool is managed or not"),
    ("suitableformigration", "boolean", "true if this pool is suitable to migrate a volume, false otherwise"),
    ("hasannotations", "boolean", "true if the entity/resource has annotations"),
])


def render_pool(pool: StoragePool, allocated_bytes: int) -> dict[str, Any]:
    tags = ",".join(pool.tag_list)
    return {
        "id": pool.uuid,
        "name": pool.name,
        "zoneid": pool.zone.uuid,
        "zonename": pool.zone.name,
        "podid": pool.pod.uuid if pool.pod else None,
        "podname": pool.pod.name if pool.pod else None,
        "clusterid": pool.cluster.uuid if pool.cluster else None,
        "clustername": pool.cluster.name if pool.cluster else None,
        "ipaddress": pool.host_address,
        "path": pool.path,
        "created": pool.created,
        "type": pool.pool_type,
        "disksizetotal": pool.capacity_bytes,
        "disksizeallocated": allocated_bytes,
        "disksizeused": pool.used_bytes,
        "capacityiops": pool.capacity_iops,
        "tags": tags or None,
        "istagarule": pool.is_tag_a_rule,
        "state": pool.status,
        "scope": pool.scope,
        "overprovisionfactor": "1.0",
        "hypervisor": pool.hypervisor,
        "provider": pool.provider,
        "managed": pool.managed,
        "hasannotations": False,
    }


def _details(entries: list[dict[str, str]] | None) -> dict[str, str]:
    """`details[0].user=u&details[0].password=p` or `details[0].key=user&details[0].value=u` -> {user: u, ...}."""
    out: dict[str, str] = {}
    for entry in entries or []:
        if "key" in entry and "value" in entry:
            out[entry["key"].lower()] = entry["value"]
        else:
            out.update({k.lower(): v for k, v in entry.items()})
    return out


def _tags(raw: str | list[str] | None) -> str:
    items = raw if isinstance(raw, list) else (raw or "").split(",")
    seen: list[str] = []
    for item in items:
        item = item.strip()
        if item and item not in seen:
            seen.append(item)
    return ",".join(seen)


@dataclass
class _Placement:
    zone: Zone
    scope: str
    pod: Pod | None
    cluster: Cluster | None
    hypervisor: str | None


def _placement(ctx: CallContext, p: dict[str, Any]) -> _Placement:
    db = ctx.db
    zone = find_by_uuid(db, Zone, p["zoneid"], "zone", "zoneid")
    scope = p.get("scope", "CLUSTER").upper()
    if scope == "CLUSTER":
        if "clusterid" not in p:
            raise param_error("cluster id can't be null, if scope is cluster")
        if "podid" not in p:
            raise param_error("Cluster id requires pod id")
        pod = find_by_uuid(db, Pod, p["podid"], "pod", "podid")
        cluster = find_by_uuid(db, Cluster, p["clusterid"], "cluster", "clusterid")
        if pod.zone_id != zone.id:
            raise param_error(f"Pod {pod.name} does not belong to zone {zone.name}")
        if cluster.pod_id != pod.id:
            raise param_error(f"Cluster {cluster.name} does not belong to pod {pod.name}")
        if "hypervisor" in p and hypervisor_type(p["hypervisor"]) != cluster.hypervisor_type:
            raise param_error(f"Invalid parameter hypervisor value={p['hypervisor']}: cluster {cluster.name} is "
                              f"{cluster.hypervisor_type}")
        return _Placement(zone, scope, pod, cluster, cluster.hypervisor_type)
    if "hypervisor" not in p:
        raise param_error("Missing parameter hypervisor. Hypervisor type is required to create zone wide primary "
                          "storage.")
    if "podid" in p or "clusterid" in p:
        raise param_error("Zone wide primary storage takes no podid or clusterid; use scope CLUSTER for those")
    return _Placement(zone, scope, None, None, hypervisor_type(p["hypervisor"]) or p["hypervisor"])


def _check_url(db: Any, placement: _Placement, url: StorageUrl, details: dict[str, str]) -> dict[str, str]:
    if url.pool_type == STORAGE_TYPE_PRESETUP and placement.scope != "CLUSTER":
        raise param_error("PreSetup primary storage is a Cluster Shared Volume of one failover cluster: create it "
                          "with scope CLUSTER, a podid and a clusterid")
    credentials: dict[str, str] = {}
    if url.pool_type == STORAGE_TYPE_SMB:
        credentials = {**url.credentials, **{k: v for k, v in details.items() if k in ("user", "password", "domain")}}
        missing = [k for k in ("user", "password") if not credentials.get(k)]
        if missing:
            raise param_error(f"SMB primary storage needs a {' and a '.join(missing)}: give them as details[0]."
                              f"{missing[0]}=... (or in the url, ?user=...&password=...)")
    same_path = func.lower(StoragePool.path) == url.path.lower()
    clash = db.scalar(select(StoragePool).where(
        StoragePool.zone_id == placement.zone.id, func.lower(StoragePool.host_address) == url.host.lower(),
        same_path, StoragePool.removed.is_(None)))
    if clash is not None:
        raise param_error(f"Storage pool {url.display} already exists in zone {placement.zone.name} as "
                          f"{clash.name}")
    if url.pool_type == STORAGE_TYPE_PRESETUP and placement.cluster is not None:
        clash = db.scalar(select(StoragePool).where(
            StoragePool.cluster_id == placement.cluster.id, StoragePool.pool_type == STORAGE_TYPE_PRESETUP,
            same_path, StoragePool.removed.is_(None)))
        if clash is not None:
            raise param_error(f"The Cluster Shared Volume {url.path} of cluster {placement.cluster.name} is already "
                              f"primary storage {clash.name}")
    return credentials


@api_command(
    "createStoragePool", description="Creates a storage pool.", response="storagepool", roles=ADMIN,
    params=[
        Param("name", required=True, description="the name for the storage pool"),
        Param("url", required=True, length=1024, description="the URL of the storage pool: "
              "PreSetup://<cluster>/C:\\ClusterStorage\\Volume1 or cifs://<server>/<share>"),
        Param("zoneid", "uuid", required=True, description="the Zone ID for the storage pool"),
        Param("podid", "uuid", description="the Pod ID for the storage pool"),
        Param("clusterid", "uuid", description="the cluster ID for the storage pool"),
        Param("scope", description="the scope of the storage: cluster or zone", choices=STORAGE_SCOPES),
        Param("hypervisor", description="hypervisor type of the hosts in zone that will be attached to this "
              "storage pool: Hyperv", choices=HYPERVISOR_SPELLINGS),
        Param("tags", description="the tags for the storage pool"),
        Param("istagarule", "boolean", description="Whether the informed tag is a JS interpretable rule or not."),
        Param("details", "map", description="the details for the storage pool (SMB: user, password, domain)"),
        Param("capacitybytes", "long", description="bytes CloudStack can provision from this storage pool",
              minimum=0),
        Param("capacityiops", "long", description="IOPS CloudStack can provision from this storage pool",
              minimum=0),
        Param("managed", "boolean", description="whether the storage should be managed by CloudStack"),
        Param("provider", description="the storage provider name", choices=("DefaultPrimary",)),
    ],
)
def create_storage_pool(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    name = p["name"].strip()
    if not name:
        raise param_error("Invalid parameter name: a storage pool name cannot be blank")
    if p.get("managed"):
        raise param_error("Invalid parameter managed: managed primary storage is not supported for Hyper-V")
    if p.get("istagarule"):
        raise param_error("Invalid parameter istagarule: storage tag rules are not supported; give plain tags")
    placement = _placement(ctx, p)
    if placement.hypervisor not in (HYPERVISOR_HYPERV, None):
        raise param_error(f"zone wide storage pool is not supported for hypervisor type {placement.hypervisor}")
    url = parse_storage_url(p["url"])
    credentials = _check_url(db, placement, url, _details(p.get("details")))
    capacity = p.get("capacitybytes", 0)
    used = 0
    if url.pool_type == STORAGE_TYPE_PRESETUP and placement.cluster is not None:
        for check in _PRESETUP_CHECKS:
            facts = check(ctx, placement.cluster, url.path)
            if facts is not None:
                capacity, used = facts.capacity_bytes, facts.used_bytes
                break
    pool = StoragePool(
        uuid=new_uuid(), name=name, pool_type=url.pool_type, scope=placement.scope, status="Up",
        zone_id=placement.zone.id, zone=placement.zone,
        pod_id=placement.pod.id if placement.pod else None, pod=placement.pod,
        cluster_id=placement.cluster.id if placement.cluster else None, cluster=placement.cluster,
        hypervisor=placement.hypervisor, host_address=url.host, path=url.path, url=url.display,
        capacity_bytes=capacity, used_bytes=used, allocated_bytes=0, capacity_iops=p.get("capacityiops"),
        storage_tags=_tags(p.get("tags")), details=seal_credentials(ctx.server, credentials),
    )
    db.add(pool)
    db.flush()
    where = f"cluster {placement.cluster.name}" if placement.cluster else f"zone {placement.zone.name}"
    events.record_event(db, EVENT_CREATE_PRIMARY_STORAGE, f"Successfully created primary storage {pool.name} "
                        f"({pool.url}) in {where}", ctx.actor,
                        resource_type="StoragePool", resource_uuid=pool.uuid, resource_name=pool.name)
    return {"storagepool": render_pool(pool, pool_allocation(db, pool.id))}


@api_command(
    "listStoragePools", description="Lists storage pools.", response="storagepool", roles=ADMIN,
    params=[
        Param("id", "uuid", description="the ID of the storage pool"),
        Param("name", description="the name of the storage pool"),
        Param("zoneid", "uuid", description="the Zone ID for the storage pool"),
        Param("podid", "uuid", description="the Pod ID for the storage pool"),
        Param("clusterid", "uuid", description="list storage pools belongig to the specific cluster"),
        Param("ipaddress", description="the IP address for the storage pool"),
        Param("path", description="the storage pool path"),
        Param("scope", description="the scope of the storage pool", choices=STORAGE_SCOPES),
        Param("status", description="the status of the storage pool", choices=STORAGE_POOL_STATES),
        Param("hostid", "uuid", description="host ID of the storage pools"),
        Param("storagecustomstats", "boolean", description="If true, lists the custom stats of the storage pool"),
        *PAGING_PARAMS,
    ],
)
def list_storage_pools(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    db = ctx.db
    query = select(StoragePool).where(StoragePool.removed.is_(None)).order_by(StoragePool.id)
    if "id" in p:
        query = query.where(StoragePool.uuid == p["id"])
    if "name" in p:
        query = query.where(StoragePool.name == p["name"])
    if "zoneid" in p:
        query = query.where(StoragePool.zone_id == filter_row_id(db, Zone, p["zoneid"], "zone", "zoneid"))
    if "podid" in p:
        query = query.where(StoragePool.pod_id == filter_row_id(db, Pod, p["podid"], "pod", "podid"))
    if "clusterid" in p:
        query = query.where(StoragePool.cluster_id == filter_row_id(db, Cluster, p["clusterid"], "cluster",
                                                                     "clusterid"))
    if "hostid" in p:
        host = db.get(Host, filter_row_id(db, Host, p["hostid"], "host", "hostid"))
        if host is None or host.removed is not None:
            query = query.where(false())  # a host that is gone reaches no storage
        else:
            query = query.where((StoragePool.cluster_id == host.cluster_id)
                                | ((StoragePool.scope == "ZONE") & (StoragePool.zone_id == host.zone_id)))
    if "ipaddress" in p:
        query = query.where(StoragePool.host_address == p["ipaddress"])
    if "path" in p:
        path = p["path"]
        query = query.where(func.lower(StoragePool.path) == path.lower())
    if "scope" in p:
        query = query.where(StoragePool.scope == p["scope"])
    if "status" in p:
        query = query.where(StoragePool.status == p["status"])
    if "keyword" in p:
        query = query.where(StoragePool.name.ilike(keyword_pattern(p["keyword"]), escape="\\"))
    rows, total = paged(db, query, p)
    held = pool_allocations(db, [pool.id for pool in rows])
    return ListResponse("storagepool", [render_pool(pool, held[pool.id]) for pool in rows], total)


@api_command(
    "updateStoragePool", description="Updates a storage pool.", response="storagepool", roles=ADMIN,
    params=[
        Param("id", "uuid", required=True, description="the Id of the storage pool"),
        Param("name", description="Change the name of the storage pool", since="4.15"),
        Param("tags", "list", description="comma-separated list of tags for the storage pool"),
        Param("istagarule", "boolean", description="Whether the informed tag is a JS interpretable rule or not."),
        Param("capacitybytes", "long", description="bytes CloudStack can provision from this storage pool",
              minimum=0),
        Param("capacityiops", "long", description="IOPS CloudStack can provision from this storage pool",
              minimum=0),
        Param("enabled", "boolean", description="false to disable the pool for allocation of new volumes, true to "
              "enable it back."),
        Param("details", "map", description="the details for the storage pool"),
    ],
)
def update_storage_pool(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    pool = find_by_uuid(db, StoragePool, p["id"], "storage pool")
    if "name" in p and not p["name"].strip():
        raise param_error("Invalid parameter name: a storage pool name cannot be blank")
    if p.get("istagarule"):
        raise param_error("Invalid parameter istagarule: storage tag rules are not supported; give plain tags")
    in_use = max(pool.used_bytes, pool_allocation(db, pool.id))
    if "capacitybytes" in p and p["capacitybytes"] < in_use:
        raise param_error(f"Invalid parameter capacitybytes value={p['capacitybytes']}: the pool already has "
                          f"{in_use} bytes in use")
    if "enabled" in p and pool.status not in ("Up", "Disabled"):
        raise param_error(f"Unable to {'enable' if p['enabled'] else 'disable'} storage pool {pool.name}: it is "
                          f"in state {pool.status}")
    if "details" in p:
        if pool.pool_type != STORAGE_TYPE_SMB:
            raise param_error("Invalid parameter details: only SMB primary storage takes details (user, password, "
                              "domain)")
        merged = {**pool_credentials(ctx.server, pool), **_details(p["details"])}
        pool.details = seal_credentials(
            ctx.server, {k: v for k, v in merged.items() if k in ("user", "password", "domain")})
    if "name" in p:
        pool.name = p["name"].strip()
    if "tags" in p:
        pool.storage_tags = _tags(p["tags"])
    if "capacitybytes" in p:
        pool.capacity_bytes = p["capacitybytes"]
    if "capacityiops" in p:
        pool.capacity_iops = p["capacityiops"]
    event_type = EVENT_UPDATE_PRIMARY_STORAGE
    description = f"Successfully updated primary storage {pool.name}"
    if "enabled" in p:
        pool.status = "Up" if p["enabled"] else "Disabled"
        if len([k for k in p if k != "id"]) == 1:
            event_type = EVENT_ENABLE_PRIMARY_STORAGE if p["enabled"] else EVENT_DISABLE_PRIMARY_STORAGE
            description = f"Successfully {'enabled' if p['enabled'] else 'disabled'} primary storage {pool.name}"
    events.record_event(db, event_type, description, ctx.actor,
                        resource_type="StoragePool", resource_uuid=pool.uuid, resource_name=pool.name)
    return {"storagepool": render_pool(pool, pool_allocation(db, pool.id))}


@api_command(
    "deleteStoragePool", description="Deletes a storage pool.", response="success", roles=ADMIN,
    params=[
        Param("id", "uuid", required=True, description="Storage pool id"),
        Param("forced", "boolean", description="Force destroy storage pool (force expunge volumes in Destroyed "
              "state as a part of pool removal)"),
    ],
)
def delete_storage_pool(ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    db = ctx.db
    pool = find_by_uuid(db, StoragePool, p["id"], "storage pool")
    found = usages(db, StoragePool.__table__, pool.id)  # type: ignore[arg-type]
    if found:
        raise in_use(f"Cannot delete pool {pool.name} as there are associated {describe_usages(found)} on it")
    pool.removed = utcnow()
    pool.status = "Removed"
    events.record_event(db, EVENT_DELETE_PRIMARY_STORAGE, f"Successfully deleted primary storage {pool.name}",
                        ctx.actor, resource_type="StoragePool", resource_uuid=pool.uuid, resource_name=pool.name)
    return {"success": True}
