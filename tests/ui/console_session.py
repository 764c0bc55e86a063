"""A browser context on the demo's console that fails the test on any JavaScript error."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .demo_process import DemoProcess

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = ["--no-sandbox", "--disable-background-networking"]
# A failed API call (an expected 4xx from the server) is logged by Chromium as a failed resource load:
# that is the network, not the console's JavaScript.
NETWORK_NOISE = re.compile(r"^Failed to load resource: the server responded with a status of [45]\d\d")



class Console:
    """A browser context on the demo's console that records every JavaScript error it sees."""

    def __init__(self, browser: Any, demo: DemoProcess) -> None:
        self.demo = demo
        self.context = browser.new_context(base_url=demo.base_url, viewport={"width": 1280, "height": 800})
        self.context.set_default_timeout(20_000)
        self.errors: list[str] = []
        self.expected_api_errors = False
        self.errors_allowed: re.Pattern[str] | None = None
        self.page = self.new_page()

    def new_page(self) -> Any:
        page = self.context.new_page()
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        return page

    def _on_console(self, message: Any) -> None:
        if message.type != "error":
            return
        if self.expected_api_errors and NETWORK_NOISE.match(message.text):
            return
        if self.errors_allowed is not None and self.errors_allowed.search(message.text):
            return
        self.errors.append(message.text)

    def login(self, username: str = "admin", password: str = "password", page: Any = None) -> Any:
        page = page or self.page
        page.goto("/client/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("heading", name="Dashboard").wait_for()
        return page

    def close(self) -> None:
        self.context.close()
