"""One management server follows several failover clusters with a fixed set of threads (issue 17), and still
notices at once when a node of any of them stops answering."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from clusterstack.demo import ApiClient
from clusterstack.server.orchestration.follower import FOLLOW_WORKERS

from .seed_cloud import wait_until

FOLLOWER_THREADS = ("cluster-followers", "cluster-schedule", "node-ping", "cluster-feeds", "cluster-sync")


def _topology(path: Path, index: int) -> Path:
    path.write_text(f"""\
cluster:
  name: F{index}
  witness: disk
  witness_disk: Witness
  nodes:
    - {{name: F{index}A}}
    - {{name: F{index}B}}
  disks:
    - {{name: ClusterDisk1, capacity_gb: 100, csv: 'C:\\ClusterStorage\\Volume1', owner: F{index}A}}
    - {{name: Witness, capacity_gb: 1, owner: F{index}A}}
""")
    return path


def _follower_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(FOLLOWER_THREADS)]


def _hosts(api: ApiClient) -> dict[str, str]:
    return {h["name"]: h["state"] for h in api("listHosts", type="Routing").get("host", [])}


def test_four_clusters_cost_no_more_threads_than_one(live_server: Any, simulator_factory: Any,
                                                     tmp_path: Path) -> None:
    key, secret = live_server.admin_keys()
    api = ApiClient(live_server.endpoint, key, secret)
    zone = api("createZone", name="Many", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.1")["zone"]
    pod = api("createPod", name="P1", zoneid=zone["id"], gateway="10.1.0.1", netmask="255.255.255.0",
              startip="10.1.0.10", endip="10.1.0.200")["pod"]
    sims = []
    for index in range(4):
        sim = simulator_factory(topology=_topology(tmp_path / f"f{index}.yaml", index), speed=10.0)
        sims.append(sim)
        cluster = api("addCluster", clustername=f"F{index}", clustertype="CloudManaged", hypervisor="Hyperv",
                      zoneid=zone["id"], podid=pod["id"], url=sim.url)["cluster"][0]
        for node in ("A", "B"):
            api("addHost", zoneid=zone["id"], podid=pod["id"], clusterid=cluster["id"], hypervisor="Hyperv",
                url=f"http://F{index}{node}", username="administrator", password="x")
        if index == 0:
            wait_until(lambda: _hosts(api) == {"F0A": "Up", "F0B": "Up"})
            with_one = len(_follower_threads())
    wait_until(lambda: len(_hosts(api)) == 8 and set(_hosts(api).values()) == {"Up"})
    assert live_server.state.service("clusters").followed() == [1, 2, 3, 4]
    threads = _follower_threads()
    assert len(threads) <= 4 + FOLLOW_WORKERS, threads
    assert len(threads) <= with_one + FOLLOW_WORKERS - 1, threads  # at most the pool filled up, nothing per cluster
    # a node of the last cluster stops answering: its host turns Alert (the pinger), then Down (the cluster)
    sims[3].fault("node-down", node="F3B")
    wait_until(lambda: _hosts(api)["F3B"] in ("Alert", "Down"))
    wait_until(lambda: _hosts(api)["F3B"] == "Down")
    assert {name: state for name, state in _hosts(api).items() if name != "F3B"} == {
        name: "Up" for name in ("F0A", "F0B", "F1A", "F1B", "F2A", "F2B", "F3A")}
