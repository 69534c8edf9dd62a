"""Admin API for keys: the secret once, limits, expiry, and revocation that takes effect at once."""

from __future__ import annotations

import openai
import pytest

from .conftest import Admin


def client_for(admin: Admin, secret: str) -> openai.OpenAI:
    return openai.OpenAI(api_key=secret, base_url=f"{admin.origin}/v1", max_retries=0)


def test_create_returns_the_secret_once(admin: Admin) -> None:
    body = {"name": "app", "models": ["llama3.2"], "rpm": 10, "tpm": "1000", "token_budget": 5000}
    created = admin.send("POST", "/admin/api/keys", {**body, "expires_at": "2999-01-01"})
    assert created.status_code == 201, created.text
    data = created.json()
    assert data["secret"].startswith("sk-og-")
    key = data["key"]
    assert key["models"] == ["llama3.2"] and key["rpm"] == 10 and key["tpm"] == 1000 and key["token_budget"] == 5000
    assert key["expires_at"].startswith("2999-01-01T00:00:00")
    listed = admin.get("/admin/api/keys").json()["keys"]
    assert [k["id"] for k in listed] == [key["id"]]
    assert data["secret"] not in admin.get("/admin/api/keys").text
    assert data["secret"] not in admin.get("/admin/keys").text


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"name": ""}, "name"),
        ({"name": "x", "rpm": -1}, "rpm"),
        ({"name": "x", "rpm": "many"}, "rpm"),
        ({"name": "x", "expires_at": "2000-01-01"}, "expires_at"),
        ({"name": "x", "expires_at": "soon"}, "expires_at"),
        ({"name": "x", "models": [1]}, "models"),
    ],
)
def test_invalid_key_fields(admin: Admin, body: dict[str, object], param: str) -> None:
    response = admin.send("POST", "/admin/api/keys", body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_revoke_takes_effect_at_once(admin: Admin) -> None:
    data = admin.send("POST", "/admin/api/keys", {"name": "short-lived"}).json()
    client = client_for(admin, data["secret"])
    client.models.list()  # now cached by the gateway's authenticator
    revoked = admin.send("DELETE", f"/admin/api/keys/{data['key']['id']}")
    assert revoked.status_code == 200 and revoked.json()["key"]["revoked"] is True
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


def test_update_limits_and_models(admin: Admin) -> None:
    key_id = admin.send("POST", "/admin/api/keys", {"name": "k", "rpm": 5}).json()["key"]["id"]
    updated = admin.send("PATCH", f"/admin/api/keys/{key_id}", {"rpm": None, "models": ["qwen3"], "name": "renamed"})
    key = updated.json()["key"]
    assert key["rpm"] is None and key["models"] == ["qwen3"] and key["name"] == "renamed"
    assert admin.send("PATCH", "/admin/api/keys/key_missing", {"rpm": 1}).status_code == 404
    assert admin.send("DELETE", "/admin/api/keys/key_missing").status_code == 404


def test_usage_per_key(admin: Admin, admin_server: object) -> None:
    data = admin.send("POST", "/admin/api/keys", {"name": "busy"}).json()
    client_for(admin, data["secret"]).chat.completions.create(
        model="llama3.2", messages=[{"role": "user", "content": "hi"}]
    )
    admin.server.flush_usage()
    keys = admin.get("/admin/api/keys").json()["keys"]
    assert keys[0]["usage_30d"]["requests"] == 1
    assert keys[0]["usage_30d"]["tokens"] > 0
