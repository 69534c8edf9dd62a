"""First contact: the openai SDK against a real gateway in front of the fake Ollama."""

from __future__ import annotations

import openai

from tests.support.gateway import GatewayServer


def test_chat_roundtrip(gateway_server: GatewayServer) -> None:
    key = gateway_server.create_key()
    client = openai.OpenAI(base_url=gateway_server.url + "/v1", api_key=key)
    reply = client.chat.completions.create(model="llama3.2", messages=[{"role": "user", "content": "hello there"}])
    assert reply.choices[0].message.content == "You said: hello there"
