"""An HA instance left down by the failover threshold (issue 15, defect 4): two crashes in a row on a two-node cluster
exceed the default FailoverThreshold (nodes - 1 = 1 in 6 hours), the cluster logs event 1254 and leaves the role
Failed. The console says so where the instance shows: its page (for its owner and for an admin), the role's
Information column, and the dashboard's alert, readable however long."""

from __future__ import annotations

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


def test_an_instance_left_down_by_the_failover_threshold_says_why(console: Console, demo: DemoProcess) -> None:
    api = demo.admin()
    ids = demo.seed_ids(api)
    cluster = api.items("listClusters", "cluster")[0]["id"]
    api("createAccount", accounttype=0, username="thresh", password="Secret-42", email="thresh@example.org",
        firstname="Thresh", lastname="User", account="thresh")
    user = ApiSession(f"{demo.base_url}/client/api", "thresh", "Secret-42")
    vm = user("deployVirtualMachine", zoneid=ids["zone"], templateid=ids["template"], serviceofferingid=ids["ha"],
              name="threshvm")["virtualmachine"]
    role = api.items("listVirtualMachines", "virtualmachine", id=vm["id"])[0]["instancename"]
    first = _role(api, cluster, role)["ownernode"]
    second = next(n for n in ("HYPERVCLLOUD13", "HYPERVCLLOUD17") if n != first)

    # First crash: the role fails over (1 failover in 6 hours: within the threshold). The node comes back.
    demo.sim("node-down", first)
    _wait_until(f"{role} running on {second}", lambda: (r := _role(api, cluster, role))["ownernode"] == second
                and r["vmstate"] == "Running")
    demo.sim("node-up", first)
    _wait_until(f"{first} Up", lambda: _node_up(api, cluster, first))
    # Second crash: a second failover within 6 hours exceeds it; the cluster leaves the role Failed (event 1254).
    demo.sim("node-down", second)
    _wait_until(f"{role} over its failover threshold",
                lambda: "threshold" in (_role(api, cluster, role)["information"] or "").lower())
    _wait_until("the instance Stopped", lambda: api.items("listVirtualMachines", "virtualmachine",
                                                          id=vm["id"])[0]["state"] == "Stopped")

    # listFailoverClusterRoles tells the threshold in force and the failovers it counted.
    failed = _role(api, cluster, role)
    assert (failed["status"], failed["failoverthreshold"], failed["failoverperiod"], failed["recentfailovers"]) == (
        "Failed", 1, 6, 2)

    page = console.login()
    page.goto(f"/client/instances/{vm['id']}")
    why = page.get_by_role("note", name="Why it is down")
    expect(why).to_contain_text("Failover threshold exceeded", timeout=LIVE)
    expect(why).to_contain_text("(2 failovers in 6 hours, threshold 1; event 1254)")

    page.goto(f"/client/clusters/{cluster}/roles")
    row = page.get_by_role("table", name="Roles").locator("tbody tr", has_text=role)
    expect(row.locator("td").nth(1)).to_have_text("Failed")
    information = row.locator("td").nth(5)
    expect(information).to_contain_text("Failover threshold exceeded (2 failovers in 6 hours, threshold 1")
    expect(information).to_contain_text("the role stays down until")

    # The alert on the dashboard: in a card wide enough to read, wrapped inside it, whole on a click.
    page.goto("/client/")
    alerts = page.get_by_role("region", name="Latest alerts")
    alert = alerts.locator("li", has_text=role).first
    expect(alert).to_contain_text("Failover threshold exceeded")
    # Measured and opened in one evaluation: the dashboard redraws its cards whenever the cloud changes.
    seen = page.get_by_label("Dashboard cards").evaluate(
        "(grid, role) => { const card = grid.querySelector('[aria-labelledby=dash-alerts]'); "
        "const li = [...card.querySelectorAll('li')].find((x) => x.textContent.includes(role)); "
        "const width = card.getBoundingClientRect().width; const fits = li.scrollWidth <= li.clientWidth; "
        "li.querySelector('summary').click(); "
        "return { width, fits, opened: li.querySelector('details').open }; }", role)
    assert seen["fits"], "the alert runs out of its card"
    assert seen["width"] >= 360, f"the alerts card is {seen['width']}px wide"
    assert seen["opened"], "the alert does not open in full"

    # Its owner, who cannot read the failover cluster, is told the same from the instance's own events.
    owner = Console(console.context.browser, demo)  # a browser of its own: the session lives in localStorage
    try:
        owner_page = owner.login("thresh", "Secret-42")
        owner_page.goto(f"/client/instances/{vm['id']}")
        expect(owner_page.get_by_role("note", name="Why it is down")).to_contain_text("Failover threshold exceeded",
                                                                                      timeout=LIVE)
    finally:
        owner.close()
    assert owner.errors == [], f"JavaScript errors in the owner's console: {owner.errors}"
    demo.sim("node-up", second)
