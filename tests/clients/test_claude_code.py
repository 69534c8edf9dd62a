"""Claude Code (pinned in tests/clients/node) in print mode against the gateway, with only its documented
custom-endpoint settings: ANTHROPIC_BASE_URL, ANTHROPIC_AUTH_TOKEN and the model variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clients.conftest import Run, base_env, binary, run
from tests.fake_ollama.agent import CallToolThenAnswer
from tests.fake_ollama.server import FakeOllama
from tests.support.gateway import GatewayServer

pytestmark = [pytest.mark.clients, pytest.mark.e2e]

DISPLAY_NAME = "claude-sonnet-4-5"


def claude(gateway: GatewayServer, key: str, home: Path, cwd: Path, prompt: str, *flags: str) -> Run:
    env = base_env(home) | {
        "ANTHROPIC_BASE_URL": gateway.url,
        "ANTHROPIC_AUTH_TOKEN": key,
        "ANTHROPIC_MODEL": DISPLAY_NAME,
        "ANTHROPIC_DEFAULT_SONNET_MODEL": DISPLAY_NAME,
        "ANTHROPIC_DEFAULT_OPUS_MODEL": DISPLAY_NAME,
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": DISPLAY_NAME,
        "CLAUDE_CODE_SUBAGENT_MODEL": DISPLAY_NAME,
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    return run([str(binary("claude")), "-p", prompt, "--output-format", "json", *flags], env=env, cwd=cwd)


@pytest.fixture
def key(agent_gateway: GatewayServer) -> str:
    """A key, and the display name Claude Code asks for mapped to a thinking model with tools."""
    agent_gateway.call(lambda g: g.storage.models.set("qwen3:latest", display_name=DISPLAY_NAME))
    agent_gateway.call(lambda g: g.catalog.reload())
    return agent_gateway.create_key("claude-code")


def chat_bodies(fake: FakeOllama) -> list[dict]:
    return [b for b in fake.bodies("/api/chat") if b and b.get("messages")]


def test_plain_text_turn(agent_gateway: GatewayServer, key: str, fake_ollama: FakeOllama, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    done = claude(agent_gateway, key, home, tmp_path, "say hello to the gateway")
    result = done.json_result()
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert result["is_error"] is False
    assert "say hello to the gateway" in result["result"]  # the fake echoes the prompt
    bodies = chat_bodies(fake_ollama)
    assert bodies and all(b["model"] == "qwen3:latest" for b in bodies)
    system = bodies[-1]["messages"][0]
    assert system["role"] == "system"
    assert "x-anthropic-billing-header" not in system["content"]  # dropped before translation


def test_turn_with_the_read_tool(
    agent_gateway: GatewayServer, key: str, fake_ollama: FakeOllama, tmp_path: Path, workdir: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    target = workdir / "hello.txt"
    behaviour = CallToolThenAnswer("Read", {"file_path": str(target)}, answer="The file reads: {result}")
    fake_ollama.behaviour = behaviour
    done = claude(agent_gateway, key, home, workdir, "What does hello.txt say?", "--allowedTools", "Read")
    result = done.json_result()
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert result["is_error"] is False
    # The real Read tool ran inside Claude Code: its output came back through the gateway to the model.
    assert "the secret word is pelican" in result["result"]
    assert behaviour.calls >= 1 and behaviour.answers >= 1
    answered = [b for b in chat_bodies(fake_ollama) if b["messages"][-1]["role"] == "tool"]
    assert answered and answered[-1]["messages"][-1]["tool_name"] == "Read"
