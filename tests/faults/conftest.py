"""Fault fixtures: an API key on the default test gateway, and raw loopback HTTP helpers."""

from __future__ import annotations

import pytest

from tests.support.gateway import GatewayServer


@pytest.fixture
def api_key(gateway_server: GatewayServer) -> str:
    """A key that may use every model."""
    return gateway_server.create_key("faults")
