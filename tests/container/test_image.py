"""The built image, run as a runtime would run it: health, a chat through it, its user, its volume, SIGTERM."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import openai
import pytest

from tests.container.chroot import ChrootProcess, ChrootRunner, mounted_container, wait_until
from tests.container.image import ImageConfig, inspect_image
from tests.fake_ollama.server import FakeOllama
from tests.support.redis import free_port

# Building the base and the image the first time takes minutes; cached runs take seconds.
pytestmark = [pytest.mark.container, pytest.mark.timeout(1800)]

PASSWORD_BANNER = "ADMIN PASSWORD (shown once)"


def numeric_user(config: ImageConfig) -> tuple[int, int]:
    """The image's USER as uid and gid (the Dockerfile sets it numerically so runtimes can check non-root)."""
    uid, _, gid = config.user.partition(":")
    assert uid.isdigit() and gid.isdigit(), f"USER should be numeric uid:gid, got {config.user!r}"
    return int(uid), int(gid)


def healthz(port: int) -> bool:
    """Whether GET /healthz answers 200."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def proc_status(pid: int) -> dict[str, str]:
    """/proc/PID/status as a mapping."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


def chat(port: int, key: str, text: str) -> str:
    """One non-streaming chat through the gateway with the OpenAI SDK; returns the reply."""
    with openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=key, max_retries=0, timeout=20) as client:
        reply = client.chat.completions.create(model="llama3.2", messages=[{"role": "user", "content": text}])
    return reply.choices[0].message.content or ""


def stream_chat(port: int, key: str, text: str) -> str:
    """One streaming chat through the gateway; returns the joined deltas."""
    with openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=key, max_retries=0, timeout=20) as client:
        stream = client.chat.completions.create(
            model="llama3.2", messages=[{"role": "user", "content": text}], stream=True
        )
        return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


def start_gateway(runner: ChrootRunner, config: ImageConfig, log: Path, port: int) -> ChrootProcess:
    """Start the image's entrypoint and wait until /healthz answers."""
    process = runner.start(config.argv, log)
    try:
        wait_until(lambda: healthz(port), "GET /healthz to answer 200", process)
    except BaseException:
        process.close()
        raise
    return process


def test_image_declares_how_to_run_it(image_config: ImageConfig) -> None:
    """Non-root numeric user, one data volume the settings point at, a health check, SIGTERM, the CLI."""
    uid, gid = numeric_user(image_config)
    assert uid != 0 and gid != 0
    assert image_config.volumes == ["/data"]
    assert image_config.env["GATEWAY_DATA_DIR"] == "/data"
    assert image_config.env["HOST"] == "0.0.0.0"
    assert image_config.stop_signal == "SIGTERM"
    assert image_config.argv == ["ollama-gateway", "serve"]
    assert image_config.healthcheck[0] == "CMD"
    assert "healthcheck" in " ".join(image_config.healthcheck)


def test_gateway_runs_from_the_image(
    image_root: Path, image_config: ImageConfig, fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    """Serve from the image's rootfs as its user: health, chat, uid, data in the volume, clean SIGTERM, restart."""
    uid, gid = numeric_user(image_config)
    volume = tmp_path / "volume"
    volume.mkdir()
    os.chown(volume, uid, gid)  # as a named volume would be: owned by the image's user
    port = free_port()
    # As `docker run -e ...`: loopback only (tests talk to 127.0.0.1 alone), the fake Ollama as upstream.
    runner = ChrootRunner(
        image_root, image_config, volume, {"HOST": "127.0.0.1", "PORT": str(port), "OLLAMA_URL": fake_ollama.url}
    )

    gateway = start_gateway(runner, image_config, tmp_path / "first.log", port)
    try:
        # The image's own health check command passes against it...
        health = runner.run(image_config.healthcheck[1:])
        assert health.returncode == 0, health.stderr
        # ...and fails when nothing answers on the port it is told to probe.
        dead = ChrootRunner(image_root, image_config, volume, {**runner.env, "PORT": str(free_port())})
        assert dead.run(image_config.healthcheck[1:]).returncode == 1

        status = proc_status(gateway.pid)
        assert status["Uid"].split() == [str(uid)] * 4
        assert status["Gid"].split() == [str(gid)] * 4
        assert status["NSpid"].split()[-1] == "1"  # PID 1 in its namespace, as in a container

        database = volume / "gateway.db"
        assert database.is_file()
        assert (database.stat().st_uid, database.stat().st_gid) == (uid, gid)
        assert gateway.output().count(PASSWORD_BANNER) == 1

        created = runner.run(["ollama-gateway", "keys", "create", "--name", "container", "--json"])
        assert created.returncode == 0, created.stderr
        key = json.loads(created.stdout)["key"]

        assert chat(port, key, "hello from the image") == "You said: hello from the image"
        assert fake_ollama.last("/api/chat").body["messages"][-1]["content"] == "hello from the image"
        assert stream_chat(port, key, "and streamed") == "You said: and streamed"
    finally:
        exit_code = gateway.terminate()
    assert exit_code == 0, gateway.output()
    assert "Application shutdown complete" in gateway.output()
    # Everything was written through the bind mount: the image's own /data stayed empty.
    assert list((image_root / "data").iterdir()) == []

    # A second start on the same volume keeps the key and the admin password (no new one is printed).
    again = start_gateway(runner, image_config, tmp_path / "second.log", port)
    try:
        assert PASSWORD_BANNER not in again.output()
        assert chat(port, key, "still there?") == "You said: still there?"
    finally:
        exit_code = again.terminate()
    assert exit_code == 0, again.output()


def test_with_ollama_target_serves_beside_ollama(
    with_ollama_image: str, fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    """The one-container layout: its entrypoint starts `ollama serve` on loopback and the gateway beside it.

    OLLAMA_IMAGE is a stand-in laid out like ollama/ollama (no registry here) whose `ollama serve` only idles; the
    fake Ollama on the host's loopback answers in its place, on the port OLLAMA_HOST and OLLAMA_URL are moved to.
    """
    config = inspect_image(with_ollama_image)
    assert config.env["OLLAMA_HOST"] == "127.0.0.1:11434"
    assert config.env["OLLAMA_URL"] == "http://127.0.0.1:11434"
    assert config.argv == ["/usr/local/bin/with-ollama", "serve"]
    uid, gid = numeric_user(config)
    assert uid != 0
    volume = tmp_path / "volume"
    volume.mkdir()
    os.chown(volume, uid, gid)
    port = free_port()
    upstream = f"127.0.0.1:{urlsplit(fake_ollama.url).port}"
    overrides = {"HOST": "127.0.0.1", "PORT": str(port), "OLLAMA_HOST": upstream, "OLLAMA_URL": f"http://{upstream}"}
    with mounted_container(with_ollama_image) as root:
        runner = ChrootRunner(root, config, volume, overrides)
        both = start_gateway(runner, config, tmp_path / "with-ollama.log", port)
        try:
            wait_until(lambda: f"stand-in ollama serving on {upstream}" in both.output(), "ollama serve", both)
            assert (volume / "ollama" / "models").is_dir()  # OLLAMA_MODELS lives in the volume
            created = runner.run(["ollama-gateway", "keys", "create", "--name", "one-container", "--json"])
            assert created.returncode == 0, created.stderr
            key = json.loads(created.stdout)["key"]
            assert chat(port, key, "one container") == "You said: one container"
        finally:
            exit_code = both.terminate()
    assert exit_code == 0, both.output()
    assert "stand-in ollama stopped" in both.output()
    assert "Application shutdown complete" in both.output()
