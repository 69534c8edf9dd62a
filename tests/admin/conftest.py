"""Admin test fixtures: a gateway with a known admin password and token, and logged-in HTTP clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.support.gateway import GatewayServer

PASSWORD = "correct horse battery staple"
TOKEN = "admin-token-for-tests-0123456789"


@dataclass
class Admin:
    """A logged-in browser-like client: cookies, the CSRF token, and the gateway it talks to."""

    server: GatewayServer
    client: httpx.Client
    csrf: str

    @property
    def origin(self) -> str:
        """The gateway's origin, as a browser on its pages would send it."""
        return self.server.url

    def headers(self) -> dict[str, str]:
        """Headers a same-origin page script sends with a state change."""
        return {"Origin": self.origin, "X-CSRF-Token": self.csrf}

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        """GET with the session."""
        return self.client.get(path, **kwargs)  # type: ignore[arg-type]

    def send(self, method: str, path: str, json: object = None) -> httpx.Response:
        """A state change with the session, CSRF token and same Origin."""
        return self.client.request(method, path, json=json, headers=self.headers())


def login_token(html: str) -> str:
    """The signed login-form token on the login page."""
    match = re.search(r'name="login_token" value="([^"]+)"', html)
    assert match, "no login token on the login page"
    return match.group(1)


def csrf_token(html: str) -> str:
    """The CSRF token a logged-in page carries."""
    match = re.search(r'<meta name="csrf-token" content="([^"]*)"', html)
    assert match and match.group(1), "no CSRF token on the page"
    return match.group(1)


def log_in(client: httpx.Client, origin: str, password: str = PASSWORD) -> httpx.Response:
    """Submit the login form as a browser would."""
    token = login_token(client.get("/admin/login").text)
    return client.post(
        "/admin/login", data={"password": password, "login_token": token, "next": "/admin/"}, headers={"Origin": origin}
    )


@pytest.fixture
def admin_server(start_gateway: Callable[..., GatewayServer]) -> GatewayServer:
    """A gateway with ADMIN_PASSWORD and ADMIN_TOKEN set."""
    return start_gateway(admin_password=PASSWORD, admin_token=TOKEN)


@pytest.fixture
def anon(admin_server: GatewayServer) -> Iterator[httpx.Client]:
    """A client without a session."""
    with httpx.Client(base_url=admin_server.url, timeout=30) as client:
        yield client


@pytest.fixture
def admin(admin_server: GatewayServer) -> Iterator[Admin]:
    """A logged-in admin client."""
    with httpx.Client(base_url=admin_server.url, timeout=30) as client:
        response = log_in(client, admin_server.url)
        assert response.status_code == 303, response.text
        page = client.get("/admin/")
        assert page.status_code == 200
        yield Admin(admin_server, client, csrf_token(page.text))


@pytest.fixture
def token_client(admin_server: GatewayServer) -> Iterator[httpx.Client]:
    """A client using the admin token."""
    with httpx.Client(base_url=admin_server.url, timeout=30, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client
