"""Fixtures of the container tests: the image built from the Dockerfile on a local Debian base, and its rootfs."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.container.chroot import mounted_container
from tests.container.image import ImageConfig, build_base_image, build_image, inspect_image, require_tools


@pytest.fixture(scope="session")
def gateway_image() -> Iterator[str]:
    """The Dockerfile's default target built on the local base image; removed after the session."""
    require_tools()
    base = build_base_image()
    tag = f"localhost/ollama-gateway-test:{os.getpid()}"
    build_image(base, tag, target="gateway")
    try:
        yield tag
    finally:
        # The cached build layers stay (a later build reuses them); the tag and its image go.
        subprocess.run(["podman", "rmi", "--force", tag], capture_output=True, timeout=120, check=False)


@pytest.fixture(scope="session")
def image_config(gateway_image: str) -> ImageConfig:
    """The runtime configuration the image declares."""
    return inspect_image(gateway_image)


@pytest.fixture(scope="module")
def image_root(gateway_image: str) -> Iterator[Path]:
    """The mounted root filesystem of a container created from the image."""
    with mounted_container(gateway_image) as root:
        yield root
