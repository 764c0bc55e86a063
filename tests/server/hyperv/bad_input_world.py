"""One cloud, built once per test module, for checking that bad input is refused and changes nothing.

The seed's cloud (zone HVCluster, pod P1, cluster CI1 = the simulated failover cluster CI1 with hosts HYPERVCLLOUD13
and HYPERVCLLOUD17, primary storage PS1 on its CSV, the HA and non-HA offerings, the template), plus what the
refusals need to point at: a second failover cluster CI2 (host HYPERVCLLOUD21) in its own zone Z2, instances that
are Running, Stopped and Destroyed, data volumes free and attached, disk offerings fixed and custom, and
HYPERVCLLOUD17 in maintenance. Every case snapshots what the API and the simulators say before and after.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cs import CloudStackApiException

from clusterstack.demo import ApiClient, set_up_seed_cloud

UNKNOWN_UUID = "0b6c3a52-4f1e-4d7a-9c1b-6f2d8e0a7c35"
MALFORMED_UUID = "not-a-uuid"
CI2_TOPOLOGY = """\
cluster:
  name: CI2
  profile: 2016
  witness: disk
  witness_disk: ClusterDisk2
  dynamic_quorum: true
  nodes:
    - {name: HYPERVCLLOUD21, memory_mb: 32768, cpus: 8}
    - {name: HYPERVCLLOUD22, memory_mb: 32768, cpus: 8}
  disks:
    - {name: ClusterDisk1, capacity_gb: 50, csv: 'C:\\ClusterStorage\\Volume1', owner: HYPERVCLLOUD21}
    - {name: ClusterDisk2, capacity_gb: 1, owner: HYPERVCLLOUD21}
