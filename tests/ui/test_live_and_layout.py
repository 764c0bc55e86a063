"""The live channel's state is shown and comes back after a restart; the console on a narrow screen and by keyboard."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .console_session import Console
from .demo_process import DemoProcess


def test_a_lost_live_connection_is_shown_and_reestablished(console: Console, demo: DemoProcess) -> None:
    console.expected_api_errors = True
    page = console.login()
    page.goto("/client/hosts")
    status = page.locator("#live-status")
    expect(status).to_have_text("Live")
    page.evaluate("window.__noReload = true")
    # The EventSource's failed reconnects while the server is down are network errors, not the console's.
    console.errors_allowed = re.compile(r"net::ERR_CONNECTION_REFUSED|ERR_INCOMPLETE_CHUNKED_ENCODING")
    demo.stop()
    expect(status).to_have_text("Reconnecting…")
    expect(status).to_have_attribute("data-state", "reconnecting")
    demo.start()
    expect(status).to_have_text("Live", timeout=30_000)
    # Still the same page and session: live changes flow again.
    demo.sim("node-down", "HYPERVCLLOUD13")
    row = page.get_by_role("table", name="Hosts").locator("tbody tr", has_text="HYPERVCLLOUD13")
    expect(row.locator("td").nth(1)).to_have_text(re.compile("Alert|Down"), timeout=60_000)
    assert page.evaluate("window.__noReload") is True
    demo.sim("node-up", "HYPERVCLLOUD13")


def test_narrow_screen_menu_and_keyboard_use(console: Console) -> None:
    page = console.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/client/")
    # Keyboard only: tab into the form, type, press Enter.
    page.get_by_label("Username").focus()
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    page.keyboard.type("password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Instances")).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    nav.get_by_role("link", name="Instances").click()
    expect(page.get_by_role("heading", name="Instances")).to_be_visible()
    expect(nav.get_by_role("link", name="Instances")).to_be_hidden()
    # Nothing wider than the screen but the table, which scrolls in its own box.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen"
    # Forms submit with Enter like any form.
    page.goto("/client/offerings/add")
    page.get_by_label("Name", exact=True).fill("Keyboard Offering")
    page.get_by_label("Description").fill("Made by keyboard")
    page.get_by_label("Offer HA").check()
    page.get_by_label("Description").press("Enter")
    expect(page).to_have_url(re.compile(r"/client/offerings$"))
    row = page.get_by_role("table", name="Service Offerings").locator("tbody tr", has_text="Keyboard Offering")
    expect(row).to_contain_text("Yes")
