"""The admin UI's second round in Chromium: key edit/rotate/delete, budgets, charts, settings, phone width,
drill-down pages, the overrides document and the audit log."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from ollama_gateway.service.runtime import Gateway
from ollama_gateway.storage import UsageRecord
from tests.support.gateway import GatewayServer

from .conftest import PHONE, Problems, log_in, screenshot

pytestmark = pytest.mark.browser

PageFactory = Callable[..., tuple[Any, Problems]]

PAGES = [
    ("/admin/", "Overview"),
    ("/admin/models", "Models"),
    ("/admin/hosts", "Ollama hosts"),
    ("/admin/keys", "API keys"),
    ("/admin/usage", "Usage"),
    ("/admin/tasks", "Tasks"),
    ("/admin/audit", "Audit log"),
    ("/admin/settings", "Settings"),
    ("/admin/account", "Account"),
]


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def chat(server: GatewayServer, secret: str, model: str = "llama3.2") -> None:
    client = openai.OpenAI(api_key=secret, base_url=f"{server.url}/v1", max_retries=0)
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hello"}])


def seed_slow_requests(server: GatewayServer, key_id: str | None) -> None:
    """Usage rows as slow requests would leave them (10 s latency, 2.5 s to the first token)."""
    now = datetime.now(UTC)
    records = [
        UsageRecord(
            created_at=now - timedelta(minutes=minutes),
            key_id=key_id,
            model_requested="llama3.2",
            model_upstream="llama3.2:latest",
            endpoint="/v1/chat/completions",
            status=200,
            prompt_tokens=12,
            completion_tokens=30,
            latency_ms=10_000 + minutes,
            ttft_ms=2_500,
            stream=True,
        )
        for minutes in (1, 5, 20)
    ]

    async def insert(gateway: Gateway) -> int:
        return await gateway.storage.usage.insert_many(records)

    server.call(insert)


def test_every_page_fits_a_phone(ui_server: GatewayServer, page_factory: PageFactory) -> None:
    secret = ui_server.create_key("phone key", rpm=10, token_budget=5000, budget_period="weekly")
    chat(ui_server, secret)
    ui_server.flush_usage()
    key_id = ui_server.call(lambda g: g.storage.keys.list())[0].id
    page, problems = page_factory(viewport=PHONE)
    log_in(page, ui_server)
    extra = [(f"/admin/usage/key/{key_id}", "Key: phone key"), ("/admin/usage/model/llama3.2:latest", "Model:")]
    for path, heading in PAGES + extra:
        page.goto(ui_server.url + path)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        page.wait_for_load_state("load")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways ({width} px)"
        header = page.locator("header.top").bounding_box()
        assert header is not None and header["height"] < 110, f"{path}: the header takes {header} px"
    page.goto(f"{ui_server.url}/admin/keys")
    label = page.evaluate(
        "getComputedStyle(document.querySelector('table.keys td[data-label=\"Limits\"]'), '::before').content"
    )
    assert label == '"Limits"'  # each card field keeps its column's name
    screenshot(page, "phone-keys")
    page.goto(f"{ui_server.url}/admin/usage")
    label = page.evaluate("getComputedStyle(document.querySelector('table.usage td'), '::before').content")
    assert label == '"Time (UTC)"'
    screenshot(page, "phone-usage")
    page.goto(f"{ui_server.url}/admin/tasks")
    expect(page.locator("#tasks-updated")).to_contain_text("Updated", timeout=10_000)
    label = page.evaluate("getComputedStyle(document.querySelector('#tasks-body td'), '::before').content")
    assert label == '"Task"'
    screenshot(page, "phone-tasks")
    assert problems == []


def test_edit_rotate_and_delete_a_key(ui_server: GatewayServer, page_factory: PageFactory) -> None:
    page, problems = page_factory()
    log_in(page, ui_server)
    page.goto(f"{ui_server.url}/admin/keys")
    page.get_by_label("Name", exact=True).first.fill("rotating key")
    page.get_by_label("Token budget").first.fill("100000")
    page.get_by_label("Budget resets").first.select_option("daily")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#secret-value")).to_have_text(re.compile(r"^sk-og-"))
    old = str(page.locator("#secret-value").text_content())
    page.get_by_role("button", name="Done").click()
    row = page.locator("tr", has_text="rotating key")
    expect(row).to_contain_text("budget 100,000 daily: 100,000 left")
    expect(row).to_contain_text("resets")

    page.locator("details.key-edit summary").click()
    edit = page.get_by_role("form", name="Edit key rotating key")
    edit.get_by_label("Requests / minute").fill("7")
    screenshot(page, "keys-edit")
    edit.get_by_role("button", name="Save").click()
    row = page.locator("tr", has_text="rotating key")
    expect(row).to_contain_text("rpm 7")

    chat(ui_server, old)
    ui_server.call(lambda g: g.last_used.flush())
    page.reload()
    last_used = page.locator("tr", has_text="rotating key").locator('td[data-label="Last used"]')
    expect(last_used).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"))

    page.locator("details.key-rotate summary").click()
    rotate = page.get_by_role("form", name="Rotate key rotating key")
    rotate.get_by_label("Old secret keeps working for").select_option("0")
    rotate.get_by_role("button", name="Rotate secret").click()
    secret = page.locator("#secret-value")
    expect(secret).to_have_text(re.compile(r"^sk-og-"))
    new = str(secret.text_content())
    assert new != old
    expect(rotate.locator(".form-status")).to_have_text("Secret rotated.")
    screenshot(page, "keys-rotated")
    with pytest.raises(openai.AuthenticationError):
        chat(ui_server, old)
    chat(ui_server, new)

    page.get_by_role("button", name="Done").click()
    page.locator("tr", has_text="rotating key").get_by_role("button", name="Delete").click()  # confirm accepted
    expect(page.locator("table.keys")).to_have_count(0)
    with pytest.raises(openai.AuthenticationError):
        chat(ui_server, new)
    page.goto(f"{ui_server.url}/admin/audit?action=key.")
    for action in ("key.create", "key.update", "key.rotate", "key.delete"):
        expect(page.locator("table.audit")).to_contain_text(action)
    screenshot(page, "audit")
    assert problems == []


def test_charts_show_long_labels_values_and_percentiles(ui_server: GatewayServer, page_factory: PageFactory) -> None:
    seed_slow_requests(ui_server, None)
    page, problems = page_factory()
    log_in(page, ui_server)
    page.goto(f"{ui_server.url}/admin/?range=1h")
    for series in ("latency", "latency_p95", "ttft_p95"):
        chart = page.locator(f'svg[data-series="{series}"]')
        expect(chart).to_be_visible()
        # Every axis label lies wholly inside the drawing (nothing clipped at the left edge).
        lefts = chart.evaluate("svg => Array.from(svg.querySelectorAll('text.axis')).map(t => t.getBBox().x)")
        assert min(lefts) >= 0, f"{series}: a label starts at {min(lefts)}"
    top_label = page.locator('svg[data-series="latency_p95"] text.axis').nth(2)
    expect(top_label).to_have_text("20,000 ms")
    hit = page.locator('svg[data-series="latency_p95"] rect.hit').last
    hit.focus()  # keyboard focus shows the value in words
    readout = page.locator("figure", has=page.locator('svg[data-series="latency_p95"]')).locator(".chart-readout")
    expect(readout).to_contain_text(re.compile(r"p95 latency, .* UTC: \d"))
    page.locator('svg[data-series="ttft_p95"] rect.hit').nth(-2).hover()
    expect(
        page.locator("figure", has=page.locator('svg[data-series="ttft_p95"]')).locator(".chart-readout")
    ).to_contain_text("ms")
    screenshot(page, "overview-latency")
    assert problems == []


def test_top_models_and_drill_down_pages(ui_server: GatewayServer, page_factory: PageFactory) -> None:
    secret = ui_server.create_key("drill key")
    page, problems = page_factory()
    log_in(page, ui_server)
    ui_server.call(lambda g: g.storage.models.set("llama3.2:latest", display_name="house-model"))
    ui_server.call(lambda g: g.catalog.reload())
    chat(ui_server, secret, model="house-model")
    chat(ui_server, secret, model="llama3.2")
    ui_server.flush_usage()
    page.goto(f"{ui_server.url}/admin/?range=1h")
    top_models = page.locator(".card", has=page.get_by_role("heading", name="Top models"))
    expect(top_models.locator("tbody tr")).to_have_count(1)  # one model, whichever name it was asked by
    expect(top_models.locator("tbody tr")).to_contain_text("house-model")
    top_models.get_by_role("link", name="house-model").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Model: house-model")
    expect(page.locator('svg[data-series="requests"]')).to_have_attribute("data-total", "2")
    screenshot(page, "usage-model")
    page.get_by_role("link", name="drill key").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Key: drill key")
    expect(page.locator('svg[data-series="requests"]')).to_have_attribute("data-total", "2")
    screenshot(page, "usage-key")
    page.get_by_role("link", name="All of them in the usage log").click()
    expect(page.locator("table.usage tbody tr")).to_have_count(2)
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert "drill key" in Path(download.value.path()).read_text(encoding="utf-8")
    assert problems == []


def test_settings_say_saved_by_the_button_and_when_they_apply(
    ui_server: GatewayServer, page_factory: PageFactory
) -> None:
    page, problems = page_factory()
    log_in(page, ui_server)
    page.goto(f"{ui_server.url}/admin/settings")
    expect(page.locator("#ollama_url-effect")).to_contain_text("applies now")
    expect(page.locator("table.env")).to_contain_text("USAGE_RETENTION_DAYS")
    expect(page.get_by_text("after a restart")).to_be_visible()
    page.get_by_label("Request timeout (milliseconds)").fill("120000")
    button = page.get_by_role("button", name="Save settings")
    button.click()
    status = page.locator(".inline-status .form-status")
    expect(status).to_contain_text("Saved.")
    expect(page.locator("#test-status")).to_have_text("")
    near, saved = button.bounding_box(), status.bounding_box()
    assert near is not None and saved is not None
    assert abs(saved["y"] - near["y"]) < 40  # beside the button, not under the URL field
    screenshot(page, "settings-saved")
    assert problems == []


def test_overrides_document_import_in_the_ui(ui_server: GatewayServer, page_factory: PageFactory) -> None:
    page, problems = page_factory()
    log_in(page, ui_server)
    page.goto(f"{ui_server.url}/admin/models")
    field = page.get_by_label("Overrides document")
    field.fill(json.dumps({"llama3.2": {"num_ctx": "big"}}))
    page.get_by_role("button", name="Import").click()
    section = page.locator("#overrides-document")
    expect(section.locator(".form-status")).to_contain_text("llama3.2")
    expect(field).to_have_attribute("aria-invalid", "true")
    field.fill(json.dumps({"llama3.2": {"think": "high", "num_ctx": 32768}}))
    page.get_by_role("button", name="Import").click()
    # A saved import reloads the page; the reloaded document names the model by its canonical tag, which the
    # typed text does not, so this waits for the reload instead of matching the field as typed (a screenshot
    # taken mid-navigation can hang Chromium).
    reloaded = page.get_by_label("Overrides document")
    expect(reloaded).to_have_value(re.compile(r'"llama3\.2:latest"[\s\S]*"num_ctx": 32768'))
    page.wait_for_load_state("load")
    screenshot(page, "models-overrides-document")
    exported = httpx.get(f"{ui_server.url}/admin/api/models/overrides", cookies=_cookies(page), timeout=10).json()
    assert exported == {"llama3.2:latest": {"think": "high", "num_ctx": 32768}}
    assert problems == []


def _cookies(page: Any) -> dict[str, str]:
    return {c["name"]: c["value"] for c in page.context.cookies()}
