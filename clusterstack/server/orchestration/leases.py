"""Leases on clusters: exactly one management server follows a failover cluster at a time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.sync_leases import ClusterSyncLease


def claim(db: Session, cluster_id: int, owner: str, seconds: float) -> bool:
    """Take or renew the lease on a cluster; True when `owner` holds it afterwards."""
    now = utcnow()
    result = db.execute(
        update(ClusterSyncLease)
        .where(ClusterSyncLease.cluster_id == cluster_id,
               or_(ClusterSyncLease.owner == owner, ClusterSyncLease.expires < now))
        .values(owner=owner, expires=now + timedelta(seconds=seconds),
                renewals=ClusterSyncLease.renewals + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:  # type: ignore[attr-defined]
        return True
    if db.get(ClusterSyncLease, cluster_id) is not None:
        return False
    try:
        with db.begin_nested():
            db.add(ClusterSyncLease(cluster_id=cluster_id, owner=owner, expires=now + timedelta(seconds=seconds)))
    except IntegrityError:
        return False
    return True


def release(db: Session, cluster_id: int, owner: str) -> None:
    db.execute(
        update(ClusterSyncLease)
        .where(ClusterSyncLease.cluster_id == cluster_id, ClusterSyncLease.owner == owner)
        .values(expires=utcnow())
        .execution_options(synchronize_session=False)
    )


def renew(db: Session, cluster_ids: list[int], owner: str, seconds: float) -> set[int]:
    """Renew every lease `owner` still holds among `cluster_ids` in one statement; answer the ones it holds."""
    now = utcnow()
    db.execute(
        update(ClusterSyncLease)
        .where(ClusterSyncLease.cluster_id.in_(cluster_ids), ClusterSyncLease.owner == owner)
        .values(expires=now + timedelta(seconds=seconds), renewals=ClusterSyncLease.renewals + 1)
        .execution_options(synchronize_session=False)
    )
    return set(db.scalars(select(ClusterSyncLease.cluster_id).where(
        ClusterSyncLease.cluster_id.in_(cluster_ids), ClusterSyncLease.owner == owner)))


def claimable(db: Session, cluster_ids: list[int], owner: str) -> set[int]:
    """Which of `cluster_ids` `owner` could claim now: no lease yet, an expired one, or its own."""
    if not cluster_ids:
        return set()
    taken = set(db.scalars(select(ClusterSyncLease.cluster_id).where(
        ClusterSyncLease.cluster_id.in_(cluster_ids), ClusterSyncLease.owner != owner,
        ClusterSyncLease.expires >= utcnow())))
    return set(cluster_ids) - taken