"""

# A host's live figures move on their own in a quiet cloud: left out of snapshots.
VOLATILE = {"lastpinged", "cpuused", "memoryused"}


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached in {timeout:.0f} s")
        time.sleep(0.05)


def root_conftest(config: pytest.Config) -> ModuleType:
    """tests/conftest.py as pytest loaded it: its LiveServer and LiveSimulator, started here for a whole module."""
    wanted = Path(__file__).resolve().parents[2] / "conftest.py"
    for plugin in config.pluginmanager.get_plugins():
        location = getattr(plugin, "__file__", None)
        if location and Path(location).resolve() == wanted:
            return plugin  # type: ignore[no-any-return]
    raise RuntimeError(f"{wanted} is not loaded")


@dataclass
class World:
    cs: Any  # the root admin
    sims: list[Any]
    ids: dict[str, str] = field(default_factory=dict)
    user: Any = None  # account bad-other, a plain user

    def __getattr__(self, name: str) -> str:
        try:
            return self.ids[name]
        except KeyError:
            raise AttributeError(name) from None

    def snapshot(self) -> dict[str, Any]:
        """Everything a refused command must leave as it was."""
        client = self.cs
        return {
            "virtualmachines": _rows(client.listVirtualMachines(listall=True), "virtualmachine"),
            "volumes": _rows(client.listVolumes(listall=True), "volume"),
            "hosts": _rows(client.listHosts(), "host"),
            "clusters": _rows(client.listClusters(), "cluster"),
            "storagepools": _rows(client.listStoragePools(), "storagepool"),
            "zones": _rows(client.listZones(), "zone"),
            "events": client.listEvents(listall=True, pagesize=1).get("count", 0),
            "roles": [_clean(sorted(sim.report()["roles"], key=lambda r: r["name"])) for sim in self.sims],
            "nodes": [_clean([{"name": n["name"], "state": n["state"]} for n in sim.report()["nodes"]])
                      for sim in self.sims],
        }

    def settled(self, timeout: float = 60.0) -> dict[str, Any]:
        """A snapshot taken once two in a row agree (the cloud has stopped moving)."""
        deadline = time.monotonic() + timeout
        last = self.snapshot()
        while True:
            time.sleep(0.3)
            now = self.snapshot()
            if now == last:
                return now
            if time.monotonic() > deadline:
                raise AssertionError("the cloud does not settle: " + _first_difference(last, now))
            last = now


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _rows(answer: dict[str, Any], key: str) -> list[Any]:
    return _clean(sorted(answer.get(key, []), key=lambda row: row["id"]))  # type: ignore[no-any-return]


def _first_difference(before: Any, after: Any, where: str = "") -> str:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                return _first_difference(before.get(key), after.get(key), f"{where}.{key}")
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            if old != new:
                return _first_difference(old, new, f"{where}[{index}]")
    return f"{where or 'snapshot'}: {before!r} -> {after!r}"


def difference(before: dict[str, Any], after: dict[str, Any]) -> str | None:
    return None if before == after else _first_difference(before, after)


@dataclass(frozen=True)
class Refusal:
    errorcode: int
    errortext: str
    synchronous: bool  # refused by the request itself, before any async job was queued


def refusal(client: Any, command: str, params: dict[str, Any]) -> Refusal:
    """Call `command`; it must be refused (as a request or as its job). Answers how."""
    try:
        answer = getattr(client, command)(**params)
    except CloudStackApiException as exc:
        error = exc.error or {}
        return Refusal(int(error.get("errorcode", 0)), str(error.get("errortext", "")),
                       str(exc.args[0]).startswith("HTTP"))
    raise AssertionError(f"{command} accepted {params}: {answer}")


def _topology(directory: Path) -> Path:
    path = directory / "ci2.yaml"
    path.write_text(CI2_TOPOLOGY)
    return path


def build_world(config: pytest.Config, directory: Path, sqlite_template: Path, started: list[Any]) -> World:
    """Start two simulated failover clusters and a management server, and build the cloud through the API."""
    harness = root_conftest(config)
    ci1 = harness.LiveSimulator(speed=10.0)
    started.append(ci1)
    ci1.start()
    ci2 = harness.LiveSimulator(topology=_topology(directory), speed=10.0)
    started.append(ci2)
    ci2.start()
    database = directory / "clusterstack.db"
    shutil.copyfile(sqlite_template, database)
    server = harness.LiveServer(directory / "ms", f"sqlite:///{database}")
    started.append(server)
    server.start()
    key, secret = server.admin_keys()
    ids = set_up_seed_cloud(ApiClient(server.endpoint, key, secret), ci1.url)
    client = server.cs()
    world = World(cs=client, sims=[ci1, ci2], ids={**ids, "sim": ci1.url, "api": server.base_url})
    world.ids["domain"] = client.listDomains(name="ROOT")["domain"][0]["id"]

    zone2 = client.createZone(name="Z2", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.1.0.1")["zone"]
    pod2 = client.createPod(name="P2", zoneid=zone2["id"], gateway="10.1.0.1", netmask="255.255.255.0",
                            startip="10.1.0.100", endip="10.1.0.200")["pod"]
    cluster2 = client.addCluster(clustername="CI2", clustertype="CloudManaged", hypervisor="Hyper-V",
                                 zoneid=zone2["id"], podid=pod2["id"], url=ci2.url)["cluster"][0]
    client.addHost(zoneid=zone2["id"], podid=pod2["id"], clusterid=cluster2["id"], hypervisor="Hyper-V",
                   url="http://HYPERVCLLOUD21", username="administrator", password="demo")
    world.ids.update(zone2=zone2["id"], pod2=pod2["id"], cluster2=cluster2["id"])
    hosts = {h["name"]: h["id"] for h in client.listHosts()["host"]}
    world.ids.update(host13=hosts["HYPERVCLLOUD13"], host17=hosts["HYPERVCLLOUD17"], host21=hosts["HYPERVCLLOUD21"])
    wait_for(lambda: all(h["state"] == "Up" for h in client.listHosts()["host"]), "all hosts Up")

    offerings = {o["name"]: o["id"] for o in client.listServiceOfferings()["serviceoffering"]}
    world.ids.update(ha_offering=offerings["HA Offering"], small_offering=offerings["Small Instance"])
    world.ids["pool"] = client.listStoragePools(name="PS1")["storagepool"][0]["id"]
    custom = client.createDiskOffering(name="Custom", displaytext="Custom", customized=True)["diskoffering"]
    fixed = client.createDiskOffering(name="Fixed5", displaytext="Fixed 5 GB", disksize=5)["diskoffering"]
    world.ids.update(custom_disk=custom["id"], fixed_disk=fixed["id"])

    def deploy(name: str, offering: str, **extra: Any) -> dict[str, Any]:
        return client.deployVirtualMachine(  # type: ignore[no-any-return]
            zoneid=world.zone, serviceofferingid=offering, templateid=world.template, hostid=world.host13,
            name=name, displayname=name, rootdisksize=5, **extra)["virtualmachine"]

    running = deploy("bad-running", world.ha_offering)
    stopped = deploy("bad-stopped", world.ha_offering, startvm=False)
    spare = deploy("bad-spare", world.small_offering, startvm=False)
    destroyed = deploy("bad-destroyed", world.small_offering)
    client.destroyVirtualMachine(id=destroyed["id"])
    world.ids.update(running=running["id"], stopped=stopped["id"], spare=spare["id"], destroyed=destroyed["id"])
    root = client.listVolumes(virtualmachineid=running["id"], type="ROOT", listall=True)["volume"][0]
    free = client.createVolume(name="bad-free", zoneid=world.zone, diskofferingid=custom["id"], size=2)["volume"]
    attached = client.createVolume(name="bad-attached", zoneid=world.zone, diskofferingid=custom["id"], size=2,
                                   virtualmachineid=running["id"])["volume"]
    gone = client.createVolume(name="bad-gone", zoneid=world.zone, diskofferingid=custom["id"], size=1)["volume"]
    client.deleteVolume(id=gone["id"])
    in_z2 = client.createVolume(name="bad-z2", zoneid=zone2["id"], diskofferingid=custom["id"], size=1)["volume"]
    other = client.createAccount(accounttype=0, account="bad-other", username="bad-other", password="password",
                                 firstname="Other", lastname="Account", email="other@example.com")["account"]
    keys = client.registerUserKeys(id=other["user"][0]["id"])["userkeys"]
    world.user = server.cs(keys["apikey"], keys["secretkey"])
    others = client.createVolume(name="bad-others", zoneid=world.zone, diskofferingid=custom["id"], size=1,
                                 account="bad-other", domainid=world.domain)["volume"]
    world.ids.update(root=root["id"], free=free["id"], attached=attached["id"], gone=gone["id"],
                     zone2_volume=in_z2["id"], others_volume=others["id"])

    client.prepareHostForMaintenance(id=world.host17)
    wait_for(lambda: next(h for h in client.listHosts()["host"] if h["name"] == "HYPERVCLLOUD17")["resourcestate"]
             == "Maintenance", "HYPERVCLLOUD17 in maintenance")
    world.settled()
    return world
