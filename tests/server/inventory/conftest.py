"""Fixtures for inventory tests: a live server (SQLite and PostgreSQL), the admin's `cs` client, a plain user's
client, and clusters and hosts seeded through the models (addCluster/addHost come with the Hyper-V work)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import cs
import pytest
from sqlalchemy import select

ZONE_ARGS = {"networktype": "Advanced", "dns1": "8.8.8.8", "internaldns1": "10.0.0.1"}
POD_ARGS = {"gateway": "10.1.0.1", "netmask": "255.255.255.0", "startip": "10.1.0.10", "endip": "10.1.0.200"}
GIB = 1024**3


class ApiFailure:
    """What a refused call answered: its HTTP status, errorcode, cserrorcode and errortext."""

    def __init__(self, exc: cs.CloudStackApiException) -> None:
        self.status = exc.response.status_code if exc.response is not None else None
        error = exc.error or {}
        self.errorcode = error.get("errorcode")
        self.cserrorcode = error.get("cserrorcode")
        self.text = error.get("errortext", "")


def refused(call: Callable[..., Any], **params: Any) -> ApiFailure:
    """Call an API command that must fail and return how it failed."""
    with pytest.raises(cs.CloudStackApiException) as info:
        call(**params)
    failure = ApiFailure(info.value)
    assert failure.status == failure.errorcode, "HTTP status must equal errorcode"
    return failure


class Cloud:
    """A live management server with the admin's client, and helpers to build inventory."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.cs = server.cs()

    def zone(self, name: str = "HVCluster", **extra: Any) -> dict[str, Any]:
        return self.cs.createZone(name=name, **{**ZONE_ARGS, **extra})["zone"]

    def pod(self, zone: dict[str, Any], name: str = "P1", **extra: Any) -> dict[str, Any]:
        return self.cs.createPod(name=name, zoneid=zone["id"], **{**POD_ARGS, **extra})["pod"]

    def cluster(self, pod: dict[str, Any], name: str = "CI1") -> dict[str, Any]:
        """A cluster row as addCluster will make it (seeded through the models until addCluster exists)."""
        from clusterstack.server.db.models.infrastructure import Cluster, Pod

        with self.server.state.database.session() as db:
            pod_row = db.scalar(select(Pod).where(Pod.uuid == pod["id"]))
            row_uuid = str(uuid.uuid4())
            row = Cluster(uuid=row_uuid, name=name, zone_id=pod_row.zone_id, pod_id=pod_row.id,
                          failover_name=name)
            db.add(row)
        return self.cs.listClusters(id=row_uuid)["cluster"][0]

    def host(self, cluster: dict[str, Any], name: str, *, cpus: int = 8, speed: int = 2400,
             memory: int = 64 * GIB, cpu_allocated: int = 0, memory_allocated: int = 0,
             **columns: Any) -> dict[str, Any]:
        """A host row as addHost will make it (seeded through the models until addHost exists). With
        `cpu_allocated` (MHz) or `memory_allocated` (bytes), a Running instance on it holds that much."""
        from clusterstack.server.db.models.infrastructure import Cluster, Host

        with self.server.state.database.session() as db:
            cluster_row = db.scalar(select(Cluster).where(Cluster.uuid == cluster["id"]))
            row_uuid = str(uuid.uuid4())
            row = Host(uuid=row_uuid, name=name, node_name=name, status=columns.pop("status", "Up"),
                       zone_id=cluster_row.zone_id, pod_id=cluster_row.pod_id, cluster_id=cluster_row.id,
                       cpus=cpus, cpu_speed=speed, total_memory=memory, private_ip_address="10.1.0.20",
                       **columns)
            db.add(row)
        if cpu_allocated or memory_allocated:
            self.running_instance(row_uuid, cpu_allocated, memory_allocated)
        return self.cs.listHosts(id=row_uuid)["host"][0]

    def running_instance(self, host_uuid: str, cpu_mhz: int, memory_bytes: int) -> None:
        """A Running instance of the admin's on a host, holding `cpu_mhz` and `memory_bytes` of it."""
        from clusterstack.server.db.models.catalog import ServiceOffering
        from clusterstack.server.db.models.identity import Account
        from clusterstack.server.db.models.infrastructure import Host
        from clusterstack.server.db.models.instances import VMInstance

        offering = self.cs.createServiceOffering(name=f"held-{uuid.uuid4().hex[:8]}", displaytext="held",
                                                 cpunumber=1, cpuspeed=max(1, cpu_mhz),
                                                 memory=max(1, memory_bytes // 1024**2))["serviceoffering"]
        with self.server.state.database.session() as db:
            host = db.scalar(select(Host).where(Host.uuid == host_uuid))
            account = db.scalar(select(Account).where(Account.name == "admin"))
            offering_id = db.scalar(select(ServiceOffering.id).where(ServiceOffering.uuid == offering["id"]))
            db.add(VMInstance(name=f"held-{host.name}", state="Running", service_offering_id=offering_id,
                              zone_id=host.zone_id, pod_id=host.pod_id, cluster_id=host.cluster_id,
                              host_id=host.id, account_id=account.id, domain_id=account.domain_id,
                              cpu=1, speed=cpu_mhz, ram_size=memory_bytes // 1024**2))

    def csv_pool(self, zone: dict[str, Any], pod: dict[str, Any], cluster: dict[str, Any],
                 name: str = "PS1", volume: str = "Volume1", **extra: Any) -> dict[str, Any]:
        return self.cs.createStoragePool(
            name=name, zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"], scope="cluster",
            url=f"PreSetup://{cluster['name']}/C:\\ClusterStorage\\{volume}", **extra)["storagepool"]

    def events(self, **filters: Any) -> list[dict[str, Any]]:
        return self.cs.listEvents(listall=True, **filters).get("event", [])

    def user_client(self, name: str = "alice") -> Any:
        """A `cs` client signed with the keys of a plain user (account type User) in ROOT, made through the API."""
        answer = self.cs.createAccount(accounttype=0, account=name, username=name, password="S3cret-pass!",
                                       email=f"{name}@example.org", firstname=name, lastname="User")
        user_id = answer["account"]["user"][0]["id"]
        keys = self.cs.registerUserKeys(id=user_id)["userkeys"]
        return self.server.cs(keys["apikey"], keys["secretkey"])


@pytest.fixture
def cloud(live_server_factory: Any, db_url: str) -> Iterator[Cloud]:
    """A live server on SQLite, then on PostgreSQL."""
    yield Cloud(live_server_factory(db_url))


@pytest.fixture
def sqlite_cloud(live_server: Any) -> Iterator[Cloud]:
    """A live server on SQLite only, for checks whose behaviour does not depend on the database."""
    yield Cloud(live_server)
