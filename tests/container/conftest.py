"""Fixtures of the container tests: the image built from the Dockerfile on a local Debian base, and its rootfs."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.container.chroot import mounted_container
from tests.container.image import (
    ImageConfig,
    build_base_image,
    build_image,
    build_ollama_stand_in,
    inspect_image,
    require_tools,
)


@pytest.fixture(scope="session")
def base_image() -> str:
    """The local Debian base image (cached across runs by scripts/build-base-image.sh)."""
    require_tools()
    return build_base_image()


def remove_image(tag: str) -> None:
    """Remove a test tag; the cached build layers stay, so a later build reuses them."""
    subprocess.run(["podman", "rmi", "--force", tag], capture_output=True, timeout=120, check=False)


@pytest.fixture(scope="session")
def gateway_image(base_image: str) -> Iterator[str]:
    """The Dockerfile's default target built on the local base image; removed after the session."""
    base = base_image
    tag = f"localhost/ollama-gateway-test:{os.getpid()}"
    build_image(base, tag, target="gateway")
    try:
        yield tag
    finally:
        remove_image(tag)


@pytest.fixture(scope="session")
def with_ollama_image(base_image: str, gateway_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The with-ollama target, its OLLAMA_IMAGE a stand-in laid out like ollama/ollama (no registry here)."""
    stand_in = f"localhost/ollama-gateway-test-ollama-stand-in:{os.getpid()}"
    tag = f"localhost/ollama-gateway-test-with-ollama:{os.getpid()}"
    build_ollama_stand_in(base_image, stand_in, tmp_path_factory.mktemp("ollama-stand-in"))
    try:
        build_image(base_image, tag, target="with-ollama", build_args={"OLLAMA_IMAGE": stand_in})
        yield tag
    finally:
        remove_image(tag)
        remove_image(stand_in)


@pytest.fixture(scope="session")
def image_config(gateway_image: str) -> ImageConfig:
    """The runtime configuration the image declares."""
    return inspect_image(gateway_image)


@pytest.fixture(scope="module")
def image_root(gateway_image: str) -> Iterator[Path]:
    """The mounted root filesystem of a container created from the image."""
    with mounted_container(gateway_image) as root:
        yield root
