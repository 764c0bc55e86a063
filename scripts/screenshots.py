"""Captures the console's main screens from a real `clusterstack demo` into docs/screenshots/."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from ui.console_session import BROWSER_ARGS, CHROMIUM  # noqa: E402
from ui.demo_process import DemoProcess  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def shot(page: Page, name: str) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=OUT / f"{name}.png")
    print(f"docs/screenshots/{name}.png")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        # Speed 1 (the demo's default): the cluster's event times are wall-clock times, as a real cluster's are.
        demo = DemoProcess(Path(tmp) / "demo", speed=1.0).start()
        try:
            api = demo.admin()
            ids = demo.seed_ids(api)
            vms = {}
            for name, offering, host in (("sowmyavm1", "small", "HYPERVCLLOUD13"), ("HAVM1", "ha", "HYPERVCLLOUD17"),
                                         ("HAVM2", "ha", "HYPERVCLLOUD17")):
                vms[name] = api("deployVirtualMachine", zoneid=ids["zone"], templateid=ids["template"],
                                serviceofferingid=ids[offering], hostid=demo.host_id(api, host), name=name,
                                displayname=name)["virtualmachine"]
            cluster = api.items("listClusters", "cluster")[0]["id"]
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
                page = browser.new_page(base_url=demo.base_url, viewport={"width": 1280, "height": 800})
                page.goto("/client/")
                shot(page, "login")
                page.get_by_label("Username").fill("admin")
                page.get_by_label("Password").fill("password")
                page.get_by_role("button", name="Log in").click()
                expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
                expect(page.get_by_text("Capacity")).to_be_visible()
                shot(page, "dashboard")
                fcm = f"/client/clusters/{cluster}"
                screens = (("/client/instances", "instances"), (f"{fcm}/roles", "roles"), (f"{fcm}/nodes", "nodes"),
                           (f"{fcm}/disks", "disks"), ("/client/storage/add", "add-primary-storage"),
                           (f"{fcm}/whatif?nodes=HYPERVCLLOUD17", "what-if-node-fails"),
                           ("/client/offerings", "service-offerings"))
                for path, name in screens:
                    page.goto(path)
                    page.locator("h1").wait_for()
                    time.sleep(0.5)
                    shot(page, name)
                # The seed's failover: HYPERVCLLOUD17 crashes, the cluster restarts its HA roles on HYPERVCLLOUD13.
                page.goto("/client/hosts")
                demo.sim("node-down", "HYPERVCLLOUD17")
                row = page.get_by_role("table", name="Hosts").locator("tbody tr", has_text="HYPERVCLLOUD17")
                expect(row.locator("td").nth(1)).to_have_text("Down", timeout=60_000)
                shot(page, "hosts-node-down")
                page.goto(f"/client/instances/{vms['HAVM1']['id']}")
                host = page.locator("dl.details dt:text-is('Host') + dd")
                expect(host).to_have_text("HYPERVCLLOUD13", timeout=60_000)
                time.sleep(1)
                page.goto(f"/client/instances/{vms['HAVM1']['id']}")
                page.get_by_role("list", name="Timeline").wait_for()
                shot(page, "instance-timeline")
                page.goto(f"/client/clusters/{cluster}/events")
                page.get_by_role("table", name="Cluster Events").locator("tbody tr").first.wait_for()
                shot(page, "cluster-events")
                page.set_viewport_size({"width": 390, "height": 844})
                page.goto("/client/instances")
                page.get_by_role("table", name="Instances").locator("tbody tr").first.wait_for()
                shot(page, "instances-narrow")
                browser.close()
            demo.sim("node-up", "HYPERVCLLOUD17")
        finally:
            demo.stop()


if __name__ == "__main__":
    main()
