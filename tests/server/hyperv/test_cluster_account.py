"""The account a WinRM cluster is managed with: checked before anything is made, kept encrypted, never shown,
rotated with updateHostPassword; a stale one turns the hosts Alert."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cs import CloudStackApiException
from sqlalchemy import select

from clusterstack.demo import SIM_PASSWORD, SIM_USERNAME, ApiClient, set_up_seed_cloud
from clusterstack.server.db.models.infrastructure import Cluster
from clusterstack.server.identity import secret_store

from .seed_cloud import cluster_target, wait_until


@pytest.fixture
def simulator(simulator_factory: Any) -> Any:  # WinRM only: the JSON API has no accounts
    return simulator_factory(speed=10.0, winrm=True)


def _refusal(client: Any, command: str, **params: Any) -> dict[str, Any]:
    with pytest.raises(CloudStackApiException) as refused:
        getattr(client, command)(**params)
    return refused.value.error


def _everything_said(live_server: Any, client: Any) -> str:
    """Every response, event and log line the server has produced about clusters and hosts."""
    texts = [str(client.listClusters()), str(client.listHosts()), str(client.listEvents(listall=True)),
             str(client.listConfigurations(name="hyperv.winrm"))]
    logs = Path(live_server.data_dir) / "logs"
    texts += [p.read_text(errors="replace") for p in logs.glob("*.log")] if logs.exists() else []
    return "\n".join(texts)


def test_a_wrong_account_is_refused_and_nothing_is_made(live_server: Any, simulator: Any) -> None:
    key, secret = live_server.admin_keys()
    api = ApiClient(live_server.endpoint, key, secret)
    target = cluster_target(simulator)
    set_up_seed_cloud(api, target)  # the zone, pod, cluster CI1 and its hosts
    client = live_server.cs()
    zone, pod = client.listZones()["zone"][0]["id"], client.listPods()["pod"][0]["id"]
    error = _refusal(client, "addCluster", clustername="CI9", clustertype="CloudManaged", hypervisor="Hyper-V",
                     zoneid=zone, podid=pod, url=target.url, username=SIM_USERNAME, password="Wrong-password-1")
    assert error["errorcode"] == 431 and "authentication failed" in error["errortext"].lower()
    assert [c["name"] for c in client.listClusters()["cluster"]] == ["CI1"]
    error = _refusal(client, "updateHostPassword", clusterid=client.listClusters()["cluster"][0]["id"],
                     username=SIM_USERNAME, password="Wrong-password-2")
    assert error["errorcode"] == 431 and "authentication failed" in error["errortext"].lower()
    said = _everything_said(live_server, client)
    for secret_text in (SIM_PASSWORD, "Wrong-password-1", "Wrong-password-2"):
        assert secret_text not in said


def test_a_stale_password_turns_the_hosts_alert_until_it_is_rotated(live_server: Any, simulator: Any) -> None:
    key, secret = live_server.admin_keys()
    ids = set_up_seed_cloud(ApiClient(live_server.endpoint, key, secret), cluster_target(simulator))
    client = live_server.cs()
    wait_until(lambda: all(h["state"] == "Up" for h in client.listHosts()["host"]))
    with live_server.state.database.session() as db:
        cluster = db.scalar(select(Cluster).where(Cluster.name == "CI1"))
        assert cluster.username == SIM_USERNAME and SIM_PASSWORD not in (cluster.password_encrypted or "")
        # the password was changed on the Windows side: what is stored no longer works
        cluster.password_encrypted = secret_store.for_data_dir(live_server.data_dir).encrypt("Changed-on-Windows")
        db.commit()
    wait_until(lambda: all(h["state"] == "Alert" for h in client.listHosts()["host"]))
    assert client.updateHostPassword(clusterid=ids["cluster"], username=SIM_USERNAME,
                                     password=SIM_PASSWORD)["success"] in (True, "true")
    wait_until(lambda: all(h["state"] == "Up" for h in client.listHosts()["host"]))
    assert SIM_PASSWORD not in _everything_said(live_server, client)
