"""Access control of the admin: login, throttling, sessions, CSRF and origin checks, tokens, escaping."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from ollama_gateway.admin.passwords import PASSWORD_KEY
from ollama_gateway.admin.sessions import SECRET_KEY
from tests.support.gateway import GatewayServer

from .conftest import PASSWORD, TOKEN, Admin, log_in, login_token


def test_wrong_password_is_refused(anon: httpx.Client, admin_server: GatewayServer) -> None:
    response = log_in(anon, admin_server.url, "not the password")
    assert response.status_code == 401
    assert "Wrong password." in response.text
    assert "og_admin" not in response.cookies


def test_session_cookie_attributes(anon: httpx.Client, admin_server: GatewayServer) -> None:
    response = log_in(anon, admin_server.url)
    assert response.status_code == 303 and response.headers["location"] == "/admin/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/admin" in cookie and "Max-Age=" in cookie
    assert "Secure" not in cookie  # plain http on loopback


def test_cookie_is_secure_behind_https_proxy(anon: httpx.Client, admin_server: GatewayServer) -> None:
    token = login_token(anon.get("/admin/login").text)
    host = admin_server.url.split("://", 1)[1]
    response = anon.post(
        "/admin/login",
        data={"password": PASSWORD, "login_token": token},
        headers={"Origin": f"https://{host}", "X-Forwarded-Proto": "https"},
    )
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


def test_repeated_failures_are_throttled(anon: httpx.Client, admin_server: GatewayServer) -> None:
    statuses = [log_in(anon, admin_server.url, f"wrong-{i}").status_code for i in range(5)]
    assert statuses == [401] * 5
    blocked = log_in(anon, admin_server.url, PASSWORD)  # even the right password waits out the backoff
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) >= 1
    assert "Too many failed attempts" in blocked.text


@pytest.mark.parametrize("origin", [None, "https://evil.example"])
def test_login_from_another_site_is_refused(
    anon: httpx.Client, admin_server: GatewayServer, origin: str | None
) -> None:
    token = login_token(anon.get("/admin/login").text)
    headers = {"Origin": origin} if origin else {}
    response = anon.post("/admin/login", data={"password": PASSWORD, "login_token": token}, headers=headers)
    assert response.status_code == 403


def test_login_needs_the_signed_form_token(anon: httpx.Client, admin_server: GatewayServer) -> None:
    response = anon.post(
        "/admin/login", data={"password": PASSWORD, "login_token": "forged"}, headers={"Origin": admin_server.url}
    )
    assert response.status_code == 403


def test_next_cannot_redirect_off_site(anon: httpx.Client, admin_server: GatewayServer) -> None:
    token = login_token(anon.get("/admin/login?next=//evil.example/x").text)
    response = anon.post(
        "/admin/login",
        data={"password": PASSWORD, "login_token": token, "next": "https://evil.example/"},
        headers={"Origin": admin_server.url},
    )
    assert response.headers["location"] == "/admin/"


def test_api_needs_a_session_or_the_token(anon: httpx.Client) -> None:
    response = anon.get("/admin/api/keys")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication"
    assert anon.get("/admin/api/keys", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_token_works_without_csrf(token_client: httpx.Client) -> None:
    response = token_client.post("/admin/api/keys", json={"name": "from-token"})
    assert response.status_code == 201
    assert response.json()["secret"].startswith("sk-og-")


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no token, no origin
        {"X-CSRF-Token": "wrong"},  # wrong token
        {"Origin": "https://evil.example"},  # right origin missing, foreign one
        {"Origin": "https://evil.example", "X-CSRF-Token": "wrong"},
        {"Referer": "https://evil.example/page"},
    ],
)
def test_forged_state_changes_are_refused(admin: Admin, headers: dict[str, str]) -> None:
    response = admin.client.post("/admin/api/keys", json={"name": "forged"}, headers=headers)
    assert response.status_code == 403
    assert admin.get("/admin/api/keys").json()["keys"] == []


def test_right_token_from_a_foreign_origin_is_refused(admin: Admin) -> None:
    headers = {"Origin": "https://evil.example", "X-CSRF-Token": admin.csrf}
    assert admin.client.post("/admin/api/keys", json={"name": "x"}, headers=headers).status_code == 403


def test_same_origin_with_token_is_accepted(admin: Admin) -> None:
    assert admin.send("POST", "/admin/api/keys", {"name": "fine"}).status_code == 201
    referer_only = {"Referer": f"{admin.origin}/admin/keys", "X-CSRF-Token": admin.csrf}
    assert admin.client.post("/admin/api/keys", json={"name": "also"}, headers=referer_only).status_code == 201


def test_logout_needs_csrf_and_ends_the_session(admin: Admin) -> None:
    forged = admin.client.post("/admin/logout", data={"csrf_token": "x"}, headers={"Origin": admin.origin})
    assert forged.status_code == 403
    response = admin.client.post("/admin/logout", data={"csrf_token": admin.csrf}, headers={"Origin": admin.origin})
    assert response.status_code == 303
    assert admin.get("/admin/keys").status_code == 303


def test_tampered_cookie_is_ignored(admin_server: GatewayServer) -> None:
    with httpx.Client(base_url=admin_server.url, cookies={"og_admin": "eyJzaWQiOiJ4In0.forged.sig"}) as client:
        assert client.get("/admin/").status_code == 303


def test_password_change_ends_other_sessions(admin: Admin, admin_server: GatewayServer) -> None:
    with httpx.Client(base_url=admin_server.url, timeout=30) as other:
        assert log_in(other, admin_server.url).status_code == 303
        wrong = admin.send("POST", "/admin/api/password", {"current_password": "nope", "new_password": "n3w-password"})
        assert wrong.status_code == 403
        short = admin.send("POST", "/admin/api/password", {"current_password": PASSWORD, "new_password": "short"})
        assert short.status_code == 400
        changed = admin.send(
            "POST", "/admin/api/password", {"current_password": PASSWORD, "new_password": "n3w-password"}
        )
        assert changed.status_code == 200
        assert admin.get("/admin/keys").status_code == 200  # renewed cookie
        assert other.get("/admin/keys").status_code == 303  # logged out
        assert log_in(other, admin_server.url, "n3w-password").status_code == 303


def test_generated_password_is_logged_once_and_only_hashed(
    start_gateway: Callable[..., GatewayServer], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ollama_gateway.admin.passwords"):
        server = start_gateway()
    messages = [r.getMessage() for r in caplog.records if "ADMIN PASSWORD" in r.getMessage()]
    assert len(messages) == 1
    password = re.search(r"generated:\s+(\S+)", messages[0])
    assert password is not None
    stored = server.call(lambda g: g.storage.kv.get(PASSWORD_KEY))
    assert stored is not None and stored.startswith("$argon2id$") and password.group(1) not in stored
    assert server.call(lambda g: g.storage.kv.get(SECRET_KEY))  # session secret generated and kept
    with httpx.Client(base_url=server.url) as client:
        assert log_in(client, server.url, password.group(1)).status_code == 303


def test_admin_token_unset_means_no_token_access(start_gateway: Callable[..., GatewayServer]) -> None:
    server = start_gateway(admin_password=PASSWORD)
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        assert client.get("/admin/api/keys").status_code == 401


def test_hostile_display_name_is_escaped(admin: Admin) -> None:
    hostile = "<img src=x onerror=alert(1)>\"'&"
    response = admin.send("PATCH", "/admin/api/models/llama3.2:latest", {"display_name": hostile})
    assert response.status_code == 200, response.text
    page = admin.get("/admin/models").text
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_forty_concurrent_wrong_passwords_are_mostly_throttled(admin_server: GatewayServer) -> None:
    def attempt(i: int) -> int:
        with httpx.Client(base_url=admin_server.url, timeout=60) as client:
            return log_in(client, admin_server.url, f"wrong-{i}").status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(attempt, range(40)))
    assert statuses.count(401) == 5  # exactly the free attempts were checked against the password
    assert statuses.count(429) == 35


def test_x_forwarded_for_is_ignored_from_an_untrusted_peer(admin_server: GatewayServer) -> None:
    # Without TRUSTED_PROXIES, a client cannot dodge the per-address count by inventing addresses.
    with httpx.Client(base_url=admin_server.url, timeout=30) as client:
        statuses = []
        for i in range(7):
            token = login_token(client.get("/admin/login").text)
            response = client.post(
                "/admin/login",
                data={"password": "wrong", "login_token": token},
                headers={"Origin": admin_server.url, "X-Forwarded-For": f"203.0.113.{i}"},
            )
            statuses.append(response.status_code)
    assert statuses == [401] * 5 + [429] * 2


def test_x_forwarded_for_is_believed_from_a_trusted_proxy(start_gateway: Callable[..., GatewayServer]) -> None:
    server = start_gateway(admin_password=PASSWORD, admin_token=TOKEN, trusted_proxies="127.0.0.1")
    with httpx.Client(base_url=server.url, timeout=30) as client:
        statuses = []
        for i in range(7):
            token = login_token(client.get("/admin/login").text)
            response = client.post(
                "/admin/login",
                data={"password": "wrong", "login_token": token},
                headers={"Origin": server.url, "X-Forwarded-For": f"203.0.113.{i}"},
            )
            statuses.append(response.status_code)
        assert statuses == [401] * 7  # seven different clients behind the proxy, one attempt each
        entries = client.get("/admin/api/audit?action=login.failed", headers={"Authorization": f"Bearer {TOKEN}"})
    assert sorted(e["client_ip"] for e in entries.json()["entries"]) == [f"203.0.113.{i}" for i in range(7)]
