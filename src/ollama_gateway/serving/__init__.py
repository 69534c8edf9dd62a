"""Running the ASGI app: uvicorn with the gateway's HTTP limits, bounded shutdown and worker processes."""

from __future__ import annotations

from ollama_gateway.serving.limits import GatewayConfig, GuardedHttpProtocol, HttpLimits
from ollama_gateway.serving.server import GracefulServer, build_config, raise_fd_limit, serve

__all__ = [
    "GatewayConfig",
    "GracefulServer",
    "GuardedHttpProtocol",
    "HttpLimits",
    "build_config",
    "raise_fd_limit",
    "serve",
]
