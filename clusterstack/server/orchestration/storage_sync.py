"""PreSetup primary storage follows its Cluster Shared Volume: capacity and used space come from the cluster."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from clusterstack.hypervisor.base import ClusterReport
from clusterstack.server import events
from clusterstack.server.db.models.infrastructure import STORAGE_TYPE_PRESETUP, Cluster, StoragePool

log = logging.getLogger("clusterstack.server.orchestration.storage_sync")


def apply(db: Session, cluster: Cluster, report: ClusterReport, previous: ClusterReport | None) -> None:
    """Keep capacity and used space current; alert when a CSV stops (or starts again) being Online."""
    pools = db.scalars(select(StoragePool).where(StoragePool.cluster_id == cluster.id,
                                                 StoragePool.pool_type == STORAGE_TYPE_PRESETUP,
                                                 StoragePool.removed.is_(None)))
    for pool in pools:
        disk = report.csv(pool.path)
        if disk is None:
            continue
        pool.capacity_bytes = disk.capacity_bytes
        pool.used_bytes = max(0, disk.capacity_bytes - disk.free_bytes)
        before = previous.csv(pool.path) if previous is not None else None
        was_online = before.state == "Online" if before is not None else True
        if was_online and disk.state != "Online":
            subject = (f"Cluster Shared Volume {disk.name} ({disk.path}) of failover cluster {report.name} is "
                       f"{disk.state}; primary storage {pool.name} is unavailable")
            log.error(subject)
            events.raise_alert(db, "ALERT.STORAGE.MISC", subject, zone_id=pool.zone_id, pod_id=pool.pod_id,
                               cluster_id=cluster.id, resource_uuid=pool.uuid)
            events.record_event(db, "UPDATE.PS", subject, level="ERROR", resource_type="StoragePool",
                                resource_uuid=pool.uuid, resource_name=pool.name)
        elif not was_online and disk.state == "Online":
            events.record_event(db, "UPDATE.PS", f"Cluster Shared Volume {disk.name} is Online again; primary "
                                f"storage {pool.name} is available", resource_type="StoragePool",
                                resource_uuid=pool.uuid, resource_name=pool.name)
