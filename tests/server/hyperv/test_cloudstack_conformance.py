"""Where CloudStack's own tests look, clusterstack answers as CloudStack does (issue 16, items 2, 3 and 4).

Driven as CloudStack's smoke tests drive it: the real `cs` client against a live server managing the simulated
failover cluster CI1, set up with the values clients send (Ansible's cs_cluster and cs_host, Terraform and Marvin
send hypervisor=Hyperv).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from cs import CloudStackApiException

from .seed_cloud import build_seed

PASSWORD = "S3cret-pass!"


@pytest.fixture
def simulator(simulator_factory: Any) -> Any:  # the wire's answers do not depend on the driver: JSON API only
    return simulator_factory(speed=10.0, winrm=False)


@pytest.fixture
def seed(live_server: Any, simulator: Any) -> dict[str, Any]:
    return build_seed(live_server, simulator)


def _refused(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(CloudStackApiException) as info:
        call(**params)
    return info.value.error or {}


def _account_client(seed: dict[str, Any], name: str) -> tuple[dict[str, Any], Any]:
    client = seed["cs"]
    account = client.createAccount(accounttype=0, account=name, username=name, password=PASSWORD,
                                   email=f"{name}@example.org", firstname=name, lastname="Test")["account"]
    keys = client.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    return account, seed["server"].cs(keys["apikey"], keys["secretkey"])


def _deploy(seed: dict[str, Any], client: Any, name: str) -> dict[str, Any]:
    answer: dict[str, Any] = client.deployVirtualMachine(
        zoneid=seed["zone"], serviceofferingid=seed["offerings"]["Small Instance"], templateid=seed["template"],
        name=name, displayname=name)["virtualmachine"]
    return answer


def test_the_hypervisor_is_hyperv_on_the_wire(seed: dict[str, Any]) -> None:
    """CloudStack's HypervisorType is `Hyperv` (api/.../hypervisor/Hypervisor.java), looked up case-insensitively
    (HypervisorType.getType lowercases): every answer names it so, and any spelling of it filters."""
    client = seed["cs"]
    assert client.listHypervisors()["hypervisor"] == [{"name": "Hyperv"}]
    assert client.listHypervisors(zoneid=seed["zone"])["hypervisor"] == [{"name": "Hyperv"}]
    assert {c["hypervisortype"] for c in client.listClusters()["cluster"]} == {"Hyperv"}
    assert {h["hypervisor"] for h in client.listHosts()["host"]} == {"Hyperv"}
    assert {p["hypervisor"] for p in client.listStoragePools()["storagepool"]} == {"Hyperv"}
    assert {t["hypervisor"] for t in client.listTemplates(templatefilter="all")["template"]} == {"Hyperv"}

    vm = _deploy(seed, client, "hvname1")
    assert vm["hypervisor"] == "Hyperv"
    volumes = client.listVolumes(virtualmachineid=vm["id"])["volume"]
    assert {v["hypervisor"] for v in volumes} == {"Hyperv"}

    for spelling in ("Hyperv", "hyperv", "HYPERV", "Hyper-V", "hyper-v"):
        assert len(client.listClusters(hypervisor=spelling)["cluster"]) == 1
        assert len(client.listHosts(hypervisor=spelling)["host"]) == 2
        assert client.listVirtualMachines(hypervisor=spelling)["virtualmachine"][0]["id"] == vm["id"]
        assert len(client.listTemplates(templatefilter="all", hypervisor=spelling)["template"]) == 1
    # another hypervisor is a filter that matches nothing, as in CloudStack, not an error
    for command in ("listClusters", "listHosts", "listVirtualMachines"):
        assert getattr(client, command)(hypervisor="KVM") == {}, command
    assert client.listTemplates(templatefilter="all", hypervisor="KVM") == {}

    # input: the name, the product's name, any case; what is stored and answered is CloudStack's name
    template = client.registerTemplate(name="hv2", displaytext="hv2", format="VHDX", hypervisor="hyper-v",
                                       zoneid=seed["zone"], url="http://templates.example/hv2.vhdx",
                                       ostypeid=client.listOsTypes()["ostype"][0]["id"])["template"][0]
    assert template["hypervisor"] == "Hyperv"
    smb = client.createStoragePool(name="SMB9", zoneid=seed["zone"], scope="zone", hypervisor="HYPERV",
                                   url="cifs://10.1.0.5/primary",
                                   details=[{"user": "Administrator", "password": "pw", "domain": "BLR"}])
    assert smb["storagepool"]["hypervisor"] == "Hyperv"
    assert _refused(client.registerTemplate, name="kvm", displaytext="kvm", format="VHD", hypervisor="KVM",
                    zoneid=seed["zone"], url="http://templates.example/k.vhd")["errorcode"] == 431


def test_filters_that_match_nothing_answer_an_empty_list(seed: dict[str, Any]) -> None:
    """CloudStack compares string filters (state, type, resourcestate, hypervisor) without refusing unknown
    values, and its ParamProcessWorker.translateUuidToInternalId resolves a UUID filter to the row's id even when
    the row is removed (findByUuidIncludingRemoved): such a filter matches nothing. What it refuses stays
    refused: a UUID no row ever had, and a value that is no UUID at all."""
    client = seed["cs"]
    assert client.listHosts(state="Foo") == {}
    assert client.listHosts(type="Bar") == {}
    assert client.listHosts(resourcestate="Baz") == {}
    assert client.listHosts(hahost=True) == {}
    assert client.listClusters(allocationstate="Foo") == {}
    assert client.listClusters(clustertype="ExternalManaged") == {}
    assert client.listPods(allocationstate="Foo") == {}
    assert client.listZones(networktype="Foo") == {}
    assert client.listVirtualMachines(state="Foo", listall=True) == {}
    assert client.listVolumes(type="Foo", listall=True) == {} and client.listVolumes(state="Foo", listall=True) == {}
    assert client.listEvents(level="Foo", listall=True) == {}
    # a known value filters in any case, as CloudStack's database compares it
    assert len(client.listHosts(state="up", resourcestate="ENABLED", type="routing")["host"]) == 2
    assert len(client.listClusters(allocationstate="enabled")["cluster"]) == 1

    # rows that existed and were removed: filters naming them match nothing
    zone = client.createZone(name="Gone", networktype="Advanced", dns1="8.8.8.8", internaldns1="10.0.0.1")["zone"]
    pod = client.createPod(name="GonePod", zoneid=zone["id"], gateway="10.9.0.1", netmask="255.255.255.0",
                           startip="10.9.0.10", endip="10.9.0.20")["pod"]
    client.deletePod(id=pod["id"])
    client.deleteZone(id=zone["id"])
    offering = client.createDiskOffering(name="Gone", displaytext="Gone", disksize=1)["diskoffering"]
    client.deleteDiskOffering(id=offering["id"])
    domain = client.createDomain(name="GoneDomain")["domain"]
    client.deleteDomain(id=domain["id"])

    assert client.listDiskOfferings(id=offering["id"]) == {}
    for command in ("listStoragePools", "listClusters", "listHosts", "listPods"):
        assert getattr(client, command)(zoneid=zone["id"]) == {}, command
    for command in ("listStoragePools", "listClusters", "listHosts"):
        assert getattr(client, command)(podid=pod["id"]) == {}, command
    assert client.listVirtualMachines(zoneid=zone["id"], listall=True) == {}
    assert client.listVolumes(zoneid=zone["id"], listall=True) == {}
    assert client.listHypervisors(zoneid=zone["id"]) == {}
    assert client.listDiskOfferings(domainid=domain["id"]) == {}
    assert client.listServiceOfferings(domainid=domain["id"]) == {}
    never = str(uuid.uuid4())
    assert client.listStoragePools(id=never) == {} and client.listDiskOfferings(id=never) == {}

    # what CloudStack refuses: a UUID that names no row, removed or not, and a value that is no UUID
    for command, param in (("listHosts", "zoneid"), ("listClusters", "podid"), ("listStoragePools", "clusterid")):
        error = _refused(getattr(client, command), **{param: never})
        assert error["errorcode"] == 431 and never in error["errortext"], (command, param)
    assert _refused(client.listHosts, zoneid="not-a-uuid")["errorcode"] == 431


def test_a_listing_by_id_reaches_what_the_caller_may_see(seed: dict[str, Any]) -> None:
    """AccountManagerImpl.buildACLSearchParameters: with an id and neither account nor domainid, the root admin
    is not narrowed to its own account (listall is implied); a user still sees only its own account's."""
    client = seed["cs"]
    alice, alice_client = _account_client(seed, "alice")
    _, bob_client = _account_client(seed, "bob")
    vm = _deploy(seed, alice_client, "alicevm")
    volume = alice_client.listVolumes(virtualmachineid=vm["id"])["volume"][0]

    assert client.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["account"] == alice["name"]
    assert client.listVolumes(id=volume["id"])["volume"][0]["account"] == alice["name"]
    assert client.listVirtualMachines() == {}  # without an id: the caller's own account, as in CloudStack
    assert bob_client.listVirtualMachines(id=vm["id"]) == {}
    assert bob_client.listVolumes(id=volume["id"]) == {}
    assert alice_client.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["id"] == vm["id"]
    events = client.listEvents(type="VM.CREATE", listall=True)["event"]
    own = next(e for e in events if e.get("account") == alice["name"])
    assert client.listEvents(id=own["id"])["event"][0]["id"] == own["id"]
