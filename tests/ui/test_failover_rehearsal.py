"""'What if this node fails?' (issue 12): the failover cluster's answer before a node dies, as Failover Cluster
Manager would show the aftermath, and the dashboard's 'survives the loss of any 1 node' line with the roles at
risk. After one real crash the HA role has used up its failover threshold (1 in 6 hours on two nodes): the next
loss would leave it down, and both screens say so."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import expect

from .console_session import Console
from .demo_process import ApiSession, DemoProcess

LIVE = 60_000  # generous: the cluster notices a crash after its heartbeat threshold, on a shared machine


def _wait_until(what: str, done: Any) -> None:
    deadline = time.monotonic() + LIVE / 1000
    while not done():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.2)


def _role(api: ApiSession, clusterid: str, name: str) -> dict[str, Any]:
    return api.items("listFailoverClusterRoles", "failoverclusterrole", clusterid=clusterid, name=name)[0]


def _node_up(api: ApiSession, clusterid: str, name: str) -> bool:
    node = api.items("listFailoverClusterNodes", "failoverclusternode", clusterid=clusterid, name=name)[0]
    return bool(node["status"] == "Up")


def test_what_if_a_node_fails_and_the_dashboard_says_whether_the_cluster_survives(
        console: Console, demo: DemoProcess) -> None:
    api = demo.admin()
    ids = demo.seed_ids(api)
    cluster = api.items("listClusters", "cluster")[0]["id"]
    ha = api("deployVirtualMachine", zoneid=ids["zone"], templateid=ids["template"], serviceofferingid=ids["ha"],
             hostid=demo.host_id(api, "HYPERVCLLOUD17"), name="whatifvm")["virtualmachine"]
    plain = api("deployVirtualMachine", zoneid=ids["zone"], templateid=ids["template"],
                serviceofferingid=ids["small"], hostid=demo.host_id(api, "HYPERVCLLOUD17"),
                name="plainvm")["virtualmachine"]
    ha_role, plain_role = ha["instancename"], plain["instancename"]

    # listClusters answers the HA fields once this server follows the cluster (a listing never waits on it).
    _wait_until("listClusters' HA fields", lambda: "hasurvivesfailures" in api.items("listClusters", "cluster")[0])
    page = console.login()
    clusters = page.get_by_role("region", name="Failover clusters")
    expect(clusters.get_by_role("listitem", name="CI1")).to_contain_text("Survives the loss of any 1 node: yes")

    # The action on the node, and the aftermath as Failover Cluster Manager would show it.
    page.goto(f"/client/clusters/{cluster}/nodes")
    nodes = page.get_by_role("table", name="Nodes")
    nodes.get_by_role("link", name="What if HYPERVCLLOUD17 fails?").click()
    expect(page).to_have_url(re.compile(rf"/client/clusters/{cluster}/whatif\?nodes=HYPERVCLLOUD17$"))
    expect(page.get_by_role("heading", name="What if HYPERVCLLOUD17 fails?")).to_be_visible()
    roles = page.get_by_role("table", name="Roles after the failure")
    assert [t.strip() for t in roles.locator("thead th").all_inner_texts()][:6] == [
        "Name", "Status", "Type", "Owner Node", "Priority", "Information"]
    moved = roles.locator("tbody tr", has_text=ha_role)
    expect(moved).to_contain_text("whatifvm")
    expect(moved.locator("td").nth(1)).to_have_text("Running")
    expect(moved.locator("td").nth(3)).to_have_text("HYPERVCLLOUD13")
    expect(moved).to_contain_text("Moves from HYPERVCLLOUD17")
    expect(moved).not_to_have_class(re.compile("whatif-down"))
    # The No Auto Start role moves and stays off: in red, with the reason.
    off = roles.locator("tbody tr", has_text=plain_role)
    expect(off).to_have_class(re.compile(r"\bwhatif-down\b"))
    expect(off.locator("td").nth(5)).to_contain_text("Stays down: No Auto Start")
    expect(off.locator("td").nth(5)).to_have_css("color", "rgb(180, 35, 24)")
    after = page.get_by_role("table", name="Nodes after the failure")
    expect(after.locator("tbody tr", has_text="HYPERVCLLOUD17").locator("td").nth(1)).to_have_text("Down")
    expect(after.locator("tbody tr", has_text="HYPERVCLLOUD13").locator("td").nth(1)).to_have_text("Up")
    quorum = page.get_by_label("Quorum after the failure")
    expect(quorum).to_contain_text("Every HA role keeps running")
    expect(quorum.locator("dt:text-is('Quorum after') + dd")).to_have_text("Up")
    expect(quorum.locator("dt:text-is('Votes before') + dd")).to_have_text("3 (2 needed)")
    # Nothing happened to the cluster.
    assert _role(api, cluster, ha_role)["ownernode"] == "HYPERVCLLOUD17"
    # Two nodes of a two-node cluster would be every node: there is no "and another" here, and asking says why.
    expect(page.get_by_label("Another node")).to_have_count(0)
    console.expected_api_errors = True
    page.goto(f"/client/clusters/{cluster}/whatif?nodes=HYPERVCLLOUD13,HYPERVCLLOUD17")
    expect(page.get_by_role("heading", name="What if HYPERVCLLOUD13 and HYPERVCLLOUD17 fail?")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(re.compile("every node", re.I))

    # A real crash: the HA role fails over once, which is all its threshold allows in 6 hours on two nodes.
    demo.sim("node-down", "HYPERVCLLOUD17")
    _wait_until(f"{ha_role} running on HYPERVCLLOUD13", lambda: (r := _role(api, cluster, ha_role))["ownernode"]
                == "HYPERVCLLOUD13" and r["vmstate"] == "Running")
    demo.sim("node-up", "HYPERVCLLOUD17")
    _wait_until("HYPERVCLLOUD17 Up", lambda: _node_up(api, cluster, "HYPERVCLLOUD17"))

    page.goto("/client/")
    line = page.get_by_role("region", name="Failover clusters").get_by_role("listitem", name="CI1")
    expect(line).to_contain_text("Survives the loss of any 1 node: no", timeout=LIVE)
    expect(line).to_contain_text(f"at risk: whatifvm ({ha_role})")
    line.get_by_role("link", name="what if a node fails?").click()
    page.get_by_role("table", name="Nodes").get_by_role("link", name="What if HYPERVCLLOUD13 fails?").click()
    down = page.get_by_role("table", name="Roles after the failure").locator("tbody tr", has_text=ha_role)
    expect(down).to_have_class(re.compile(r"\bwhatif-down\b"))
    expect(down.locator("td").nth(5)).to_contain_text("Stays down: Failover threshold exceeded")
    expect(page.get_by_label("Quorum after the failure")).to_contain_text("HA roles would stay down")
