"""A node crashed three times within an hour is Quarantined: its host is Down to the cloud (not Alert forever), and
clearFailoverClusterNodeQuarantine (Start-ClusterNode -ClearQuarantine) lets it back in. Both drivers."""

from __future__ import annotations

from typing import Any

import pytest
from cs import CloudStackApiException

from .seed_cloud import build_seed, wait_until

N13, N17 = "HYPERVCLLOUD13", "HYPERVCLLOUD17"


@pytest.fixture
def seed(live_server: Any, simulator: Any) -> dict[str, Any]:
    return build_seed(live_server, simulator)


def _node_state(seed: dict[str, Any], name: str) -> str:
    return next(n["state"] for n in seed["sim"].report()["nodes"] if n["name"] == name)


def _host(seed: dict[str, Any], name: str) -> dict[str, Any]:
    return seed["cs"].listHosts(id=seed["hosts"][name])["host"][0]


def _refused(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(CloudStackApiException) as info:
        call(**params)
    return info.value.error


def quarantine(seed: dict[str, Any], name: str = N17) -> None:
    """Three crashes, each noticed by the cluster (10 s, 1 s at 10x) before the node is started again."""
    sim = seed["sim"]
    for crash in range(3):
        sim.fault("node-down", node=name)
        wait_until(lambda c=crash: _node_state(seed, name) == ("Quarantined" if c == 2 else "Down"))
        if crash < 2:
            sim.fault("node-up", node=name)
            wait_until(lambda: _node_state(seed, name) == "Up")
            wait_until(lambda: _host(seed, name)["state"] == "Up")


def test_a_quarantined_node_is_down_to_the_cloud_until_its_quarantine_is_cleared(seed: dict[str, Any]) -> None:
    client = seed["cs"]
    error = _refused(client.clearFailoverClusterNodeQuarantine, clusterid=seed["cluster"], name=N17)
    assert error["errorcode"] == 431 and "not Quarantined" in error["errortext"] and "name" in error["errortext"]
    error = _refused(client.clearFailoverClusterNodeQuarantine, clusterid=seed["cluster"], name="HYPERVCLLOUD99")
    assert error["errorcode"] == 431 and "name" in error["errortext"]

    quarantine(seed)
    wait_until(lambda: _host(seed, N17)["state"] == "Down")
    nodes = {n["name"]: n for n in client.listFailoverClusterNodes(clusterid=seed["cluster"])["failoverclusternode"]}
    assert nodes[N17]["status"] == "Quarantined"
    error = _refused(client.clearFailoverClusterNodeQuarantine, clusterid=seed["cluster"], name=N17)
    assert error["errorcode"] == 431 and "does not answer" in error["errortext"]  # its machine is off

    seed["sim"].fault("node-up", node=N17)  # the machine runs; the cluster still keeps it out
    wait_until(lambda: _node_state(seed, N17) == "Quarantined")
    assert _host(seed, N17)["state"] == "Down"
    down = [e for e in client.listEvents(listall=True, type="HOST.DOWN")["event"] if N17 in e["description"]]
    assert down and "quarantined" in down[0]["description"]

    node = client.clearFailoverClusterNodeQuarantine(clusterid=seed["cluster"], name=N17)["failoverclusternode"]
    assert (node["name"], node["status"], node["currentvote"]) == (N17, "Up", 1)
    assert node["hostid"] == seed["hosts"][N17]
    wait_until(lambda: _host(seed, N17)["state"] == "Up")
    events = client.listEvents(listall=True, type="HOST.RECONNECT")["event"]
    assert any(N17 in e["description"] and "ClearQuarantine" in e["description"] for e in events)
    error = _refused(client.clearFailoverClusterNodeQuarantine, clusterid=seed["cluster"], name=N17)
    assert error["errorcode"] == 431 and "is Up, not Quarantined" in error["errortext"]


def test_only_admins_may_clear_a_quarantine(seed: dict[str, Any]) -> None:
    client = seed["cs"]
    account = client.createAccount(accounttype=0, account="clerk", username="clerk", password="S3cret-pass!",
                                   email="clerk@example.org", firstname="c", lastname="k")["account"]
    keys = client.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    user = seed["server"].cs(keys["apikey"], keys["secretkey"])
    assert _refused(user.clearFailoverClusterNodeQuarantine, clusterid=seed["cluster"], name=N17)["errorcode"] == 432
    assert "clearFailoverClusterNodeQuarantine" in {a["name"] for a in client.listApis()["api"]}
    assert "clearFailoverClusterNodeQuarantine" not in {a["name"] for a in user.listApis()["api"]}
