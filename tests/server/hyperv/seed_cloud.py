"""The seed's cloud for the Hyper-V tests, and waiting for the cloud to follow the cluster."""

from __future__ import annotations

import time
from typing import Any

from clusterstack.demo import ApiClient, ClusterTarget, set_up_seed_cloud


def wait_until(predicate: Any, timeout: float = 60.0) -> None:
    """Poll until predicate() is true; a generous timeout, never a timed assertion."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def cluster_target(simulator: Any) -> ClusterTarget:
    """How addCluster reaches the simulated cluster: WinRM when it answers WinRM, else its JSON API."""
    return ClusterTarget.of_simulator(simulator.sim.winrm_addresses(), simulator.url)


def build_seed(live_server: Any, simulator: Any) -> dict[str, Any]:
    """Zone HVCluster, pod P1, cluster CI1 with both hosts Up, PS1, the offerings and the template, and a cs client."""
    key, secret = live_server.admin_keys()
    api = ApiClient(live_server.endpoint, key, secret)
    target = cluster_target(simulator)
    if target.username:  # over WinRM the follower polls; tests follow the cluster faster than the 0.5 s default
        api("updateConfiguration", name="hyperv.winrm.poll.interval", value="0.1")
    ids = set_up_seed_cloud(api, target)
    client = live_server.cs()
    offerings = {o["name"]: o["id"] for o in client.listServiceOfferings()["serviceoffering"]}
    hosts = {h["name"]: h["id"] for h in client.listHosts()["host"]}
    wait_until(lambda: all(h["state"] == "Up" for h in client.listHosts()["host"]))
    return {"cs": client, "sim": simulator, "server": live_server, "offerings": offerings, "hosts": hosts, **ids}
