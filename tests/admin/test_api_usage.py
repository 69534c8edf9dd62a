"""Admin API for usage, tasks, overview, settings and status."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import openai

from ollama_gateway.storage.usage import UsageRecord
from tests.fake_ollama import FakeOllama

from .conftest import Admin


def make_traffic(admin: Admin, count: int = 2) -> str:
    data = admin.send("POST", "/admin/api/keys", {"name": "traffic"}).json()
    client = openai.OpenAI(api_key=data["secret"], base_url=f"{admin.origin}/v1", max_retries=0)
    for _ in range(count):
        client.chat.completions.create(model="llama3.2", messages=[{"role": "user", "content": "hi"}])
    admin.server.flush_usage()
    return str(data["key"]["id"])


def test_usage_log_filters_and_pages(admin: Admin) -> None:
    key_id = make_traffic(admin, 3)
    everything = admin.get("/admin/api/usage").json()
    assert everything["total"] == 3 and len(everything["records"]) == 3
    assert everything["records"][0]["endpoint"] == "/v1/chat/completions"
    paged = admin.get("/admin/api/usage", params={"limit": 2, "page": 2}).json()
    assert paged["total"] == 3 and len(paged["records"]) == 1
    assert admin.get("/admin/api/usage", params={"key_id": key_id}).json()["total"] == 3
    assert admin.get("/admin/api/usage", params={"key_id": "key_other"}).json()["total"] == 0
    assert admin.get("/admin/api/usage", params={"status": 500}).json()["total"] == 0
    assert admin.get("/admin/api/usage", params={"model": "llama3.2"}).json()["total"] == 3
    today = datetime.now(UTC).date()
    assert admin.get("/admin/api/usage", params={"from": str(today), "to": str(today)}).json()["total"] == 3
    old = str(today - timedelta(days=3))
    assert admin.get("/admin/api/usage", params={"to": old}).json()["total"] == 0
    assert admin.get("/admin/api/usage", params={"from": "yesterday"}).status_code == 400
    page = admin.get("/admin/usage", params={"key_id": key_id})
    assert page.status_code == 200 and "3 requests" in page.text


def test_csv_export_and_formula_neutralising(admin: Admin) -> None:
    make_traffic(admin, 1)
    hostile = UsageRecord(
        created_at=datetime.now(UTC), key_id=None, model_requested="=HYPERLINK(1)", model_upstream="x",
        endpoint="/v1/chat/completions", status=400, error="@bad",
    )  # fmt: skip
    admin.server.call(lambda g: g.storage.usage.insert_many([hostile]))
    response = admin.get("/admin/api/usage.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 2
    assert rows[0]["model_requested"] == "'=HYPERLINK(1)" and rows[0]["error"] == "'@bad"
    assert rows[1]["model_requested"] == "llama3.2"
    only_errors = list(csv.DictReader(io.StringIO(admin.get("/admin/api/usage.csv?status=400").text)))
    assert len(only_errors) == 1


def test_overview_series_and_top_lists(admin: Admin) -> None:
    make_traffic(admin, 2)
    data = admin.get("/admin/api/overview", params={"range": "1h"}).json()
    assert sum(v for _, v in data["series"]["requests"]) == 2
    assert sum(v for _, v in data["series"]["tokens"]) > 0
    assert data["top_keys"][0]["name"] == "traffic" and data["top_keys"][0]["requests"] == 2
    # Requested as "llama3.2": one row under the name clients see, linked by its Ollama name.
    assert data["top_models"][0]["name"] == "llama3.2:latest" and data["top_models"][0]["model"] == "llama3.2:latest"
    assert data["ollama"]["ok"] is True
    page = admin.get("/admin/?range=1h").text
    assert 'data-series="requests" data-total="2"' in page


def test_tasks_list(admin: Admin) -> None:
    make_traffic(admin, 1)
    tasks = admin.get("/admin/api/tasks").json()["tasks"]
    assert tasks and tasks[0]["state"] == "SUCCESS"
    assert admin.get("/admin/api/tasks?limit=x").status_code == 400


def test_settings_apply_at_once(admin: Admin, fake_ollama: FakeOllama) -> None:
    current = admin.get("/admin/api/settings").json()["settings"]
    assert current["ollama_url"] == fake_ollama.url
    changed = admin.send(
        "PUT",
        "/admin/api/settings",
        {"request_timeout_ms": 5000, "image_fetch_enabled": False, "image_fetch_allow_private": True},
    )
    assert changed.status_code == 200, changed.text
    gateway = admin.server.gateway
    assert gateway.settings.request_timeout_ms == 5000
    assert gateway.images.enabled is False and gateway.images.allow_private is True
    moved = admin.send("PUT", "/admin/api/settings", {"ollama_url": "http://127.0.0.1:9/"})
    assert moved.json()["settings"]["ollama_url"] == "http://127.0.0.1:9"
    assert [c.url for c in gateway.upstream.configs] == ["http://127.0.0.1:9"]
    status = admin.get("/admin/api/status").json()
    assert status["ollama"]["ok"] is False
    assert admin.send("PUT", "/admin/api/settings", {"ollama_url": fake_ollama.url}).status_code == 200
    assert admin.get("/admin/api/status").json()["ollama"]["ok"] is True


def test_invalid_settings(admin: Admin) -> None:
    for body, param in (
        ({"ollama_url": "ftp://x"}, "ollama_url"),
        ({"request_timeout_ms": 5}, "request_timeout_ms"),
        ({"image_fetch_enabled": "yes"}, "image_fetch_enabled"),
    ):
        response = admin.send("PUT", "/admin/api/settings", body)
        assert response.status_code == 400 and response.json()["error"]["param"] == param


def test_connection_test(admin: Admin, fake_ollama: FakeOllama) -> None:
    ok = admin.send("POST", "/admin/api/settings/test", {"ollama_url": fake_ollama.url}).json()
    assert ok["ok"] is True and ok["version"] == fake_ollama.version
    down = admin.send("POST", "/admin/api/settings/test", {"ollama_url": "http://127.0.0.1:9"}).json()
    assert down["ok"] is False and down["error"]
