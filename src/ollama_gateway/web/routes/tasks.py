"""The task status pull API: one task, the newest tasks, and cancellation; all scoped to the caller's key."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.errors import InvalidRequestError, NotFoundError
from ollama_gateway.tasks.document import validate_task_id, visible_to
from ollama_gateway.tasks.store import clamp_limit
from ollama_gateway.web.context import RequestContext, endpoint, json_response
from ollama_gateway.web.routes.openai import OPENAI


@endpoint(OPENAI, "/tasks/status/{task_id}")
async def task_status(ctx: RequestContext) -> Response:
    """The status document of one of the caller's tasks."""
    key = await ctx.authenticate()
    task_id = validate_task_id(ctx.request.path_params["task_id"])
    doc = await ctx.gateway.tracker.get(task_id)
    if doc is None or not visible_to(doc, key.id):
        raise NotFoundError(f"task '{task_id}' not found")
    return json_response(doc)


@endpoint(OPENAI, "/tasks/status")
async def task_list(ctx: RequestContext) -> Response:
    """The caller's newest tasks, newest first; `limit` is clamped to 1..500."""
    key = await ctx.authenticate()
    raw = ctx.request.query_params.get("limit", "50")
    try:
        limit = clamp_limit(int(raw))
    except ValueError as exc:
        raise InvalidRequestError("limit must be an integer", param="limit") from exc
    return json_response({"tasks": await ctx.gateway.tracker.list(key.id, limit)})


@endpoint(OPENAI, "/tasks/{task_id}")
async def task_cancel(ctx: RequestContext) -> Response:
    """Cancel one of the caller's running tasks: upstream closed, task FAILED "cancelled"."""
    key = await ctx.authenticate()
    task_id = validate_task_id(ctx.request.path_params["task_id"])
    if not await ctx.gateway.tracker.cancel(task_id, key.id):
        raise NotFoundError(f"no running task '{task_id}' of this key on this gateway")
    return json_response({"task_id": task_id, "state": "FAILED", "message": "cancelled"})


def routes() -> list[Route]:
    """The task routes."""
    return [
        Route("/tasks/status", task_list, methods=["GET"]),
        Route("/tasks/status/{task_id}", task_status, methods=["GET"]),
        Route("/tasks/{task_id}", task_cancel, methods=["DELETE"]),
    ]
