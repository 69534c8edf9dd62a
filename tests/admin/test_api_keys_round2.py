"""Admin API for keys, second round: rotation with a grace period, permanent delete, budget periods, last use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import openai
import pytest
import sqlalchemy as sa

from ollama_gateway.service.runtime import Gateway
from ollama_gateway.storage.tables import api_keys

from .conftest import Admin
from .test_api_keys import client_for


def _chat(admin: Admin, secret: str) -> None:
    with client_for(admin, secret) as client:  # closed here, even when an error keeps its response referenced
        client.chat.completions.create(model="llama3.2", messages=[{"role": "user", "content": "hi"}])


def test_rotate_without_grace_stops_the_old_secret_at_once(admin: Admin) -> None:
    data = admin.send("POST", "/admin/api/keys", {"name": "app"}).json()
    old = data["secret"]
    client_for(admin, old).models.list()  # cached by the authenticator
    rotated = admin.send("POST", f"/admin/api/keys/{data['key']['id']}/rotate", {"grace_seconds": 0})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new.startswith("sk-og-") and new != old
    assert rotated.json()["key"]["id"] == data["key"]["id"]  # same key: limits and usage carry over
    with pytest.raises(openai.AuthenticationError):
        client_for(admin, old).models.list()
    client_for(admin, new).models.list()
    assert new not in admin.get("/admin/api/keys").text


def test_rotate_with_grace_keeps_the_old_secret_until_it_ends(admin: Admin) -> None:
    data = admin.send("POST", "/admin/api/keys", {"name": "app"}).json()
    key_id = data["key"]["id"]
    rotated = admin.send("POST", f"/admin/api/keys/{key_id}/rotate", {"grace_seconds": 3600}).json()
    client_for(admin, data["secret"]).models.list()  # still valid during the grace
    client_for(admin, rotated["secret"]).models.list()
    grace_end = datetime.fromisoformat(rotated["key"]["previous_secret_expires_at"])
    assert timedelta(minutes=59) < grace_end - datetime.now(UTC) <= timedelta(hours=1)

    async def end_grace(gateway: Gateway) -> None:
        # What the passing of the hour does: the grace ends (set in the database, as time would).
        async with gateway.storage.database.engine.begin() as connection:
            past = datetime.now(UTC) - timedelta(seconds=1)
            await connection.execute(
                sa.update(api_keys).where(api_keys.c.id == key_id).values(previous_secret_expires_at=past)
            )
        gateway.auth.forget(key_id)

    admin.server.call(end_grace)
    with pytest.raises(openai.AuthenticationError):
        client_for(admin, data["secret"]).models.list()
    client_for(admin, rotated["secret"]).models.list()


def test_rotate_refuses_bad_grace_unknown_and_revoked_keys(admin: Admin) -> None:
    key_id = admin.send("POST", "/admin/api/keys", {"name": "app"}).json()["key"]["id"]
    assert admin.send("POST", f"/admin/api/keys/{key_id}/rotate", {"grace_seconds": -1}).status_code == 400
    assert admin.send("POST", f"/admin/api/keys/{key_id}/rotate", {"grace_seconds": 10**9}).status_code == 400
    assert admin.send("POST", "/admin/api/keys/key_missing/rotate", {}).status_code == 404
    admin.send("DELETE", f"/admin/api/keys/{key_id}")
    assert admin.send("POST", f"/admin/api/keys/{key_id}/rotate", {}).status_code == 404


def test_permanent_delete_removes_the_key(admin: Admin) -> None:
    data = admin.send("POST", "/admin/api/keys", {"name": "gone"}).json()
    client_for(admin, data["secret"]).models.list()
    deleted = admin.send("DELETE", f"/admin/api/keys/{data['key']['id']}?permanent=1")
    assert deleted.status_code == 200 and deleted.json() == {"deleted": data["key"]["id"]}
    assert admin.get("/admin/api/keys").json()["keys"] == []
    with pytest.raises(openai.AuthenticationError):
        client_for(admin, data["secret"]).models.list()
    assert admin.send("DELETE", f"/admin/api/keys/{data['key']['id']}?permanent=1").status_code == 404


def test_budget_period_is_shown_with_the_remaining_amount_and_resets(admin: Admin) -> None:
    body = {"name": "daily", "token_budget": 1000, "budget_period": "daily"}
    key = admin.send("POST", "/admin/api/keys", body).json()["key"]
    assert key["budget_period"] == "daily"
    assert key["budget"]["period"] == "daily" and key["budget"]["remaining"] == 1000
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert datetime.fromisoformat(key["budget"]["resets_at"]) == tomorrow
    assert admin.send("POST", "/admin/api/keys", {**body, "budget_period": "hourly"}).status_code == 400
    lifetime = admin.send("PATCH", f"/admin/api/keys/{key['id']}", {"budget_period": "lifetime"}).json()["key"]
    assert lifetime["budget_period"] is None and lifetime["budget"]["period"] == "lifetime"
    assert lifetime["budget"]["resets_at"] is None


def test_an_exhausted_daily_budget_starts_again_the_next_day(admin: Admin) -> None:
    secret = admin.send("POST", "/admin/api/keys", {"name": "d", "token_budget": 1, "budget_period": "daily"}).json()[
        "secret"
    ]
    key_id = admin.get("/admin/api/keys").json()["keys"][0]["id"]
    _chat(admin, secret)  # admitted (0 used), then charged more than the budget
    admin.server.call(lambda g: g.limiter.drain())
    with pytest.raises(openai.RateLimitError) as refused:
        _chat(admin, secret)
    midnight = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    retry_after = int(refused.value.response.headers["retry-after"])
    assert abs(retry_after - (midnight - datetime.now(UTC)).total_seconds()) < 60  # waits for the new period
    listed = admin.get("/admin/api/keys").json()["keys"][0]
    assert listed["budget"]["remaining"] == 0

    async def as_if_yesterday(gateway: Gateway) -> None:
        async with gateway.storage.database.engine.begin() as connection:
            start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
            await connection.execute(
                sa.update(api_keys).where(api_keys.c.id == key_id).values(budget_period_start=start)
            )

    admin.server.call(as_if_yesterday)
    _chat(admin, secret)  # a new period: admitted again
    admin.server.call(lambda g: g.limiter.drain())
    assert admin.get("/admin/api/keys").json()["keys"][0]["budget"]["used"] > 0


def test_last_used_is_recorded_for_keys_without_limits(admin: Admin) -> None:
    data = admin.send("POST", "/admin/api/keys", {"name": "plain"}).json()
    assert data["key"]["last_used_at"] is None
    _chat(admin, data["secret"])
    assert admin.server.call(lambda g: _pending(g)) == 1  # noted in memory, not yet written
    admin.server.call(lambda g: g.last_used.flush())
    listed = admin.get("/admin/api/keys").json()["keys"][0]
    assert listed["last_used_at"] is not None
    assert datetime.now(UTC) - datetime.fromisoformat(listed["last_used_at"]) < timedelta(minutes=1)


async def _pending(gateway: Gateway) -> int:
    return gateway.last_used.pending


def test_every_change_is_in_the_audit_log(admin: Admin) -> None:
    key_id = admin.send("POST", "/admin/api/keys", {"name": "audited"}).json()["key"]["id"]
    admin.send("PATCH", f"/admin/api/keys/{key_id}", {"rpm": 3})
    admin.send("POST", f"/admin/api/keys/{key_id}/rotate", {})
    admin.send("DELETE", f"/admin/api/keys/{key_id}")
    admin.send("PUT", "/admin/api/settings", {"request_timeout_ms": 120000})
    entries = admin.get("/admin/api/audit").json()["entries"]
    actions = [e["action"] for e in entries]
    assert actions[:6] == ["settings.update", "key.revoke", "key.rotate", "key.update", "key.create", "login"]
    update = entries[3]
    assert update["target"] == key_id and update["detail"]["fields"] == ["rpm"] and update["detail"]["rpm"] == 3
    assert entries[0]["detail"] == {"request_timeout_ms": 120000}
    assert all(e["actor"].startswith("admin") and e["client_ip"] == "127.0.0.1" for e in entries)
    only_keys = admin.get("/admin/api/audit?action=key.").json()["entries"]
    assert {e["action"] for e in only_keys} == {"key.create", "key.update", "key.rotate", "key.revoke"}
    page = admin.get("/admin/audit?action=key.")
    assert page.status_code == 200 and "key.rotate" in page.text and key_id in page.text
