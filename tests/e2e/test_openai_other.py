"""/v1/completions, /v1/embeddings, /v1/models and /v1/models/{id} through the openai SDK."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import openai
import pytest

from tests.fake_ollama.replies import Reply
from tests.fake_ollama.server import FakeOllama
from tests.support.gateway import GatewayServer


def test_completion_non_stream_and_stream(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    fake_ollama.add_model("codellama", capabilities=["completion", "insert"])
    fake_ollama.script(Reply(content=["Once", " upon"]), Reply(content=["Once", " upon"], done_reason="length"))
    done = client.completions.create(model="codellama", prompt="Tell me", max_tokens=5, suffix="END")
    assert done.object == "text_completion"
    assert done.choices[0].text == "Once upon"
    assert done.choices[0].finish_reason == "stop"
    sent = fake_ollama.last("/api/generate").body
    assert (sent["prompt"], sent["suffix"], sent["stream"], sent["options"]) == (
        "Tell me",
        "END",
        False,
        {"num_predict": 5},
    )

    chunks = list(client.completions.create(model="codellama", prompt="Tell me", stream=True))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "Once upon"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["length"]


def test_embeddings_float_base64_dimensions(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    single = client.embeddings.create(model="all-minilm", input="hello", encoding_format="float")
    assert len(single.data) == 1 and len(single.data[0].embedding) == 8
    assert math.isclose(sum(x * x for x in single.data[0].embedding), 1.0, rel_tol=1e-4)
    assert single.usage.prompt_tokens == single.usage.total_tokens > 0

    batch = client.embeddings.create(model="all-minilm", input=["a", "b", "c"], dimensions=4)  # SDK default: base64
    assert [d.index for d in batch.data] == [0, 1, 2]
    assert all(len(d.embedding) == 4 for d in batch.data)
    assert fake_ollama.last("/api/embed").body == {
        "model": "all-minilm:latest",
        "input": ["a", "b", "c"],
        "dimensions": 4,
    }
    again = client.embeddings.create(model="all-minilm", input=["a", "b", "c"], dimensions=4, encoding_format="float")
    assert [[round(x, 5) for x in d.embedding] for d in batch.data] == [
        [round(x, 5) for x in d.embedding] for d in again.data
    ]


def test_embeddings_bad_input(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="all-minilm", input=[])
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="all-minilm", input="x", encoding_format="hex")  # type: ignore[arg-type]


def test_models_list_and_retrieve(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    ids = sorted(m.id for m in client.models.list())
    assert ids == sorted(e.display for e in fake_ollama.models)
    for name in ("llama3.2", "llama3.2:latest"):
        model = client.models.retrieve(name)
        assert (model.id, model.object, model.owned_by) == (name, "model", "library")
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("missing-model")


def test_new_ollama_model_appears_without_restart(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    fake_ollama.add_model("mistral", capabilities=["completion", "tools"])
    reply = client.chat.completions.create(model="mistral", messages=[{"role": "user", "content": "hi"}])
    assert reply.model == "mistral"
    assert "mistral:latest" in {m.id for m in client.models.list()}


def test_health_probes(gateway_server: GatewayServer) -> None:
    import httpx

    assert httpx.get(gateway_server.url + "/healthz").status_code == 200
    ready = httpx.get(gateway_server.url + "/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["ollama"] == "ok"


def test_catalog_refreshes_on_a_schedule(start_gateway: Callable[..., GatewayServer], fake_ollama: FakeOllama) -> None:
    server = start_gateway(models_cache_seconds=0.05, catalog_refresh_seconds=0.1)
    with openai.OpenAI(base_url=server.url + "/v1", api_key=server.create_key(), max_retries=0) as sdk:
        assert "phi4:latest" not in {m.id for m in sdk.models.list()}
        fake_ollama.add_model("phi4", capabilities=["completion"])
        deadline = time.monotonic() + 5
        while "phi4:latest" not in {m.id for m in sdk.models.list()}:  # /v1/models never triggers a refresh
            assert time.monotonic() < deadline, "the scheduled refresh never picked up the new model"
            time.sleep(0.05)  # polling a condition with a deadline
