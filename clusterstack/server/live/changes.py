"""What the live channel tells its listeners: which topics changed, and which async jobs finished.

A change never carries the data itself, only the names of the topics whose data changed, so that the console
asks the API again (with the caller's own rights) for what it shows. Topics about the infrastructure (hosts,
clusters, storage, alerts, failover clusters) go to root admins only; topics about owned things (instances,
volumes, events, async jobs) go to whoever may see something of the owners that changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Infrastructure topics: only a root admin may list these.
HOSTS = "hosts"
CLUSTERS = "clusters"
STORAGE = "storage"
ALERTS = "alerts"
FAILOVER_CLUSTER_PREFIX = "failovercluster:"  # + the cluster's id (its uuid, as the API shows it)
# Owned topics: each change is known per (account, domain) that owns the changed rows.
VMS = "vms"
VOLUMES = "volumes"
EVENTS = "events"
JOBS = "jobs"

INFRASTRUCTURE_TOPICS = (HOSTS, CLUSTERS, STORAGE, ALERTS)
OWNED_TOPICS = (VMS, VOLUMES, EVENTS, JOBS)


def failover_cluster_topic(cluster_uuid: str) -> str:
    return f"{FAILOVER_CLUSTER_PREFIX}{cluster_uuid}"


@dataclass(frozen=True)
class Owner:
    """Who owns a changed row: its account and domain (None for rows of nobody, e.g. system events)."""

    account_id: int | None
    domain_id: int | None


@dataclass(frozen=True)
class FinishedJob:
    uuid: str  # the job id the API showed (jobid)
    owner: Owner


@dataclass
class Change:
    """One poll's worth of changes."""

    infrastructure: set[str] = field(default_factory=set)
    owned: dict[str, set[Owner]] = field(default_factory=dict)
    finished_jobs: list[FinishedJob] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.infrastructure or self.owned or self.finished_jobs)

    def touch(self, topic: str, owners: set[Owner] | frozenset[Owner]) -> None:
        if owners:
            self.owned.setdefault(topic, set()).update(owners)
