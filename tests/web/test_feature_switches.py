"""TASK_STATUS=off and USAGE_TRACKING=off: the feature does no work, and everything else still does."""

from __future__ import annotations

from tests.web.conftest import ScriptedFactory

M = "http://host.test:11434"
CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


async def test_task_status_off_records_no_status(scripted_gateway: ScriptedFactory) -> None:
    async with scripted_gateway({M: ["m:latest"]}, task_status="off") as gw:
        headers = {"Authorization": f"Bearer {await gw.key()}", "X-Task-Id": "untracked-1"}
        answer = await gw.client.post("/v1/chat/completions", json=CHAT, headers=headers)
        assert answer.status_code == 200 and answer.headers["X-Task-Id"] == "untracked-1"
        assert gw.gateway.tracker.unwritten == 0
        await gw.gateway.tracker.flush()
        assert await gw.gateway.task_store.get("untracked-1") is None
        status = await gw.client.get("/tasks/status/untracked-1", headers=headers)
        assert status.status_code == 404
        await gw.gateway.usage.flush()  # usage is still recorded
        rows = await gw.gateway.storage.usage.query()
        assert [r.task_id for r in rows] == ["untracked-1"]


async def test_usage_tracking_off_writes_no_rows(scripted_gateway: ScriptedFactory) -> None:
    async with scripted_gateway({M: ["m:latest"]}, usage_tracking="off") as gw:
        headers = {"Authorization": f"Bearer {await gw.key()}", "X-Task-Id": "unbilled-1"}
        answer = await gw.client.post("/v1/chat/completions", json=CHAT, headers=headers)
        assert answer.status_code == 200
        await gw.gateway.usage.flush()
        assert await gw.gateway.storage.usage.query() == []
        await gw.gateway.tracker.flush()  # task status is still kept
        status = await gw.client.get("/tasks/status/unbilled-1", headers=headers)
        assert status.status_code == 200 and status.json()["state"] == "SUCCESS"
