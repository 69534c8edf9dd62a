"""The admin web UI and the JSON admin API it uses: `admin_routes()` to mount, `prepare_admin` at start-up."""

from __future__ import annotations

from ollama_gateway.admin.routes import admin_routes, prepare_admin

__all__ = ["admin_routes", "prepare_admin"]
