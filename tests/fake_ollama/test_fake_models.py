"""Model endpoints on the fake: tags, show, ps, pull, delete, copy, embed, embeddings."""

from __future__ import annotations

import math

import httpx
import ollama
import pytest

from .server import FakeOllama
from .transcripts import ndjson


def test_tags_lists_the_default_catalog(http: httpx.Client) -> None:
    models = http.get("/api/tags").json()["models"]
    assert [m["name"] for m in models] == [
        "llama3.2:latest",
        "qwen3:latest",
        "gpt-oss:20b",
        "llava:latest",
        "all-minilm:latest",
    ]
    qwen = models[1]
    assert set(qwen) == {"name", "model", "modified_at", "size", "digest", "details", "capabilities"}
    assert qwen["capabilities"] == ["completion", "tools", "thinking"]
    assert set(qwen["details"]) >= {"parent_model", "format", "family", "families", "parameter_size"}
    assert models[-1]["details"]["embedding_length"] == 8
    assert http.head("/api/tags").status_code == 200


def test_add_and_remove_models(http: httpx.Client, fake_ollama: FakeOllama) -> None:
    fake_ollama.add_model("mistral:7b", capabilities=["completion", "tools"], family="mistral", size=123)
    assert fake_ollama.remove_model("llava")
    names = [m["name"] for m in http.get("/api/tags").json()["models"]]
    assert names[0] == "mistral:7b" and "llava:latest" not in names
    fake_ollama.models.add("empty-ok")
    assert "empty-ok:latest" in fake_ollama.models.names()


def test_show(http: httpx.Client) -> None:
    body = http.post("/api/show", json={"model": "gpt-oss:20b"}).json()
    assert body["capabilities"] == ["completion", "tools", "thinking"]
    assert body["details"]["family"] == "gptoss" and body["model_info"]["gptoss.context_length"] == 131_072
    assert body["model_info"]["tokenizer.ggml.tokens"] == []
    verbose = http.post("/api/show", json={"name": "GPT-OSS:20b", "verbose": True}).json()
    assert verbose["model_info"]["tokenizer.ggml.tokens"]
    assert {"license", "modelfile", "parameters", "template", "modified_at"} <= set(body)


def test_ps_tracks_loaded_models_and_keep_alive(http: httpx.Client) -> None:
    assert http.get("/api/ps").json() == {"models": []}
    http.post("/api/generate", json={"model": "llama3.2", "keep_alive": -1})
    http.post("/api/chat", json={"model": "qwen3", "messages": [], "options": {"num_ctx": 8192}})
    models = http.get("/api/ps").json()["models"]
    assert [m["name"] for m in models] == ["llama3.2:latest", "qwen3:latest"]  # longest time left first
    assert models[1]["context_length"] == 8192
    assert set(models[0]) == {"name", "model", "size", "digest", "details", "expires_at", "size_vram",
                              "context_length"}  # fmt: skip
    http.post("/api/chat", json={"model": "llama3.2", "messages": [], "keep_alive": 0})
    assert [m["name"] for m in http.get("/api/ps").json()["models"]] == ["qwen3:latest"]
    assert http.head("/api/ps").status_code == 405


def test_pull_progress_sequence(http: httpx.Client, fake_ollama: FakeOllama) -> None:
    fake_ollama.add_pullable("phi4-mini", [300, 7], capabilities=["completion", "tools"], family="phi3")
    events = ndjson(http.post("/api/pull", json={"model": "phi4-mini"}).content)
    assert events[0] == {"status": "pulling manifest"}
    layer = events[1]
    assert layer["status"] == f"pulling {layer['digest'][7:19]}" and layer["digest"].startswith("sha256:")
    assert layer == {"status": layer["status"], "digest": layer["digest"], "total": 300}  # completed omitted at 0
    assert [e.get("completed") for e in events[1:5]] == [None, 100, 200, 300]
    assert [e["status"] for e in events[-3:]] == ["verifying sha256 digest", "writing manifest", "success"]
    assert len({e["digest"] for e in events if "digest" in e}) == 2
    tags = {m["name"]: m for m in http.get("/api/tags").json()["models"]}
    assert tags["phi4-mini:latest"]["capabilities"] == ["completion", "tools"]
    assert tags["phi4-mini:latest"]["size"] == 307


