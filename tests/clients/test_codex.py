"""Codex CLI (pinned in tests/clients/node) in exec mode against the gateway, with only a `model_providers`
entry in its config.toml (`base_url = ".../v1"`, the Responses wire API)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clients.conftest import Run, base_env, binary, run
from tests.fake_ollama.agent import CallToolThenAnswer
from tests.fake_ollama.server import FakeOllama
from tests.support.gateway import GatewayServer

pytestmark = [pytest.mark.clients, pytest.mark.e2e]

DISPLAY_NAME = "gpt-5-codex"
# A name in Codex 0.171.0's own catalog: for it Codex sends its "code mode" request shape (tools in an
# `additional_tools` input item; the main one, `exec`, a custom tool whose free-text input is JavaScript).
CODE_MODE_NAME = "gpt-6.2-sol"

CONFIG = """\
model = "{model}"
model_provider = "gateway"

[model_providers.gateway]
name = "Ollama gateway"
base_url = "{url}/v1"
env_key = "GATEWAY_API_KEY"
wire_api = "responses"

[analytics]
enabled = false

[features]
plugins = false
"""


def codex(gateway: GatewayServer, key: str, home: Path, cwd: Path, prompt: str, model: str = DISPLAY_NAME) -> Run:
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(CONFIG.format(model=model, url=gateway.url))
    env = base_env(home) | {"CODEX_HOME": str(codex_home), "GATEWAY_API_KEY": key}
    # No approvals in exec mode; the sandbox is off because the test only reads a file in its own tmp folder
    # (and Codex's bubblewrap sandbox needs user namespaces that containers often lack).
    args = [str(binary("codex")), "exec", "--skip-git-repo-check", "--color", "never"]
    args += ["--dangerously-bypass-approvals-and-sandbox", prompt]
    return run(args, env=env, cwd=cwd)


@pytest.fixture
def key(agent_gateway: GatewayServer) -> str:
    """A key, and the display names Codex asks for mapped to models with tools."""
    agent_gateway.call(lambda g: g.storage.models.set("llama3.2:latest", display_name=DISPLAY_NAME))
    agent_gateway.call(lambda g: g.storage.models.set("qwen3:latest", display_name=CODE_MODE_NAME))
    agent_gateway.call(lambda g: g.catalog.reload())
    return agent_gateway.create_key("codex")


def chat_bodies(fake: FakeOllama) -> list[dict]:
    return [b for b in fake.bodies("/api/chat") if b and b.get("messages")]


def test_plain_text_turn(agent_gateway: GatewayServer, key: str, fake_ollama: FakeOllama, tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = codex(agent_gateway, key, home, tmp_path, "say hello to the gateway")
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "You said: say hello to the gateway" in done.stdout  # the fake echoes the prompt
    bodies = chat_bodies(fake_ollama)
    assert bodies and all(b["model"] == "llama3.2:latest" for b in bodies)
    names = {t["function"]["name"] for t in bodies[-1]["tools"]}
    assert "exec_command" in names
    assert any("__" in name for name in names)  # the multi-agent namespace, flattened
    assert "web_search" not in names  # the hosted tool was dropped


def test_turn_with_a_shell_command(
    agent_gateway: GatewayServer, key: str, fake_ollama: FakeOllama, tmp_path: Path, workdir: Path
) -> None:
    behaviour = CallToolThenAnswer("exec_command", {"cmd": "cat hello.txt"}, answer="The file reads: {result}")
    fake_ollama.behaviour = behaviour
    done = codex(agent_gateway, key, tmp_path / "home", workdir, "What does hello.txt say?")
    assert done.returncode == 0, (done.stdout, done.stderr)
    # The real exec_command tool ran inside Codex; its output came back through the gateway to the model.
    assert behaviour.calls >= 1 and behaviour.answers >= 1
    answered = [b for b in chat_bodies(fake_ollama) if b["messages"][-1]["role"] == "tool"]
    assert answered and "the secret word is pelican" in answered[-1]["messages"][-1]["content"]
    assert "The file reads:" in done.stdout and "pelican" in done.stdout


def test_code_mode_plain_turn(agent_gateway: GatewayServer, key: str, fake_ollama: FakeOllama, tmp_path: Path) -> None:
    done = codex(agent_gateway, key, tmp_path / "home", tmp_path, "say hello in code mode", model=CODE_MODE_NAME)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "You said: say hello in code mode" in done.stdout
    bodies = [b for b in chat_bodies(fake_ollama) if b["model"] == "qwen3:latest"]
    assert bodies
    tools = {t["function"]["name"]: t["function"] for t in bodies[-1]["tools"]}
    exec_tool = tools["functions__exec"]  # the custom tool, declared in an additional_tools input item
    assert exec_tool["parameters"]["required"] == ["input"]
    assert "lark grammar" in exec_tool["parameters"]["properties"]["input"]["description"]


def test_code_mode_turn_with_javascript_through_the_custom_exec_tool(
    agent_gateway: GatewayServer, key: str, fake_ollama: FakeOllama, tmp_path: Path, workdir: Path
) -> None:
    script = 'const out = await tools.exec_command({cmd: "cat hello.txt"});\ntext(out);'
    behaviour = CallToolThenAnswer("functions__exec", {"input": script}, answer="The file reads: {result}")
    fake_ollama.behaviour = behaviour
    done = codex(agent_gateway, key, tmp_path / "home", workdir, "What does hello.txt say?", model=CODE_MODE_NAME)
    assert done.returncode == 0, (done.stdout, done.stderr)
    # Codex ran the JavaScript the model sent as a custom_tool_call's input, and sent its output back as a
    # custom_tool_call_output, which reached the model as the tool result.
    assert behaviour.calls >= 1 and behaviour.answers >= 1
    answered = [b for b in chat_bodies(fake_ollama) if b["messages"][-1]["role"] == "tool"]
    assert answered and "pelican" in answered[-1]["messages"][-1]["content"]
    calls = [c for m in answered[-1]["messages"] for c in m.get("tool_calls") or []]
    assert calls and calls[-1]["function"]["name"] == "functions__exec"
    assert calls[-1]["function"]["arguments"] == {"input": script}
    assert "The file reads:" in done.stdout and "pelican" in done.stdout
