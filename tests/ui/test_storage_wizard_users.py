"""Adding the CSV as primary storage, deploying through the Add Instance wizard, and what a plain user sees."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .console_session import Console
from .demo_process import ApiSession, DemoProcess

CSV = "C:\\ClusterStorage\\Volume1"


def test_add_primary_storage_form_adds_the_csv(console: Console, demo: DemoProcess) -> None:
    console.expected_api_errors = True
    api = demo.admin()
    # The demo comes with PS1 on the CSV; take it away (nothing is on it yet) to add it again from the form.
    pool = api.items("listStoragePools", "storagepool", name="PS1")[0]
    api("deleteStoragePool", id=pool["id"])
    page = console.login()
    page.goto("/client/storage")
    expect(page.get_by_role("table", name="Primary Storage").locator("tbody")).to_contain_text("Nothing to show")
    page.get_by_role("link", name="+ Add Primary Storage").click()
    expect(page).to_have_url(re.compile(r"/client/storage/add$"))
    for label in ("Scope", "Zone", "Pod", "Cluster", "Name", "Protocol", "Provider", "Path"):
        expect(page.get_by_label(label, exact=True)).to_be_visible()
    expect(page.get_by_label("Protocol", exact=True).locator("option")).to_have_text(["PreSetup", "SMB/CIFS"])
    expect(page.get_by_label("Zone", exact=True)).to_have_value(re.compile(".+"))
    expect(page.get_by_label("Cluster", exact=True).locator("option:checked")).to_have_text("CI1")

    # A path that is not a CSV of CI1 is refused in the form, and nothing is created.
    page.get_by_label("Name", exact=True).fill("PS1")
    page.get_by_label("Path", exact=True).fill("C:\\ClusterStorage\\Volume9")
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_role("alert")).to_contain_text("Volume9")
    assert api.items("listStoragePools", "storagepool") == []

    page.get_by_label("Path", exact=True).fill(CSV)
    page.get_by_role("button", name="OK").click()
    expect(page).to_have_url(re.compile(r"/client/storage$"))
    row = page.get_by_role("table", name="Primary Storage").locator("tbody tr", has_text="PS1")
    expect(row).to_contain_text("Up")
    expect(row).to_contain_text("CLUSTER")
    expect(row).to_contain_text("PreSetup")
    expect(row).to_contain_text(CSV)
    created = api.items("listStoragePools", "storagepool", name="PS1")[0]
    assert created["scope"] == "CLUSTER" and created["type"] == "PreSetup" and created["disksizetotal"] > 0


def test_the_wizard_deploys_an_instance_and_follows_the_job(console: Console, demo: DemoProcess) -> None:
    page = console.login()
    page.goto("/client/instances")
    page.get_by_role("link", name="+ Add Instance").click()
    expect(page).to_have_url(re.compile(r"/client/instances/add$"))
    wizard = page.get_by_role("form", name="Add Instance")
    expect(wizard.get_by_label("Zone", exact=True)).to_have_value(re.compile(".+"))
    wizard.get_by_role("button", name="Next").click()
    expect(wizard.get_by_label("Template")).to_be_visible()
    wizard.get_by_role("button", name="Next").click()
    offering = wizard.get_by_label("Compute offering")
    ha_offering = next(o for o in offering.locator("option").all_inner_texts() if o.startswith("HA Offering"))
    offering.select_option(label=ha_offering)
    wizard.get_by_role("button", name="Next").click()
    expect(wizard.get_by_label("Data disk")).to_be_visible()
    wizard.get_by_role("button", name="Next").click()
    wizard.get_by_label("Name", exact=True).fill("wizardvm")
    wizard.get_by_label("Display Name").fill("Wizard VM")
    wizard.get_by_role("button", name="Launch instance").click()
    deployment = page.get_by_role("region", name="Deployment")
    expect(deployment).to_contain_text("Running", timeout=60_000)
    expect(deployment).to_contain_text("wizardvm")
    deployment.get_by_role("link", name="Open wizardvm").click()
    expect(page.get_by_role("heading", name="wizardvm", exact=True)).to_be_visible()
    vm = demo.admin().items("listVirtualMachines", "virtualmachine", name="wizardvm")[0]
    assert vm["state"] == "Running" and vm["haenable"] is True and vm["displayname"] == "Wizard VM"


def test_a_plain_user_sees_only_its_own_instances(console: Console, demo: DemoProcess) -> None:
    console.expected_api_errors = True
    admin = demo.admin()
    ids = demo.seed_ids(admin)
    admin("deployVirtualMachine", zoneid=ids["zone"], templateid=ids["template"], serviceofferingid=ids["small"],
          name="adminonly")
    admin("createAccount", accounttype=0, username="sowmya", password="Secret-42", email="sowmya@example.org",
          firstname="Sowmya", lastname="User", account="sowmya")
    user = ApiSession(f"{demo.base_url}/client/api", "sowmya", "Secret-42")
    user("deployVirtualMachine", zoneid=ids["zone"], templateid=ids["template"], serviceofferingid=ids["ha"],
         name="sowmyavm1")

    page = console.login("sowmya", "Secret-42")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Instances")).to_be_visible()
    expect(nav.get_by_role("link", name="Infrastructure")).to_have_count(0)
    page.goto("/client/instances")
    table = page.get_by_role("table", name="Instances")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr")).to_contain_text("sowmyavm1")
    expect(table).not_to_contain_text("adminonly")
    # Admin-only actions are not offered to a user.
    expect(table.get_by_role("button", name="Migrate sowmyavm1")).to_have_count(0)
    page.goto("/client/hosts")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
