"""Browser tests of the console: Debian's chromium driven by Playwright against a real `clusterstack demo`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from .console_session import BROWSER_ARGS, CHROMIUM, Console
from .demo_process import DemoProcess

# A page's assertions wait as long as its actions do (console_session's 20 s default): Playwright's 5 s for an
# `expect` was too short on a shared 2-core machine running the rest of the suite beside the browser
expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    process = DemoProcess(tmp_path_factory.mktemp("demo"))
    try:
        yield process.start()
    finally:
        process.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed (/usr/bin/chromium): scripts/test installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def console(browser: Any, demo: DemoProcess) -> Iterator[Console]:
    session = Console(browser, demo)
    yield session
    session.close()
    assert session.errors == [], f"JavaScript errors in the console: {session.errors}"
