"""The Hosts page in Chromium: live state, adding a host, draining it, at desktop and phone width."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.fleet import FakeFleet, FakeHostSpec
from tests.support.gateway import GatewayServer

from .conftest import PASSWORD, PHONE, Problems, log_in, screenshot

pytestmark = pytest.mark.browser


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def test_hosts_page_adds_and_drains_a_host(
    start_gateway: Callable[..., GatewayServer],
    fake_fleet: Callable[..., FakeFleet],
    page_factory: Callable[..., tuple[Any, Problems]],
) -> None:
    fleet = fake_fleet(
        FakeHostSpec(name="gpu1", models=["qwen3:8b", "llama3.2:latest"], loaded=["qwen3:8b"]),
        FakeHostSpec(name="gpu2", models=["llama3.2:latest"]),
    )
    server = start_gateway(admin_password=PASSWORD, ollama_url=fleet.url(0), host_probe_seconds=0.2)
    page, problems = page_factory()
    log_in(page, server)
    page.goto(f"{server.url}/admin/hosts")
    row = page.locator("table.hosts tbody tr").first
    expect(row).to_contain_text("healthy")
    expect(row).to_contain_text("qwen3:8b")
    expect(row.locator(".badge", has_text="loaded")).to_have_count(1)

    page.get_by_label("URL").fill(fleet.url(1))
    page.get_by_label("Name").fill("gpu2")
    page.get_by_label("Max concurrent").fill("2")
    page.get_by_role("button", name="Add host").click()
    second = page.locator("table.hosts tbody tr", has_text="gpu2")
    expect(second).to_contain_text("0 / 2")
    expect(second).to_contain_text("healthy")

    second.get_by_role("button", name="Drain").click()  # the confirm dialog is accepted by the page factory
    expect(page.locator("table.hosts tbody tr", has_text="gpu2")).to_contain_text("draining")
    screenshot(page, "hosts")

    phone, _ = page_factory(viewport=PHONE)
    log_in(phone, server)
    phone.goto(f"{server.url}/admin/hosts")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Ollama hosts")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(phone, "phone-hosts")
    assert problems == []
