"""The admin UI in a real browser: login, keys, overrides, pull progress, usage, tasks, throttling, CSRF, escaping."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import openai
import pytest

from tests.fake_ollama import FakeOllama
from tests.support.gateway import GatewayServer

from .conftest import PHONE, Problems, log_in, screenshot

pytestmark = pytest.mark.browser

PageFactory = Callable[..., tuple[Any, Problems]]


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def chat(server: GatewayServer, secret: str, model: str = "llama3.2") -> None:
    client = openai.OpenAI(api_key=secret, base_url=f"{server.url}/v1", max_retries=0)
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hello from the browser test"}])


def create_key_in_ui(page: Any, server: GatewayServer, name: str) -> str:
    page.goto(f"{server.url}/admin/keys")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("llama3.2:latest", exact=True).check()
    page.get_by_label("Requests / minute").fill("60")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#secret-value")
    expect(secret).to_have_text(re.compile(r"^sk-og-"))
    return str(secret.text_content())


def test_login_then_every_page(ui_server: GatewayServer, page_factory: PageFactory) -> None:
    page, problems = page_factory()
    page.goto(f"{ui_server.url}/admin/keys")
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    screenshot(page, "login")
    page.get_by_label("Admin password").fill("browser-test-password")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{ui_server.url}/admin/keys")
    for path, heading in [
        ("/admin/", "Overview"),
        ("/admin/models", "Models"),
        ("/admin/settings", "Settings"),
        ("/admin/account", "Account"),
    ]:
        page.goto(ui_server.url + path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    page.goto(f"{ui_server.url}/admin/settings")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#test-status")).to_contain_text("Connected: Ollama")
    screenshot(page, "settings")
    assert problems == []


def test_key_created_in_the_ui_works_and_its_request_shows_up(
    ui_server: GatewayServer, page_factory: PageFactory
) -> None:
    page, problems = page_factory(origin=ui_server.url)
    log_in(page, ui_server)
    secret = create_key_in_ui(page, ui_server, "browser key")
    page.get_by_role("button", name="Copy").click()
    expect(page.locator(".copy-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    screenshot(page, "keys-secret-once")
    chat(ui_server, secret)
    ui_server.flush_usage()
    page.get_by_role("button", name="Done").click()
    expect(page.locator("tr", has_text="browser key").locator("td").nth(4)).to_contain_text("1 req")
    assert secret not in page.content()
    screenshot(page, "keys")

    page.goto(f"{ui_server.url}/admin/usage")
    row = page.locator("table.usage tbody tr").first
    expect(row).to_contain_text("browser key")
    expect(row).to_contain_text("/v1/chat/completions")
    expect(row).to_contain_text("200")
    screenshot(page, "usage")
    page.get_by_label("Status").fill("500")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.usage")).to_contain_text("No matching requests.")

    page.goto(f"{ui_server.url}/admin/?range=1h")
    expect(page.locator('svg[data-series="requests"]')).to_have_attribute("data-total", "1")
    expect(page.locator('[data-stat="requests"]')).to_have_text("1")
    expect(page.locator("section.two-col")).to_contain_text("browser key")
    screenshot(page, "overview")
    assert problems == []


def test_revoke_in_the_ui(ui_server: GatewayServer, page_factory: PageFactory) -> None:
    page, problems = page_factory()
    log_in(page, ui_server)
    secret = create_key_in_ui(page, ui_server, "doomed")
    chat(ui_server, secret)
    page.get_by_role("button", name="Done").click()
    page.locator("tr", has_text="doomed").get_by_role("button", name="Revoke").click()
    expect(page.locator("tr", has_text="doomed")).to_contain_text("revoked")
    with pytest.raises(openai.AuthenticationError):
        chat(ui_server, secret)
    assert problems == []


def test_overrides_edited_in_the_ui_reach_ollama(
    ui_server: GatewayServer, page_factory: PageFactory, fake_ollama: FakeOllama
) -> None:
    page, problems = page_factory()
    log_in(page, ui_server)
    page.goto(f"{ui_server.url}/admin/models")
    page.get_by_text("Edit llama3.2:latest").click()
    form = page.locator('form[data-api="/admin/api/models/llama3.2%3Alatest"]')
    form.get_by_label(re.compile("^Overrides")).fill('{"num_ctx": 8192, "temperature": 0.3}')
    form.get_by_role("button", name="Save").click()
    expect(page.locator('tr[data-model="llama3.2:latest"]')).to_contain_text('"num_ctx": 8192')
    secret = create_key_in_ui(page, ui_server, "overrides")
    chat(ui_server, secret)
    options = fake_ollama.last("/api/chat").body["options"]
    assert options["num_ctx"] == 8192 and options["temperature"] == 0.3
    assert problems == []


def test_invalid_overrides_show_the_error_in_place(ui_server: GatewayServer, page_factory: PageFactory) -> None:
    page, problems = page_factory()
    log_in(page, ui_server)
    page.goto(f"{ui_server.url}/admin/models")
    page.get_by_text("Edit qwen3:latest").click()
    form = page.locator('form[data-api="/admin/api/models/qwen3%3Alatest"]')
    textarea = form.get_by_label(re.compile("^Overrides"))
    textarea.fill('{"num_ctx": "lots"}')
    form.get_by_role("button", name="Save").click()
    expect(form.locator(".form-status")).to_contain_text("num_ctx")
    expect(form.locator(".form-status")).to_have_class(re.compile("error"))
    expect(textarea).to_have_attribute("aria-invalid", "true")
    textarea.fill("{not json")
    form.get_by_role("button", name="Save").click()
    expect(form.locator(".form-status")).to_contain_text("not valid JSON")
    screenshot(page, "models-invalid-overrides")
    assert problems == []


def test_pull_shows_live_progress_to_100(
    ui_server: GatewayServer, page_factory: PageFactory, fake_ollama: FakeOllama
) -> None:
    fake_ollama.pull_step_delay = 0.15
    page, problems = page_factory()
    log_in(page, ui_server)
    page.goto(f"{ui_server.url}/admin/models")
    page.get_by_label("Model name").fill("tinyllama")
    page.get_by_role("button", name="Pull", exact=True).click()
    page.wait_for_function("() => { const v = document.getElementById('pull-bar').value; return v > 0 && v < 100; }")
    screenshot(page, "models-pull-progress")
    expect(page.locator("#pull-percent")).to_have_text("100%", timeout=30_000)
    expect(page.locator("#pull-status")).to_contain_text("Pulled tinyllama.")
    assert page.locator("#pull-bar").evaluate("bar => bar.value") == 100
    page.get_by_role("button", name="Show it in the catalog").click()
    expect(page.locator('tr[data-model="tinyllama:latest"]')).to_be_visible()
    screenshot(page, "models")
    page.get_by_label("Model name").fill("no-such-model")
    page.get_by_role("button", name="Pull", exact=True).click()
    expect(page.locator("#pull-status")).to_contain_text("Pull failed")
    assert problems == []


def test_delete_model_in_the_ui(ui_server: GatewayServer, page_factory: PageFactory, fake_ollama: FakeOllama) -> None:
    page, problems = page_factory()
    log_in(page, ui_server)
    page.goto(f"{ui_server.url}/admin/models")
    page.locator('tr[data-model="llava:latest"]').get_by_role("button", name="Delete").click()
    expect(page.locator('tr[data-model="llava:latest"]')).to_contain_text("not in Ollama")
    assert fake_ollama.last("/api/delete").body == {"model": "llava:latest"}
    assert problems == []


def test_tasks_refresh_live(ui_server: GatewayServer, page_factory: PageFactory) -> None:
    page, problems = page_factory()
    log_in(page, ui_server)
    page.goto(f"{ui_server.url}/admin/tasks")
    expect(page.locator("#tasks-body")).to_contain_text("No recent tasks.")
    chat(ui_server, ui_server.create_key("tasks"))
    expect(page.locator("#tasks-body")).to_contain_text("SUCCESS", timeout=15_000)
    expect(page.locator("#tasks-updated")).to_contain_text("Updated")
    screenshot(page, "tasks")
    assert problems == []


def test_bad_logins_are_throttled(ui_server: GatewayServer, page_factory: PageFactory) -> None:
    page, _ = page_factory()
    for attempt in range(5):
        log_in(page, ui_server, f"wrong-{attempt}")
        expect(page.get_by_role("alert")).to_have_text("Wrong password.")
    log_in(page, ui_server)  # the right password, but inside the backoff window
    expect(page.get_by_role("alert")).to_contain_text("Too many failed attempts")
    screenshot(page, "login-throttled")


def test_forged_cross_site_posts_are_refused(ui_server: GatewayServer, page_factory: PageFactory) -> None:
    page, _ = page_factory()
    log_in(page, ui_server)
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    # With the session cookie but from a foreign origin, without and with a wrong CSRF token.
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "https://evil.example", "X-CSRF-Token": "x"}):
        response = page.request.post(f"{ui_server.url}/admin/api/keys", data={"name": "forged"}, headers=headers)
        assert response.status == 403
    # A real cross-site page that auto-submits a JSON-ish form to the gateway.
    target = f"{ui_server.url}/admin/api/keys"
    hostile = (
        f'<form id="f" method="post" enctype="text/plain" action="{target}">'
        '<input name=\'{"name":"evil","x":"\' value=\'"}\'></form>'
        '<script>document.getElementById("f").submit()</script>'
    )
    page.context.route("http://evil.example/**", lambda route: route.fulfill(body=hostile, content_type="text/html"))
    with page.expect_navigation(url=target):
        page.goto("http://evil.example/attack")
    assert page.evaluate("document.body.innerText").count("error") >= 1
    page.goto(f"{ui_server.url}/admin/keys")
    expect(page.get_by_role("heading", level=1)).to_have_text("API keys")
    assert "evil" not in page.locator("main").inner_text()
    assert "forged" not in page.locator("main").inner_text()


def test_hostile_display_name_is_shown_as_text(ui_server: GatewayServer, page_factory: PageFactory) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    page, problems = page_factory()
    log_in(page, ui_server)
    page.goto(f"{ui_server.url}/admin/models")
    page.get_by_text("Edit gpt-oss:20b").click()
    form = page.locator('form[data-api="/admin/api/models/gpt-oss%3A20b"]')
    form.get_by_label(re.compile("^Display name")).fill(hostile)
    form.get_by_role("button", name="Save").click()
    name = page.locator('tr[data-model="gpt-oss:20b"] .model-name')
    expect(name).to_have_text(hostile)
    assert page.locator("img[src='x']").count() == 0
    page.goto(f"{ui_server.url}/admin/keys")
    expect(page.get_by_label(hostile, exact=True)).to_be_visible()
    assert page.locator("img[src='x']").count() == 0
    assert problems == []


def test_phone_width(ui_server: GatewayServer, page_factory: PageFactory) -> None:
    page, problems = page_factory(viewport=PHONE)
    log_in(page, ui_server)
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]  # nothing forces sideways scrolling of the page itself
    screenshot(page, "phone-overview")
    page.goto(f"{ui_server.url}/admin/models")
    screenshot(page, "phone-models")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert "Skip to content" in focused
    assert problems == []
