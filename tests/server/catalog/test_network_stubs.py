"""The network list commands answer empty lists, and Libcloud's list_nodes works over seeded instances."""

from __future__ import annotations

from libcloud.compute.drivers.cloudstack import CloudStackNodeDriver
from libcloud.compute.types import NodeState

from .conftest import HA_OFFERING, Catalog, refused

STUBS = ["listPublicIpAddresses", "listPortForwardingRules", "listIpForwardingRules", "listFirewallRules",
         "listEgressFirewallRules", "listNetworks", "listSecurityGroups"]


def test_network_lists_are_empty_and_described_so(catalog: Catalog) -> None:
    for command in STUBS:
        assert getattr(catalog.cs, command)(listall=True) == {}, command
        assert getattr(catalog.cs, command)(page=1, pagesize=10) == {}, command
    described = {api["name"]: api for api in catalog.cs.listApis()["api"] if api["name"] in STUBS}
    assert set(described) == set(STUBS)
    assert all("no guest networking yet" in api["description"] for api in described.values())
    assert "id" in refused(catalog.cs.listNetworks, id="net-1").text


def test_libcloud_list_nodes_sizes_and_locations(catalog: Catalog) -> None:
    where = catalog.placement()
    offering = catalog.cs.createServiceOffering(**HA_OFFERING)["serviceoffering"]
    template = catalog.template(where["zone"], ispublic=True)
    account = catalog.account()
    ids = catalog.seed_vms(2, account=account, offering=offering, template=template, where=where)
    catalog.seed_vms(1, account=account, offering=offering, template=template, where=where, state="Stopped",
                     name_prefix="cold")
    keys = catalog.cs.registerUserKeys(id=account["user"][0]["id"])["userkeys"]
    driver = CloudStackNodeDriver(keys["apikey"], keys["secretkey"], secure=False, host="127.0.0.1",
                                  port=catalog.server.port, path="/client/api")
    nodes = {node.name: node for node in driver.list_nodes()}
    assert set(nodes) == {"vm0", "vm1", "cold0"}
    assert nodes["vm0"].id == ids[0] and nodes["vm0"].state == NodeState.RUNNING
    assert nodes["cold0"].state == NodeState.STOPPED
    assert nodes["vm1"].extra["size_name"] == "HA Offering" and nodes["vm1"].extra["haenable"] == "True"
    assert nodes["vm1"].public_ips == [] and nodes["vm1"].extra["port_forwarding_rules"] == []
    assert [size.name for size in driver.list_sizes()] == ["HA Offering"]
    assert [loc.name for loc in driver.list_locations()] == ["HVCluster"]
