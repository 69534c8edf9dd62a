"""Browser fixtures: Debian's Chromium driven by Playwright (sync API); a missing browser fails in CI."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.gateway import GatewayServer

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "browser-test-password"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(reason)


# Module scope, not session: Playwright's sync API keeps an event loop running in the main thread while it
# is open, which would break every asyncio test collected after the browser tests.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (skipped on a contributor machine without it, failed in CI)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install playwright)")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def ui_server(start_gateway: Callable[..., GatewayServer]) -> GatewayServer:
    """A gateway whose admin password is known."""
    return start_gateway(admin_password=PASSWORD)


class Problems(list[str]):
    """Console errors and CSP violations the page reported."""


@pytest.fixture
def page_factory(browser: Any) -> Iterator[Callable[..., tuple[Any, Problems]]]:
    """Make a fresh context and page (desktop size unless told); fails the test on CSP violations or alerts."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] | None = None, origin: str | None = None) -> tuple[Any, Problems]:
        context = browser.new_context(viewport=viewport or DESKTOP)
        if origin:
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        problems = Problems()
        page.on("console", lambda message: _console(message, problems))
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("dialog", lambda dialog: _answer(dialog, problems))
        return page, problems

    yield make
    for context in contexts:
        context.close()


def _console(message: Any, problems: Problems) -> None:
    # An API answering 4xx is expected in some tests; anything else logged as an error (a CSP violation,
    # a script error) is a problem.
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        problems.append(message.text)


def _answer(dialog: Any, problems: Problems) -> None:
    # confirm() guards deletions and is accepted; an alert() would mean injected script ran.
    if dialog.type != "confirm":
        problems.append(f"unexpected {dialog.type}: {dialog.message}")
    dialog.accept()


def log_in(page: Any, server: GatewayServer, password: str = PASSWORD) -> None:
    """Log in through the form."""
    page.goto(f"{server.url}/admin/login")
    page.get_by_label("Admin password").fill(password)
    page.get_by_role("button", name="Log in").click()


def screenshot(page: Any, name: str) -> None:
    """Save a full-page screenshot to test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # A full-page capture of a long page can take Chromium well over the default 15 s on a loaded 2-core
    # machine; it is a documentation artifact, so it gets its own, longer limit.
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, animations="disabled", timeout=60_000)
