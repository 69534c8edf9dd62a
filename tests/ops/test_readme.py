"""The README's quick start runs as written (against the fake Ollama): CLI key creation and the three SDK examples."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from ollama_gateway.cli.main import cli
from tests.support.gateway import GatewayServer

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
QUICK_START = README[README.index("## Quick start") : README.index("## Endpoints")]
SNIPPETS = re.findall(r"```python\n(.*?)```", QUICK_START, flags=re.S)


def test_the_key_command_works_as_written(gateway_server: GatewayServer) -> None:
    line = next(line for line in QUICK_START.splitlines() if "ollama-gateway keys create" in line)
    args = line.split("#")[0].split()[1:]  # drop `.venv/bin/ollama-gateway`
    env = {"DATABASE_URL": gateway_server.settings.database_url, "OLLAMA_URL": gateway_server.settings.ollama_url}
    result = CliRunner(env=env).invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1].startswith("sk-og-")


@pytest.mark.parametrize("index", range(3))
def test_the_sdk_examples_run(gateway_server: GatewayServer, index: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert len(SNIPPETS) == 3
    key = gateway_server.create_key("readme", models=("llama3.2", "qwen3"))
    code = SNIPPETS[index].replace("http://127.0.0.1:11535", gateway_server.url).replace("sk-og-...", key)
    scope: dict[str, object] = {}
    try:
        exec(compile(code, f"README snippet {index}", "exec"), scope)  # our own README, on loopback
    finally:
        for name in ("client", "claude"):  # the snippets leave their SDK clients open
            sdk = scope.get(name)
            http = getattr(sdk, "_client", sdk)
            if hasattr(http, "close"):
                http.close()
    assert capsys.readouterr().out.strip() or index == 2  # the Ollama example prints nothing
