"""What the admin stores survives a restart: runtime settings and the generated session secret."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from tests.support.gateway import GatewayServer

from .conftest import PASSWORD, csrf_token, log_in


def test_settings_and_sessions_survive_a_restart(start_gateway: Callable[..., GatewayServer], tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    first = start_gateway(admin_password=PASSWORD, database_url=database)
    with httpx.Client(base_url=first.url, timeout=30) as client:
        assert log_in(client, first.url).status_code == 303
        csrf = csrf_token(client.get("/admin/").text)
        response = client.put(
            "/admin/api/settings",
            json={"request_timeout_ms": 7000},
            headers={"Origin": first.url, "X-CSRF-Token": csrf},
        )
        assert response.status_code == 200
        cookie = client.cookies["og_admin"]
    first.stop()
    second = start_gateway(admin_password=PASSWORD, database_url=database)
    assert second.gateway.settings.request_timeout_ms == 7000
    # The generated session secret is shared through the database, so the old cookie is still good.
    with httpx.Client(base_url=second.url, cookies={"og_admin": cookie}) as client:
        assert client.get("/admin/settings").status_code == 200