def test_pull_unknown_model_errors_after_first_line(http: httpx.Client) -> None:
    response = http.post("/api/pull", json={"name": "nope"})
    assert response.status_code == 200
    assert ndjson(response.content) == [
        {"status": "pulling manifest"},
        {"error": "pull model manifest: file does not exist"},
    ]
    single = http.post("/api/pull", json={"model": "nope", "stream": False})
    assert (single.status_code, single.json()) == (500, {"error": "pull model manifest: file does not exist"})
    assert single.headers["content-type"] == "application/json"


def test_pull_without_stream_returns_last_object(http: httpx.Client) -> None:
    response = http.post("/api/pull", json={"model": "tinyllama", "stream": False})
    assert (response.status_code, response.json()) == (200, {"status": "success"})


def test_delete(http: httpx.Client) -> None:
    response = http.request("DELETE", "/api/delete", json={"model": "llava"})
    assert (response.status_code, response.content) == (200, b"")
    assert "llava:latest" not in [m["name"] for m in http.get("/api/tags").json()["models"]]
    again = http.request("DELETE", "/api/delete", json={"model": "llava"})
    assert (again.status_code, again.json()) == (404, {"error": "model 'llava' not found"})
    bad = http.request("DELETE", "/api/delete", json={"name": "bad name"})
    assert (bad.status_code, bad.json()) == (400, {"error": 'name "bad name" is invalid'})


def test_copy(http: httpx.Client) -> None:
    assert http.post("/api/copy", json={"source": "qwen3", "destination": "mine:v1"}).status_code == 200
    assert http.post("/api/show", json={"model": "mine:v1"}).json()["capabilities"][-1] == "thinking"


def test_embed_vectors_are_normalised_and_deterministic(http: httpx.Client) -> None:
    body = http.post("/api/embed", json={"model": "all-minilm", "input": ["hello world", "x"]}).json()
    assert set(body) == {"model", "embeddings", "total_duration", "load_duration", "prompt_eval_count"}
    first, second = body["embeddings"]
    assert len(first) == 8 and math.isclose(math.fsum(x * x for x in first), 1.0, rel_tol=1e-5)
    assert first != second and body["prompt_eval_count"] == 3
    again = http.post("/api/embed", json={"model": "all-minilm:latest", "input": "hello world"}).json()
    assert again["embeddings"] == [first]


def test_embed_dimensions_truncate_then_renormalise(http: httpx.Client) -> None:
    vector = http.post("/api/embed", json={"model": "all-minilm", "input": "a", "dimensions": 3}).json()["embeddings"][
        0
    ]
    assert len(vector) == 3 and math.isclose(math.fsum(x * x for x in vector), 1.0, rel_tol=1e-5)


@pytest.mark.parametrize("empty", ["", []])
def test_embed_empty_input_loads(http: httpx.Client, empty: object) -> None:
    assert http.post("/api/embed", json={"model": "all-minilm", "input": empty}).json() == {
        "model": "all-minilm",
        "embeddings": [],
    }


def test_legacy_embeddings_not_normalised(http: httpx.Client) -> None:
    vector = http.post("/api/embeddings", json={"model": "all-minilm", "prompt": "a"}).json()["embedding"]
    assert len(vector) == 8 and not math.isclose(math.fsum(x * x for x in vector), 1.0)
    assert http.post("/api/embeddings", json={"model": "all-minilm", "prompt": ""}).json() == {"embedding": []}


def test_sdk_model_endpoints(sdk: ollama.Client) -> None:
    assert [m.model for m in sdk.list().models][:2] == ["llama3.2:latest", "qwen3:latest"]
    assert "thinking" in (sdk.show("qwen3").capabilities or [])
    progress = [p.status for p in sdk.pull("tinyllama", stream=True)]
    assert progress[0] == "pulling manifest" and progress[-1] == "success"
    embedded = sdk.embed(model="all-minilm", input=["a", "b"])
    assert len(embedded.embeddings) == 2
    assert sdk.delete("tinyllama").status == "success"
    with pytest.raises(ollama.ResponseError):
        sdk.delete("tinyllama")
    assert sdk.ps().models
