"""Bad input for every Hyper-V command gets 431 with a message naming what is wrong, and changes nothing.

Each case calls one command through the real `cs` client against a cloud on two simulated failover clusters
(bad_input_world.py), and checks the error code, that the error text is a sentence naming the offending
parameter or object, and that the instances, volumes, hosts, clusters, storage pools, zones, events and the
failover clusters' roles and nodes are exactly as before. State errors (start a Running instance, cancel the
maintenance of a host not in maintenance) are bad input too: 431, as the issue asks, where CloudStack itself
sometimes answers 530. A plain user reaching for another account's objects gets 531 and for an administrator's
command 432, as in CloudStack. Every refusal is the answer to the request itself: no async job is queued.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .bad_input_world import MALFORMED_UUID, UNKNOWN_UUID, World, build_world, difference, refusal

INSUFFICIENT_CAPACITY = 533
PERMISSION = 531  # CloudStack's ACCOUNT_ERROR, for PermissionDeniedException
UNKNOWN_COMMAND = 432  # an admin's command asked by a user: "does not exist or it is not available for user"


@pytest.fixture(scope="module")
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          _sqlite_template: Path) -> Iterator[World]:
    started: list[Any] = []
    try:
        yield build_world(request.config, tmp_path_factory.mktemp("bad-input"), _sqlite_template, started)
    finally:
        for part in reversed(started):
            part.stop()


def case(name: str, command: str, params: dict[str, Any], *words: str, code: int = 431, as_user: bool = False) -> Any:
    """One refusal, answered to the request itself (no job queued): `words` must all appear in the error text
    ("@x" in params is the world's id of x). `as_user`: called by the plain user of account bad-other."""
    return pytest.param(command, params, words, code, as_user, id=f"{command}-{name}")


def _resolve(world: World, params: dict[str, Any]) -> dict[str, Any]:
    def one(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("@"):
            return world.ids[value[1:]]
        return value

    return {key: one(value) for key, value in params.items()}


ZONE = {"zoneid": "@zone", "podid": "@pod"}
CLUSTER = {"clustername": "CI9", "clustertype": "CloudManaged", "hypervisor": "Hyper-V", **ZONE, "url": "@sim"}
HOST = {**ZONE, "clusterid": "@cluster", "hypervisor": "Hyper-V", "username": "administrator", "password": "demo",
        "url": "http://HYPERVCLLOUD99"}
POOL = {"name": "PS9", **ZONE, "clusterid": "@cluster", "scope": "CLUSTER", "hypervisor": "Hyper-V",
        "url": "PreSetup://CI1/C:\\ClusterStorage\\Volume1"}
DEPLOY = {"zoneid": "@zone", "serviceofferingid": "@ha_offering", "templateid": "@template", "hostid": "@host13"}


def without(params: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in names}


CASES = [
    # ---- addCluster: one failover cluster is one cluster, Hyper-V and CloudManaged only ----
    case("missing-clustername", "addCluster", without(CLUSTER, "clustername"), "missing parameter clustername"),
    case("missing-url", "addCluster", without(CLUSTER, "url"), "missing parameter url"),
    case("not-hyperv", "addCluster", {**CLUSTER, "hypervisor": "KVM"}, "hypervisor", "KVM"),
    case("externalmanaged", "addCluster", {**CLUSTER, "clustertype": "ExternalManaged"}, "clustertype"),
    case("malformed-zoneid", "addCluster", {**CLUSTER, "zoneid": MALFORMED_UUID}, "zoneid", MALFORMED_UUID),
    case("unknown-podid", "addCluster", {**CLUSTER, "podid": UNKNOWN_UUID}, "podid", UNKNOWN_UUID),
    case("pod-of-another-zone", "addCluster", {**CLUSTER, "podid": "@pod2"}, "P2", "HVCluster"),
    case("second-for-ci1", "addCluster", CLUSTER, "CI1", "already cluster CI1"),
    case("same-name", "addCluster", {**CLUSTER, "clustername": "ci1", "url": "http://127.0.0.1:9"}, "CI1",
         "already exists"),
    case("unreachable", "addCluster", {**CLUSTER, "url": "http://127.0.0.1:9"}, "127.0.0.1:9", "does not answer"),
    case("url-without-host", "addCluster", {**CLUSTER, "url": "http://"}, "url"),
    case("not-a-failover-cluster", "addCluster", {**CLUSTER, "url": "@api"}, "CI9", "does not answer"),
    case("ftp-url", "addCluster", {**CLUSTER, "url": "ftp://127.0.0.1/"}, "url"),
    case("blank-name", "addCluster", {**CLUSTER, "clustername": "  "}, "clustername"),
    case("bad-allocationstate", "addCluster", {**CLUSTER, "allocationstate": "Maybe"}, "allocationstate"),
    # ---- addHost: only a node of the cluster's failover cluster ----
    case("not-a-node", "addHost", HOST, "HYPERVCLLOUD99", "CI1", "HYPERVCLLOUD13, HYPERVCLLOUD17"),
    case("node-of-another-cluster", "addHost", {**HOST, "url": "http://HYPERVCLLOUD21"}, "HYPERVCLLOUD21", "CI1",
         "HYPERVCLLOUD13, HYPERVCLLOUD17"),
    case("already-added", "addHost", {**HOST, "url": "http://HYPERVCLLOUD13"}, "HYPERVCLLOUD13", "already"),
    # (addHost's username and password are optional, as in CloudStack: the cluster's account manages its nodes)
    case("winrm-without-account", "addCluster", {**CLUSTER, "url": "https://127.0.0.1:9/"},
         "username", "password", "WinRM"),
    case("winrm-nobody-answers", "addCluster", {**CLUSTER, "url": "https://127.0.0.1:9/", "username": "A\\b",
                                               "password": "x"}, "CI9", "does not answer"),
    case("password-without-target", "updateHostPassword", {"username": "A\\b", "password": "x"}, "hostid",
         "clusterid"),
    case("password-on-host", "updateHostPassword", {"clusterid": "@cluster", "username": "A\\b", "password": "x",
                                                    "update_passwd_on_host": "true"}, "update_passwd_on_host"),
    case("password-that-fails", "updateHostPassword", {"clusterid": "@cluster2", "username": "", "password": "x"},
         "username"),
    case("missing-url", "addHost", without(HOST, "url"), "missing parameter url"),
    case("no-cluster", "addHost", without(HOST, "clusterid"), "clusterid"),
    case("malformed-clusterid", "addHost", {**HOST, "clusterid": MALFORMED_UUID}, "clusterid", MALFORMED_UUID),
    case("unknown-clusterid", "addHost", {**HOST, "clusterid": UNKNOWN_UUID}, "clusterid", UNKNOWN_UUID),
    case("unknown-clustername", "addHost", {**without(HOST, "clusterid"), "clustername": "CI7"}, "CI7"),
    case("cluster-of-another-pod", "addHost", {**HOST, "clusterid": "@cluster2"}, "CI2", "P1"),
    case("pod-of-another-zone", "addHost", {**HOST, "podid": "@pod2"}, "P2", "HVCluster"),
    case("bad-allocationstate", "addHost", {**HOST, "url": "http://HYPERVCLLOUD13", "allocationstate": "Off"},
         "allocationstate"),
    case("not-hyperv", "addHost", {**HOST, "hypervisor": "VMware"}, "hypervisor", "VMware"),
    # ---- createStoragePool: PreSetup is a CSV of the cluster, scope CLUSTER ----
    case("not-a-csv", "createStoragePool", {**POOL, "url": "PreSetup://CI1/C:\\ClusterStorage\\Volume9"},
         "Volume9", "not a Cluster Shared Volume", "CI1", "C:\\ClusterStorage\\Volume1"),
    case("csv-already-a-pool", "createStoragePool", POOL, "Volume1", "PS1"),
    case("bad-scope", "createStoragePool", {**POOL, "scope": "HOST"}, "scope", "HOST"),
    case("cluster-scope-without-cluster", "createStoragePool", without(POOL, "clusterid"), "cluster"),
    case("presetup-zone-wide", "createStoragePool", {**without(POOL, "podid", "clusterid"), "scope": "ZONE"},
         "PreSetup", "CLUSTER"),
    case("not-a-url", "createStoragePool", {**POOL, "url": "Volume1"}, "url", "Volume1"),
    case("nfs", "createStoragePool", {**POOL, "url": "nfs://10.0.0.1/export"}, "url", "nfs"),
    case("relative-path", "createStoragePool", {**POOL, "url": "PreSetup://CI1/ClusterStorage"}, "url",
         "ClusterStorage"),
    case("smb-without-credentials", "createStoragePool", {**POOL, "url": "cifs://fs1/share"}, "user", "password"),
    case("negative-capacity", "createStoragePool", {**POOL, "capacitybytes": -1}, "capacitybytes"),
    case("capacity-not-a-number", "createStoragePool", {**POOL, "capacitybytes": "lots"}, "capacitybytes"),
    case("zone-wide-with-cluster", "createStoragePool",
         {**POOL, "scope": "ZONE", "url": "cifs://fs1/share?user=a&password=b"}, "clusterid"),
    case("pod-of-another-zone", "createStoragePool", {**POOL, "podid": "@pod2"}, "P2", "HVCluster"),
    case("missing-name", "createStoragePool", without(POOL, "name"), "missing parameter name"),
    case("unknown-clusterid", "createStoragePool", {**POOL, "clusterid": UNKNOWN_UUID}, "clusterid", UNKNOWN_UUID),
    case("cluster-of-another-pod", "createStoragePool", {**POOL, "clusterid": "@cluster2"}, "CI2", "P1"),
    # ---- deployVirtualMachine ----
    case("missing-serviceofferingid", "deployVirtualMachine", without(DEPLOY, "serviceofferingid"),
         "missing parameter serviceofferingid"),
    case("malformed-templateid", "deployVirtualMachine", {**DEPLOY, "templateid": MALFORMED_UUID}, "templateid",
         MALFORMED_UUID),
    case("unknown-zoneid", "deployVirtualMachine", {**DEPLOY, "zoneid": UNKNOWN_UUID}, "zoneid", UNKNOWN_UUID),
    case("offering-is-a-template", "deployVirtualMachine", {**DEPLOY, "serviceofferingid": "@template"},
         "serviceofferingid"),
    case("host-in-maintenance", "deployVirtualMachine", {**DEPLOY, "hostid": "@host17"}, "HYPERVCLLOUD17",
         "Maintenance", code=INSUFFICIENT_CAPACITY),
    case("host-of-another-zone", "deployVirtualMachine", {**DEPLOY, "hostid": "@host21"}, "HYPERVCLLOUD21",
         "HVCluster"),
    case("cluster-of-another-zone", "deployVirtualMachine", {**without(DEPLOY, "hostid"), "clusterid": "@cluster2"},
         "CI2", "HVCluster"),
    case("size-without-disk-offering", "deployVirtualMachine", {**DEPLOY, "size": 5}, "size"),
    case("custom-disk-without-size", "deployVirtualMachine", {**DEPLOY, "diskofferingid": "@custom_disk"},
         "Custom", "size"),
    case("data-disk-beyond-the-maximum-size", "deployVirtualMachine",
         {**DEPLOY, "diskofferingid": "@custom_disk", "size": 2000}, "size", "1024"),
    case("zero-rootdisksize", "deployVirtualMachine", {**DEPLOY, "rootdisksize": 0}, "rootdisksize"),
    case("startvm-not-boolean", "deployVirtualMachine", {**DEPLOY, "startvm": "maybe"}, "startvm", "maybe"),
    case("name-taken", "deployVirtualMachine", {**DEPLOY, "name": "bad-running"}, "bad-running"),
    case("name-not-a-hostname", "deployVirtualMachine", {**DEPLOY, "name": "my vm!"}, "name"),
    case("name-too-long", "deployVirtualMachine", {**DEPLOY, "name": "v" * 64}, "name"),
    case("not-hyperv", "deployVirtualMachine", {**DEPLOY, "hypervisor": "KVM"}, "hypervisor", "KVM"),
    case("vm-id-as-host", "deployVirtualMachine", {**DEPLOY, "hostid": "@running"}, "hostid"),
    # ---- power: start, stop, reboot ----
    case("running", "startVirtualMachine", {"id": "@running"}, "bad-running", "Running"),
    case("destroyed", "startVirtualMachine", {"id": "@destroyed"}, "bad-destroyed", "Destroyed"),
    case("missing-id", "startVirtualMachine", {}, "missing parameter id"),
    case("volume-id", "startVirtualMachine", {"id": "@free"}, "virtual machine", "id"),
    case("stopped", "stopVirtualMachine", {"id": "@stopped"}, "bad-stopped", "Stopped"),
    case("malformed-id", "stopVirtualMachine", {"id": MALFORMED_UUID}, "id", MALFORMED_UUID),
    case("forced-not-boolean", "stopVirtualMachine", {"id": "@running", "forced": "yes"}, "forced", "yes"),
    case("stopped", "rebootVirtualMachine", {"id": "@stopped"}, "bad-stopped", "Stopped"),
    case("unknown-id", "rebootVirtualMachine", {"id": UNKNOWN_UUID}, "id", UNKNOWN_UUID),
    # ---- destroy, expunge, recover ----
    case("destroyed", "destroyVirtualMachine", {"id": "@destroyed"}, "bad-destroyed", "Destroyed"),
    case("expunge-not-boolean", "destroyVirtualMachine", {"id": "@running", "expunge": "soon"}, "expunge", "soon"),
    case("unknown-id", "destroyVirtualMachine", {"id": UNKNOWN_UUID}, "id", UNKNOWN_UUID),
    case("running", "expungeVirtualMachine", {"id": "@running"}, "bad-running", "Running"),
    case("stopped", "expungeVirtualMachine", {"id": "@stopped"}, "bad-stopped", "Stopped"),
    case("malformed-id", "expungeVirtualMachine", {"id": MALFORMED_UUID}, "id", MALFORMED_UUID),
    case("running", "recoverVirtualMachine", {"id": "@running"}, "bad-running", "Running"),
    case("unknown-id", "recoverVirtualMachine", {"id": UNKNOWN_UUID}, "id", UNKNOWN_UUID),
    # ---- migrateVirtualMachine: live migration within the failover cluster ----
    case("same-host", "migrateVirtualMachine", {"virtualmachineid": "@running", "hostid": "@host13"},
         "bad-running", "HYPERVCLLOUD13"),
    case("host-of-another-cluster", "migrateVirtualMachine", {"virtualmachineid": "@running", "hostid": "@host21"},
         "HYPERVCLLOUD21", "failover cluster"),
    case("host-in-maintenance", "migrateVirtualMachine", {"virtualmachineid": "@running", "hostid": "@host17"},
         "HYPERVCLLOUD17", "Maintenance"),
    case("stopped", "migrateVirtualMachine", {"virtualmachineid": "@stopped", "hostid": "@host17"},
         "bad-stopped", "Stopped"),
    case("missing-hostid", "migrateVirtualMachine", {"virtualmachineid": "@running"}, "hostid"),
    case("malformed-hostid", "migrateVirtualMachine", {"virtualmachineid": "@running", "hostid": MALFORMED_UUID},
         "hostid", MALFORMED_UUID),
    case("unknown-vm", "migrateVirtualMachine", {"virtualmachineid": UNKNOWN_UUID, "hostid": "@host17"},
         "virtualmachineid", UNKNOWN_UUID),
    case("vm-id-as-host", "migrateVirtualMachine", {"virtualmachineid": "@running", "hostid": "@stopped"},
         "hostid"),
    # ---- scaleVirtualMachine, changeServiceForVirtualMachine: a stopped instance, a known offering ----
    case("running", "scaleVirtualMachine", {"id": "@running", "serviceofferingid": "@ha_offering"}, "bad-running",
         "Running"),
    case("unknown-offering", "scaleVirtualMachine", {"id": "@stopped", "serviceofferingid": UNKNOWN_UUID},
         "serviceofferingid", UNKNOWN_UUID),
    case("missing-offering", "scaleVirtualMachine", {"id": "@stopped"}, "missing parameter serviceofferingid"),
    case("other-ha", "scaleVirtualMachine", {"id": "@stopped", "serviceofferingid": "@small_offering"},
         "Offer HA"),
    case("destroyed", "scaleVirtualMachine", {"id": "@destroyed", "serviceofferingid": "@small_offering"},
         "bad-destroyed", "Destroyed"),
    case("running", "changeServiceForVirtualMachine", {"id": "@running", "serviceofferingid": "@ha_offering"},
         "bad-running", "Running"),
    case("unknown-offering", "changeServiceForVirtualMachine",
         {"id": "@stopped", "serviceofferingid": UNKNOWN_UUID}, "serviceofferingid", UNKNOWN_UUID),
    case("malformed-offering", "changeServiceForVirtualMachine",
         {"id": "@stopped", "serviceofferingid": MALFORMED_UUID}, "serviceofferingid", MALFORMED_UUID),
    case("other-ha", "changeServiceForVirtualMachine", {"id": "@stopped", "serviceofferingid": "@small_offering"},
         "Offer HA"),
    # ---- updateVirtualMachine ----
    case("haenable-not-boolean", "updateVirtualMachine", {"id": "@running", "haenable": "perhaps"}, "haenable",
         "perhaps"),
    case("unknown-id", "updateVirtualMachine", {"id": UNKNOWN_UUID, "displayname": "x"}, "id", UNKNOWN_UUID),
    case("destroyed", "updateVirtualMachine", {"id": "@destroyed", "displayname": "x"}, "bad-destroyed",
         "Destroyed"),
    case("rename-running", "updateVirtualMachine", {"id": "@running", "name": "renamed"}, "bad-running",
         "Running"),
    case("rename-running-and-haenable", "updateVirtualMachine",
         {"id": "@running", "name": "renamed", "haenable": False}, "bad-running", "Running"),
    case("name-taken", "updateVirtualMachine", {"id": "@spare", "name": "bad-stopped"}, "bad-stopped"),
    case("name-not-a-hostname", "updateVirtualMachine", {"id": "@spare", "name": "-bad-"}, "name"),
    case("displayname-too-long", "updateVirtualMachine", {"id": "@stopped", "displayname": "d" * 300},
         "displayname"),
    case("name-too-long", "updateVirtualMachine", {"id": "@stopped", "name": "v" * 64}, "name"),
    # ---- volumes ----
    case("no-offering-no-size", "createVolume", {"zoneid": "@zone", "name": "x"}, "diskofferingid"),
    case("zero-size", "createVolume", {"zoneid": "@zone", "diskofferingid": "@custom_disk", "size": 0}, "size"),
    case("size-not-a-number", "createVolume", {"zoneid": "@zone", "diskofferingid": "@custom_disk", "size": "ten"},
         "size", "ten"),
    case("size-with-fixed-offering", "createVolume", {"zoneid": "@zone", "diskofferingid": "@fixed_disk",
                                                      "size": 3}, "Fixed5", "size"),
    case("unknown-offering", "createVolume", {"zoneid": "@zone", "diskofferingid": UNKNOWN_UUID, "size": 1},
         "diskofferingid", UNKNOWN_UUID),
    case("malformed-zoneid", "createVolume", {"zoneid": MALFORMED_UUID, "diskofferingid": "@custom_disk",
                                              "size": 1}, "zoneid", MALFORMED_UUID),
    case("for-destroyed-vm", "createVolume", {"diskofferingid": "@custom_disk", "size": 1,
                                              "virtualmachineid": "@destroyed"}, "bad-destroyed", "Destroyed"),
    case("larger-than-the-csv", "createVolume", {"zoneid": "@zone", "diskofferingid": "@custom_disk", "size": 500,
                                                 "virtualmachineid": "@running"}, "PS1", "500"),
    case("beyond-the-maximum-size", "createVolume", {"zoneid": "@zone", "diskofferingid": "@custom_disk",
                                                     "size": 2000}, "size", "1024"),
    case("beyond-a-vhdx", "createVolume", {"zoneid": "@zone", "diskofferingid": "@custom_disk",
                                           "size": 2**40}, "size", "65536"),
    case("vm-of-another-zone", "createVolume", {"zoneid": "@zone2", "diskofferingid": "@custom_disk", "size": 1,
                                                "virtualmachineid": "@running"}, "bad-running", "Z2"),
    case("unknown-account", "createVolume", {"zoneid": "@zone", "diskofferingid": "@custom_disk", "size": 1,
                                             "account": "nobody", "domainid": "@domain"}, "nobody"),
    case("account-without-domain", "createVolume", {"zoneid": "@zone", "diskofferingid": "@custom_disk",
                                                    "size": 1, "account": "admin"}, "domainid"),
    case("to-destroyed-vm", "attachVolume", {"id": "@free", "virtualmachineid": "@destroyed"}, "bad-destroyed",
         "Destroyed"),
    case("vm-of-another-account", "attachVolume", {"id": "@others_volume", "virtualmachineid": "@stopped"},
         "bad-others", "bad-other", "admin"),
    case("vm-of-another-zone", "attachVolume", {"id": "@zone2_volume", "virtualmachineid": "@stopped"}, "bad-z2",
         "bad-stopped", "Z2"),
    case("already-attached", "attachVolume", {"id": "@attached", "virtualmachineid": "@stopped"}, "bad-attached",
         "attached"),
    case("root", "attachVolume", {"id": "@root", "virtualmachineid": "@stopped"}, "ROOT"),
    case("missing-vm", "attachVolume", {"id": "@free"}, "missing parameter virtualmachineid"),
    case("unknown-vm", "attachVolume", {"id": "@free", "virtualmachineid": UNKNOWN_UUID}, "virtualmachineid",
         UNKNOWN_UUID),
    case("vm-id-as-volume", "attachVolume", {"id": "@stopped", "virtualmachineid": "@running"}, "volume", "id"),
    case("root", "detachVolume", {"id": "@root"}, "ROOT"),
    case("not-attached", "detachVolume", {"id": "@free"}, "bad-free", "not attached"),
    case("deleted", "detachVolume", {"id": "@gone"}, "volume", "id"),
    case("shrink", "resizeVolume", {"id": "@attached", "size": 1}, "bad-attached", "2 GB"),
    case("same-size", "resizeVolume", {"id": "@free", "size": 2}, "bad-free", "2 GB"),
    case("beyond-the-maximum-size", "resizeVolume", {"id": "@free", "size": 2000}, "size", "1024"),
    case("beyond-a-bigint", "resizeVolume", {"id": "@free", "size": 2**40}, "size"),
    case("zero", "resizeVolume", {"id": "@free", "size": 0}, "size"),
    case("missing-size", "resizeVolume", {"id": "@free"}, "missing parameter size"),
    case("larger-than-the-csv", "resizeVolume", {"id": "@attached", "size": 500}, "PS1"),
    case("deleted", "resizeVolume", {"id": "@gone", "size": 5}, "volume", "id"),
    case("attached", "deleteVolume", {"id": "@attached"}, "bad-attached", "detach"),
    case("root", "deleteVolume", {"id": "@root"}, "ROOT"),
    case("malformed-id", "deleteVolume", {"id": MALFORMED_UUID}, "id", MALFORMED_UUID),
    case("deleted", "deleteVolume", {"id": "@gone"}, "volume", "id"),
    # ---- a plain user: other accounts' objects and the administrator's choices are not theirs ----
    case("others-vm", "startVirtualMachine", {"id": "@stopped"}, "bad-other", code=PERMISSION, as_user=True),
    case("others-vm", "destroyVirtualMachine", {"id": "@running"}, "bad-other", code=PERMISSION, as_user=True),
    case("to-others-vm", "attachVolume", {"id": "@others_volume", "virtualmachineid": "@stopped"}, "bad-other",
         code=PERMISSION, as_user=True),
    case("others-volume", "deleteVolume", {"id": "@free"}, "bad-other", code=PERMISSION, as_user=True),
    case("for-another-account", "createVolume", {"zoneid": "@zone", "diskofferingid": "@custom_disk", "size": 1,
                                                 "account": "admin", "domainid": "@domain"}, "bad-other", "admin",
         code=PERMISSION, as_user=True),
    case("on-a-chosen-host", "deployVirtualMachine", DEPLOY, "host", code=PERMISSION, as_user=True),
    case("admin-only", "addCluster", CLUSTER, "not available", code=UNKNOWN_COMMAND, as_user=True),
    case("admin-only", "migrateVirtualMachine", {"virtualmachineid": "@running", "hostid": "@host17"},
         "not available", code=UNKNOWN_COMMAND, as_user=True),
    case("admin-only", "prepareHostForMaintenance", {"id": "@host13"}, "not available", code=UNKNOWN_COMMAND,
         as_user=True),
    # ---- host maintenance ----
    case("already-in-maintenance", "prepareHostForMaintenance", {"id": "@host17"}, "HYPERVCLLOUD17",
         "Maintenance"),
    case("last-node-of-the-cluster", "prepareHostForMaintenance", {"id": "@host13"}, "HYPERVCLLOUD13",
         "HYPERVCLLOUD17"),
    case("unknown-id", "prepareHostForMaintenance", {"id": UNKNOWN_UUID}, "id", UNKNOWN_UUID),
    case("vm-id", "prepareHostForMaintenance", {"id": "@running"}, "host", "id"),
    case("missing-id", "prepareHostForMaintenance", {}, "missing parameter id"),
    case("not-in-maintenance", "cancelHostMaintenance", {"id": "@host13"}, "HYPERVCLLOUD13", "not in maintenance"),
    case("malformed-id", "cancelHostMaintenance", {"id": MALFORMED_UUID}, "id", MALFORMED_UUID),
]


@pytest.mark.parametrize(("command", "params", "words", "code", "as_user"), CASES)
def test_bad_input_is_refused_and_changes_nothing(world: World, command: str, params: dict[str, Any],
                                                  words: tuple[str, ...], code: int, as_user: bool) -> None:
    resolved = _resolve(world, params)
    before = world.settled()
    refused = refusal(world.user if as_user else world.cs, command, resolved)
    after = world.settled()
    assert (refused.errorcode, refused.synchronous) == (code, True), refused
    text = refused.errortext
    assert text and text[0].isalnum() and len(text) < 600 and "Traceback" not in text and "Error:" not in text, text
    missing = [w for w in words if w.lower() not in text.lower()]
    assert not missing, f"{text!r} does not name {missing}"
    assert difference(before, after) is None, f"{command} changed something: {difference(before, after)}"
