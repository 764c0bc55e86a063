"""Several management servers on one PostgreSQL share the clusters through per-cluster leases: each cluster is
followed by exactly one server, and when its server dies another takes it over once the lease runs out, resyncing
from a full report so that what changed meanwhile is not missed (issue 17)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from clusterstack.demo import ApiClient, set_up_seed_cloud
from clusterstack.server.db.base import utcnow
from clusterstack.server.db.models.sync_leases import ClusterSyncLease

from .seed_cloud import wait_until


def _states(api: ApiClient) -> dict[str, str]:
    return {h["name"]: h["state"] for h in api("listHosts", type="Routing").get("host", [])}


def _followed(server: Any) -> list[int]:
    return list(server.state.service("clusters").followed())


def test_a_dead_servers_cluster_is_taken_over_and_nothing_is_missed(postgres_url: str, live_server_factory: Any,
                                                                   simulator_factory: Any, tmp_path: Path) -> None:
    simulator = simulator_factory(speed=10.0)
    first = live_server_factory(postgres_url, tmp_path / "ms1")
    key, secret = first.admin_keys()
    api = ApiClient(first.endpoint, key, secret)
    ids = set_up_seed_cloud(api, simulator.url)
    wait_until(lambda: set(_states(api).values()) == {"Up"})
    second = live_server_factory(postgres_url, tmp_path / "ms2")
    wait_until(lambda: _followed(first) == [1])
    assert _followed(second) == []  # exactly one server follows a cluster

    # the first server dies: it stops, and its lease is left as a dead server leaves it, running out 3 s later
    msid, database = first.state.msid, first.state.database
    first.stop()
    with database.session() as db:
        db.execute(update(ClusterSyncLease).values(owner=msid, expires=utcnow() + timedelta(seconds=3)))
    # meanwhile the cluster changes: a node crashes and the HA roles would fail over
    simulator.fault("node-down", node="HYPERVCLLOUD17")
    key, secret = second.admin_keys()
    api = ApiClient(second.endpoint, key, secret)
    wait_until(lambda: _followed(second) == [1], timeout=60)
    wait_until(lambda: _states(api) == {"HYPERVCLLOUD13": "Up", "HYPERVCLLOUD17": "Down"}, timeout=60)
    assert ids["cluster"] == api("listClusters")["cluster"][0]["id"]
