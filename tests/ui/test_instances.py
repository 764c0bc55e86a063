"""Logging in, the Instances table with the seed's columns, searching, sorting and row actions."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .console_session import Console
from .demo_process import DemoProcess

SEED_COLUMNS = ["Name", "Internal name", "Display Name", "Zone Name", "State", "Host", "HA"]


def _deploy(demo: DemoProcess, name: str, offering: str, host: str) -> dict:
    api = demo.admin()
    ids = demo.seed_ids(api)
    return api("deployVirtualMachine", zoneid=ids["zone"], templateid=ids["template"], serviceofferingid=ids[offering],
               hostid=demo.host_id(api, host), name=name, displayname=name)["virtualmachine"]


def test_login_form_shows_errors_and_logs_out(console: Console) -> None:
    console.expected_api_errors = True
    page = console.page
    page.goto("/client/instances")
    expect(page).to_have_url(re.compile(r"/client/login\?next="))
    for label in ("Username", "Password", "Domain"):
        expect(page.get_by_label(label)).to_be_visible()
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("not right")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    # Back where the user was going before logging in.
    expect(page.get_by_role("heading", name="Instances")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_label("Username")).to_be_visible()
    page.goto("/client/hosts")
    expect(page).to_have_url(re.compile(r"/client/login"))


def test_instances_table_has_the_seed_columns_search_and_sort(console: Console, demo: DemoProcess) -> None:
    first = _deploy(demo, "HAVM1", "ha", "HYPERVCLLOUD17")
    _deploy(demo, "sowmyavm1", "small", "HYPERVCLLOUD13")
    page = console.login()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Instances").click()
    expect(page).to_have_url(re.compile(r"/client/instances$"))
    table = page.get_by_role("table", name="Instances")
    table.wait_for()
    headers = table.locator("thead th").all_inner_texts()
    assert [h.strip() for h in headers[:7]] == SEED_COLUMNS
    row = table.locator("tbody tr", has_text="HAVM1")
    expect(row).to_contain_text(first["instancename"])
    expect(row).to_contain_text("HVCluster")
    expect(row).to_contain_text("Running")
    expect(row).to_contain_text("HYPERVCLLOUD17")
    assert row.locator("td").nth(6).inner_text() == "Yes"
    assert table.locator("tbody tr", has_text="sowmyavm1").locator("td").nth(6).inner_text() == "No"

    page.get_by_label("Search Instances").fill("sowmya")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr")).to_contain_text("sowmyavm1")
    page.get_by_label("Search Instances").fill("")
    expect(table.locator("tbody tr")).to_have_count(2)

    name_header = table.locator("thead th", has_text="Name").first
    name_header.get_by_role("button").click()
    expect(name_header).to_have_attribute("aria-sort", "ascending")
    assert table.locator("tbody tr td:first-child").all_inner_texts() == ["HAVM1", "sowmyavm1"]
    name_header.get_by_role("button").click()
    expect(name_header).to_have_attribute("aria-sort", "descending")
    assert table.locator("tbody tr td:first-child").all_inner_texts() == ["sowmyavm1", "HAVM1"]


def test_stop_and_start_from_the_row_show_the_job_to_its_end(console: Console, demo: DemoProcess) -> None:
    _deploy(demo, "actionsvm", "small", "HYPERVCLLOUD13")
    page = console.login()
    page.goto("/client/instances")
    row = page.get_by_role("table", name="Instances").locator("tbody tr", has_text="actionsvm")
    row.get_by_role("button", name="Stop actionsvm").click()
    dialog = page.get_by_role("dialog", name="Stop instance")
    expect(dialog).to_contain_text("actionsvm")
    dialog.get_by_role("button", name="Stop").click()
    job = page.get_by_role("article", name="Stop actionsvm")
    expect(job).to_contain_text("Succeeded", timeout=60_000)
    expect(row).to_contain_text("Stopped")
    row.get_by_role("button", name="Start actionsvm").click()
    page.get_by_role("dialog", name="Start instance").get_by_role("button", name="Start").click()
    expect(page.get_by_role("article", name="Start actionsvm")).to_contain_text("Succeeded", timeout=60_000)
    expect(row).to_contain_text("Running")
    api = demo.admin()
    vm = api.items("listVirtualMachines", "virtualmachine", name="actionsvm")[0]
    assert vm["state"] == "Running"


def test_the_instance_page_merges_cloud_and_cluster_events(console: Console, demo: DemoProcess) -> None:
    vm = _deploy(demo, "timelinevm", "ha", "HYPERVCLLOUD13")
    page = console.login()
    page.goto("/client/instances")
    page.get_by_role("link", name="timelinevm").click()
    expect(page).to_have_url(re.compile(rf"/client/instances/{vm['id']}$"))
    expect(page.get_by_role("heading", name="timelinevm", exact=True)).to_be_visible()
    timeline = page.get_by_role("list", name="Timeline")
    expect(timeline).to_contain_text("VM.CREATE")
    expect(timeline).to_contain_text("VM.START")
    # The failover cluster's own events for the role, next to the cloud's.
    expect(timeline).to_contain_text("Failover cluster")
    expect(timeline).to_contain_text(vm["instancename"])
    expect(page.get_by_role("table", name="Volumes")).to_contain_text("ROOT")


def test_dashboard_counts_quorum_capacity_and_feeds(console: Console, demo: DemoProcess) -> None:
    # Its own instance: under xdist this test may be the first of its module on a worker (a fresh demo).
    _deploy(demo, "dashboardvm", "small", "HYPERVCLLOUD13")
    api = demo.admin()
    running = len(api.items("listVirtualMachines", "virtualmachine", listall=True, state="Running"))
    page = console.login()
    instances = page.get_by_role("region", name="Instances")
    expect(instances.locator(".big-number")).to_have_text(str(running))
    expect(instances.get_by_role("link", name=f"{running} Running")).to_have_attribute(
        "href", "/client/instances?state=Running")
    expect(page.get_by_role("region", name="Hosts")).to_contain_text("Up")
    clusters = page.get_by_role("region", name="Failover clusters")
    expect(clusters).to_contain_text("CI1")
    expect(clusters).to_contain_text("2 needed")
    meters = page.get_by_role("region", name="Capacity").get_by_role("meter")
    expect(meters).to_have_count(3)
    assert int(meters.nth(1).get_attribute("aria-valuenow")) >= 0
    expect(page.get_by_role("region", name="Latest events")).to_contain_text("VM.START")


def test_events_and_alerts_filter(console: Console, demo: DemoProcess) -> None:
    page = console.login()
    page.goto("/client/events")
    table = page.get_by_role("table", name="Events")
    expect(table.locator("tbody tr").first).to_be_visible()
    page.get_by_label("Event type").fill("vm.create")
    page.get_by_label("Event type").press("Enter")
    expect(table.locator("tbody tr td:nth-child(2)").first).to_have_text("VM.CREATE")
    types = set(table.locator("tbody tr td:nth-child(2)").all_inner_texts())
    assert types == {"VM.CREATE"}
    page.get_by_label("Level").select_option("ERROR")
    expect(table.locator("tbody")).to_contain_text("No events match.")
    page.goto("/client/alerts")
    expect(page.get_by_role("table", name="Alerts")).to_be_visible()
