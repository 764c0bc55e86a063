"""CI1 as Failover Cluster Manager shows it, and the console following the cluster live, without a reload."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .console_session import Console
from .demo_process import DemoProcess

LIVE = 60_000  # generous: the cluster notices a crash after its heartbeat threshold, on a shared machine


def _headers(page, name: str) -> list[str]:
    table = page.get_by_role("table", name=name)
    table.wait_for()
    return [h.strip() for h in table.locator("thead th").all_inner_texts()]


def test_roles_nodes_and_disks_of_ci1(console: Console, demo: DemoProcess) -> None:
    api = demo.admin()
    ids = demo.seed_ids(api)
    for name, offering, host in (("HAVM1", "ha", "HYPERVCLLOUD17"), ("sowmyavm1", "small", "HYPERVCLLOUD13")):
        api("deployVirtualMachine", zoneid=ids["zone"], templateid=ids["template"], serviceofferingid=ids[offering],
            hostid=demo.host_id(api, host), name=name)
    page = console.login()
    page.get_by_role("link", name="Infrastructure").click()
    page.get_by_role("link", name="Clusters", exact=True).first.click()
    page.get_by_role("table", name="Clusters").get_by_role("link", name="CI1").click()
    expect(page).to_have_url(re.compile(r"/client/clusters/[0-9a-f-]{36}/roles$"))
    roles_url = page.url

    assert _headers(page, "Roles")[:6] == ["Name", "Status", "Type", "Owner Node", "Priority", "Information"]
    roles = page.get_by_role("table", name="Roles")
    ha_role = roles.locator("tbody tr", has_text="i-2-")
    expect(roles.locator("tbody tr")).to_have_count(2)
    expect(roles).to_contain_text("Virtual Machine")
    expect(roles.locator("tbody tr", has_text="HYPERVCLLOUD17")).to_contain_text("Medium")
    # As Failover Cluster Manager shows a VM role: by its VM's state.
    expect(roles.locator("tbody tr", has_text="HYPERVCLLOUD17").locator("td").nth(1)).to_have_text("Running")
    expect(roles.locator("tbody tr", has_text="HYPERVCLLOUD13")).to_contain_text("No Auto Start")
    assert ha_role.count() == 0  # the admin's instances are i-1-N-VM (account 1)
    quorum = page.get_by_label("Quorum", exact=True)
    expect(quorum).to_contain_text("Node and Disk Majority")
    expect(quorum).to_contain_text("needed")

    page.get_by_role("link", name="Nodes").click()
    expect(page).to_have_url(roles_url.replace("/roles", "/nodes"))
    assert _headers(page, "Nodes")[:4] == ["Name", "Status", "Assigned Vote", "Current Vote"]
    for node in ("HYPERVCLLOUD13", "HYPERVCLLOUD17"):
        row = page.get_by_role("table", name="Nodes").locator("tbody tr", has_text=node)
        expect(row.locator("td").nth(1)).to_have_text("Up")
        expect(row.locator("td").nth(2)).to_have_text("1")
        expect(row.locator("td").nth(3)).to_have_text("1")

    page.get_by_role("link", name="Disks").click()
    expect(page).to_have_url(roles_url.replace("/roles", "/disks"))
    assert _headers(page, "Disks")[:6] == ["Name", "Status", "Assigned To", "Owner Node", "Disk Number", "Capacity"]
    csv_row = page.get_by_role("table", name="Disks").locator("tbody tr", has_text="Cluster Shared Volume")
    expect(csv_row).to_contain_text("ClusterDisk1")
    expect(csv_row).to_contain_text("100 GB")
    volume = page.get_by_label("Volume C:\\ClusterStorage\\Volume1")
    expect(volume).to_contain_text("C:\\ClusterStorage\\Volume1")
    expect(volume).to_contain_text(re.compile(r"CSVFS \d+(\.\d)? GB free of \d+(\.\d)? GB"))

    page.get_by_role("link", name="Cluster Events").click()
    events = page.get_by_role("table", name="Cluster Events")
    expect(events.locator("tbody tr").first).to_be_visible()
    assert _headers(page, "Cluster Events")[:4] == ["Level", "Date and Time", "Source", "Event ID"]
    # A bookmark of a view opens that view.
    page.goto(roles_url.replace("/roles", "/disks"))
    expect(page.get_by_role("heading", name="CI1: Disks")).to_be_visible()


def test_a_crash_shows_live_host_down_and_the_instance_moved(console: Console, demo: DemoProcess) -> None:
    api = demo.admin()
    ids = demo.seed_ids(api)
    vm = api("deployVirtualMachine", zoneid=ids["zone"], templateid=ids["template"], serviceofferingid=ids["ha"],
             hostid=demo.host_id(api, "HYPERVCLLOUD17"), name="crashvm")["virtualmachine"]
    hosts_page = console.login()
    hosts_page.goto("/client/hosts")
    host_row = hosts_page.get_by_role("table", name="Hosts").locator("tbody tr", has_text="HYPERVCLLOUD17")
    expect(host_row.locator("td").nth(1)).to_have_text("Up")
    vm_page = console.new_page()
    vm_page.goto(f"/client/instances/{vm['id']}")
    expect(vm_page.get_by_text("crashvm-")).to_have_count(0)
    details = vm_page.locator("dl.details")
    expect(details).to_contain_text("HYPERVCLLOUD17")
    for page in (hosts_page, vm_page):
        expect(page.locator("#live-status")).to_have_text("Live")
        page.evaluate("window.__noReload = true")

    demo.sim("node-down", "HYPERVCLLOUD17")

    expect(host_row.locator("td").nth(1)).to_have_text("Down", timeout=LIVE)
    expect(host_row.locator("td").nth(1).locator(".status")).to_have_class(re.compile(r"\bbad\b"))
    host_cell = details.locator("dt:text-is('Host') + dd")
    expect(host_cell).to_have_text("HYPERVCLLOUD13", timeout=LIVE)
    expect(details.locator("dt:text-is('State') + dd")).to_have_text("Running", timeout=LIVE)
    # The failover shows in the instance's timeline, the cloud's and the cluster's events together.
    timeline = vm_page.get_by_role("list", name="Timeline")
    expect(timeline).to_contain_text("VM.MIGRATE", timeout=LIVE)
    expect(timeline).to_contain_text("Event 1153")  # the cluster failing the role over
    expect(timeline).to_contain_text("Event 1135")  # around it: the node that left the membership
    for page in (hosts_page, vm_page):
        assert page.evaluate("window.__noReload") is True, "the page was reloaded"

    demo.sim("node-up", "HYPERVCLLOUD17")
    expect(host_row.locator("td").nth(1)).to_have_text("Up", timeout=LIVE)


def test_move_a_role_and_drain_and_resume_a_node(console: Console, demo: DemoProcess) -> None:
    api = demo.admin()
    ids = demo.seed_ids(api)
    vm = api("deployVirtualMachine", zoneid=ids["zone"], templateid=ids["template"], serviceofferingid=ids["ha"],
             hostid=demo.host_id(api, "HYPERVCLLOUD13"), name="movevm")["virtualmachine"]
    cluster = api.items("listClusters", "cluster")[0]
    page = console.login()
    page.goto(f"/client/clusters/{cluster['id']}/roles")
    row = page.get_by_role("table", name="Roles").locator("tbody tr", has_text=vm["instancename"])
    expect(row).to_contain_text("HYPERVCLLOUD13")
    row.get_by_role("button", name=f"Move {vm['instancename']}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Node").select_option("HYPERVCLLOUD17")
    dialog.get_by_label("Migration").select_option("live")
    dialog.get_by_role("button", name="Move").click()
    expect(page.get_by_role("article", name=f"Move {vm['instancename']} to HYPERVCLLOUD17")).to_contain_text(
        "Succeeded", timeout=LIVE)
    expect(row.locator("td").nth(3)).to_have_text("HYPERVCLLOUD17", timeout=LIVE)
    listed = api.items("listVirtualMachines", "virtualmachine", id=vm["id"])[0]
    assert listed["hostname"] == "HYPERVCLLOUD17"

    page.get_by_role("link", name="Nodes").click()
    node_row = page.get_by_role("table", name="Nodes").locator("tbody tr", has_text="HYPERVCLLOUD17")
    node_row.get_by_role("button", name="Drain HYPERVCLLOUD17").click()
    page.get_by_role("dialog").get_by_role("button", name="Drain").click()
    expect(page.get_by_role("article", name="Drain HYPERVCLLOUD17")).to_contain_text("Succeeded", timeout=LIVE)
    expect(node_row.locator("td").nth(1)).to_have_text("Paused", timeout=LIVE)
    assert api.items("listVirtualMachines", "virtualmachine", id=vm["id"])[0]["hostname"] == "HYPERVCLLOUD13"
    node_row.get_by_role("button", name="Resume HYPERVCLLOUD17").click()
    page.get_by_role("dialog").get_by_role("button", name="Resume").click()
    expect(node_row.locator("td").nth(1)).to_have_text("Up", timeout=LIVE)


def test_host_maintenance_drains_through_the_cluster_and_cancels(console: Console, demo: DemoProcess) -> None:
    page = console.login()
    page.goto("/client/hosts")
    row = page.get_by_role("table", name="Hosts").locator("tbody tr", has_text="HYPERVCLLOUD13")
    expect(row.locator("td").nth(2)).to_have_text("Enabled")
    row.get_by_role("button", name="Enable maintenance on HYPERVCLLOUD13").click()
    dialog = page.get_by_role("dialog", name="Enable maintenance")
    expect(dialog).to_contain_text("Drain HYPERVCLLOUD13")
    dialog.get_by_role("button", name="Enable maintenance").click()
    expect(page.get_by_role("article", name="Enable maintenance: HYPERVCLLOUD13")).to_contain_text(
        "Succeeded", timeout=LIVE)
    expect(row.locator("td").nth(2)).to_have_text("Maintenance", timeout=LIVE)
    api = demo.admin()
    assert all(vm["hostname"] != "HYPERVCLLOUD13" for vm in api.items(
        "listVirtualMachines", "virtualmachine", listall=True, state="Running"))
    row.get_by_role("button", name="Cancel maintenance on HYPERVCLLOUD13").click()
    page.get_by_role("dialog", name="Cancel maintenance").get_by_role("button", name="Cancel maintenance").click()
    expect(row.locator("td").nth(2)).to_have_text("Enabled", timeout=LIVE)


def _sim_node_state(demo: DemoProcess, name: str) -> str:
    import httpx

    nodes = httpx.get(f"{demo.sim_url}/cluster", timeout=30).json()["nodes"]
    return next(n["state"] for n in nodes if n["name"] == name)


def _wait_node(demo: DemoProcess, name: str, states: tuple[str, ...]) -> str:
    import time

    deadline = time.monotonic() + LIVE / 1000
    while (state := _sim_node_state(demo, name)) not in states:
        assert time.monotonic() < deadline, f"{name} stayed {state}, never {states}"
        time.sleep(0.1)
    return state


def test_clear_the_quarantine_of_a_node_from_the_nodes_view(console: Console, demo: DemoProcess) -> None:
    """Crashed until the cluster quarantines it (three leaves within an hour, counting earlier tests' crash), the
    node cannot come back with node-up; an admin clears the quarantine from the Nodes view."""
    import pytest

    node = "HYPERVCLLOUD17"
    api = demo.admin()
    cluster = api.items("listClusters", "cluster")[0]
    for _ in range(3):
        demo.sim("node-down", node)
        if _wait_node(demo, node, ("Down", "Quarantined")) == "Quarantined":
            break
        demo.sim("node-up", node)
        _wait_node(demo, node, ("Up",))
    assert _sim_node_state(demo, node) == "Quarantined"
    with pytest.raises(RuntimeError, match="Quarantined"):
        demo.sim("node-up", node)  # the machine starts, the cluster keeps it out: the command says so and fails

    page = console.login()
    page.goto(f"/client/clusters/{cluster['id']}/nodes")
    row = page.get_by_role("table", name="Nodes").locator("tbody tr", has_text=node)
    expect(row.locator("td").nth(1)).to_have_text("Quarantined", timeout=LIVE)
    expect(row).to_contain_text("Quarantined: ")
    expect(row).to_contain_text("clear it with Clear quarantine")
    expect(row.get_by_role("button", name=f"Drain {node}")).to_have_count(0)
    hosts_page = console.new_page()
    hosts_page.goto("/client/hosts")
    host_row = hosts_page.get_by_role("table", name="Hosts").locator("tbody tr", has_text=node)
    expect(host_row.locator("td").nth(1)).to_have_text("Down", timeout=LIVE)  # not a member: Down, not Alert
    # The host's own page says why it is Down and what clears it.
    host_page = console.new_page()
    host_page.goto(f"/client/hosts/{demo.host_id(api, node)}")
    expect(host_page.get_by_role("note")).to_contain_text("Quarantined", timeout=LIVE)
    expect(host_page.get_by_role("note")).to_contain_text("clear it with Clear quarantine")

    row.get_by_role("button", name=f"Clear quarantine of {node}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Start-ClusterNode -ClearQuarantine")
    dialog.get_by_role("button", name="Clear quarantine").click()
    expect(page.get_by_role("article", name=f"Clear quarantine of {node}")).to_contain_text("Succeeded", timeout=LIVE)
    expect(row.locator("td").nth(1)).to_have_text("Up", timeout=LIVE)
    expect(row.get_by_role("button", name=f"Drain {node}")).to_have_count(1)
    expect(host_row.locator("td").nth(1)).to_have_text("Up", timeout=LIVE)
