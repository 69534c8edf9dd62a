"""Admin API for models: overrides reach Ollama, validation errors name the field, pull streams progress, delete."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai

from tests.fake_ollama import FakeOllama

from .conftest import Admin


def chat(admin: Admin, model: str) -> None:
    secret = admin.send("POST", "/admin/api/keys", {"name": "chat"}).json()["secret"]
    client = openai.OpenAI(api_key=secret, base_url=f"{admin.origin}/v1", max_retries=0)
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])


def test_list_models_has_capabilities_and_size(admin: Admin) -> None:
    models = {m["name"]: m for m in admin.get("/admin/api/models").json()["models"]}
    assert "llama3.2:latest" in models
    assert "tools" in models["llama3.2:latest"]["capabilities"]
    assert models["llama3.2:latest"]["size"] > 0


def test_overrides_are_applied_upstream(admin: Admin, fake_ollama: FakeOllama) -> None:
    response = admin.send("PATCH", "/admin/api/models/llama3.2:latest", {"overrides": '{"num_ctx": 8192}'})
    assert response.status_code == 200, response.text
    assert response.json()["model"]["overrides"] == {"num_ctx": 8192}
    chat(admin, "llama3.2")
    assert fake_ollama.last("/api/chat").body["options"]["num_ctx"] == 8192


def test_invalid_overrides_name_the_field(admin: Admin) -> None:
    bad_json = admin.send("PATCH", "/admin/api/models/llama3.2:latest", {"overrides": "{num_ctx: 1"})
    assert bad_json.status_code == 400
    assert bad_json.json()["error"]["param"] == "overrides"
    bad_type = admin.send("PATCH", "/admin/api/models/llama3.2:latest", {"overrides": {"num_ctx": "big"}})
    assert bad_type.status_code == 400
    assert bad_type.json()["error"]["param"] == "overrides.num_ctx"
    unknown = admin.send("PATCH", "/admin/api/models/llama3.2:latest", {"overrides": {"bogus": 1}})
    assert "unknown override key" in unknown.json()["error"]["message"]


def test_display_name_and_disable(admin: Admin, fake_ollama: FakeOllama) -> None:
    assert admin.send("PATCH", "/admin/api/models/qwen3:latest", {"display_name": "thinker"}).status_code == 200
    chat(admin, "thinker")
    assert fake_ollama.last("/api/chat").body["model"] == "qwen3:latest"
    assert admin.send("PATCH", "/admin/api/models/qwen3:latest", {"enabled": False}).status_code == 200
    names = [m["public_name"] for m in admin.get("/admin/api/models").json()["models"] if m["enabled"]]
    assert "thinker" not in names


def test_unknown_model_is_404(admin: Admin) -> None:
    assert admin.send("PATCH", "/admin/api/models/nope:latest", {"enabled": False}).status_code == 404


def pull(admin: Admin, model: str) -> list[dict[str, Any]]:
    with admin.client.stream("POST", "/admin/api/models/pull", json={"model": model}, headers=admin.headers()) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/x-ndjson")
        return [json.loads(line) for line in r.iter_lines() if line.strip()]


def test_pull_relays_progress_and_refreshes_the_catalog(admin: Admin) -> None:
    events = pull(admin, "tinyllama")
    assert events[0]["status"] == "pulling manifest"
    percents = [e["percent"] for e in events if "percent" in e]
    assert percents[-1] == 100.0 and any(0 < p < 100 for p in percents)
    assert events[-1]["status"] == "success"
    names = [m["name"] for m in admin.get("/admin/api/models").json()["models"] if m["present"]]
    assert "tinyllama:latest" in names


def test_pull_of_an_unknown_model_ends_with_an_error_line(admin: Admin) -> None:
    events = pull(admin, "no-such-model")
    assert "error" in events[-1]


def test_pull_needs_a_name(admin: Admin) -> None:
    assert admin.send("POST", "/admin/api/models/pull", {"model": " "}).status_code == 400


def test_delete_removes_upstream_and_marks_absent(admin: Admin, fake_ollama: FakeOllama) -> None:
    response = admin.send("DELETE", "/admin/api/models/llava:latest")
    assert response.status_code == 200, response.text
    assert fake_ollama.last("/api/delete").body == {"model": "llava:latest"}
    models = {m["name"]: m for m in admin.get("/admin/api/models").json()["models"]}
    assert models["llava:latest"]["present"] is False
    again = admin.send("DELETE", "/admin/api/models/llava:latest")
    assert again.status_code == 404


def test_refresh(admin: Admin, fake_ollama: FakeOllama) -> None:
    fake_ollama.add_model("fresh-model", ["completion"])
    response = admin.send("POST", "/admin/api/models/refresh")
    assert "fresh-model:latest" in [m["name"] for m in response.json()["models"]]


def test_token_client_can_manage_models(token_client: httpx.Client) -> None:
    response = token_client.patch("/admin/api/models/llama3.2:latest", json={"overrides": {"temperature": 0.2}})
    assert response.status_code == 200


def test_overrides_document_export_and_atomic_import(admin: Admin) -> None:
    assert admin.send("PATCH", "/admin/api/models/llama3.2:latest", {"display_name": "house"}).status_code == 200
    document = {"house": {"think": "high", "num_ctx": 32768}}
    imported = admin.send("PUT", "/admin/api/models/overrides", {"overrides": json.dumps(document)})
    assert imported.status_code == 200, imported.text
    assert imported.json()["applied"] == {"llama3.2:latest": {"think": "high", "num_ctx": 32768}}
    assert admin.get("/admin/api/models/overrides").json() == {"llama3.2:latest": {"think": "high", "num_ctx": 32768}}
    bad = {"llama3.2:latest": {"num_ctx": 1}, "qwen3:latest": {"num_ctx": "big"}}
    refused = admin.send("PUT", "/admin/api/models/overrides", {"overrides": bad})
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "qwen3:latest.num_ctx"
    assert admin.get("/admin/api/models/overrides").json() == {"llama3.2:latest": {"think": "high", "num_ctx": 32768}}
    cleared = admin.send("PUT", "/admin/api/models/overrides", {"overrides": {}, "replace": True})
    assert cleared.status_code == 200 and admin.get("/admin/api/models/overrides").json() == {}
    assert "model.overrides_import" in admin.get("/admin/audit").text
