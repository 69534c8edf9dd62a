"""Redis task store: the seed's `ts:ollama:<task_id>` keys, a sorted-set index, and a circuit breaker."""

from __future__ import annotations

import asyncio
import builtins
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, TypeVar

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from ollama_gateway.settings import Settings
from ollama_gateway.tasks.document import TaskDocument, decode_document, encode_document, owner_of
from ollama_gateway.tasks.store import (
    LIST_LIMIT_DEFAULT,
    TaskStoreUnavailableError,
    clamp_limit,
    store_error_counter,
    with_owner,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

KEY_PREFIX: Final = "ts:ollama:"
# Every task key starts with "ts:ollama:", so no task id (not even "index") can produce a key that
# starts with "ts:ollama-index"; the index keys live in that separate namespace. The owner part is
# prefixed too ("key:" versus the bare "all"), so an owner named "all" cannot collide with the global one.
INDEX_ALL: Final = "ts:ollama-index:all"
INDEX_OWNER_PREFIX: Final = "ts:ollama-index:key:"
DEFAULT_INDEX_MAX: Final = 100_000
DEFAULT_RETRY_AFTER: Final = 1.0
DEFAULT_MAX_CONNECTIONS: Final = 100
_LIST_PAGES_MAX: Final = 4
_RETRYABLE: Final = (RedisError, OSError, TimeoutError)


def task_key(task_id: str) -> str:
    """The Redis key of a task's document."""
    return KEY_PREFIX + task_id


def index_key(owner: str | None) -> str:
    """The sorted set listing `owner`'s tasks (None: every task)."""
    return INDEX_ALL if owner is None else INDEX_OWNER_PREFIX + owner


class RedisTaskStore:
    """Task documents in Redis; an outage skips writes (counted, logged once) and fails reads fast."""

    def __init__(
        self,
        client: Redis[bytes],
        *,
        index_ttl: int = 86_400,
        index_max: int = DEFAULT_INDEX_MAX,
        op_timeout: float = 1.0,
        retry_after: float = DEFAULT_RETRY_AFTER,
        registry: CollectorRegistry | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        self._client = client
        # One slot per pooled connection: a burst (say, every request after a Redis restart) waits for a
        # connection within its own deadline instead of overflowing the pool, which redis-py reports as a
        # connection error and which would trip the breaker although Redis is fine.
        self._slots = asyncio.Semaphore(max(1, max_connections))
        self._index_ttl = index_ttl
        self._index_max = max(1, index_max)
        self._op_timeout = op_timeout
        self._retry_after = retry_after
        self._errors = store_error_counter(registry)
        self._down_until = 0.0
        self._down = False
        self._last_score = 0

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        timeout: float = 0.5,
        index_ttl: int = 86_400,
        retry_after: float = DEFAULT_RETRY_AFTER,
        registry: CollectorRegistry | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> RedisTaskStore:
        """A store on a lazily connecting client: the gateway starts and serves even if Redis is down."""
        client: Redis[bytes] = Redis.from_url(
            url,
            max_connections=max(1, max_connections),
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            # One immediate retry on a broken connection (a pooled socket from before a Redis restart),
            # none on timeouts: a stalled Redis must cost at most one timeout per operation.
            retry=Retry(NoBackoff(), 1, (RedisConnectionError,)),
            health_check_interval=0,
        )
        return cls(
            client,
            index_ttl=index_ttl,
            op_timeout=2 * timeout + 0.1,
            retry_after=retry_after,
            registry=registry,
            max_connections=max_connections,
        )

    @classmethod
    def from_settings(cls, settings: Settings, *, registry: CollectorRegistry | None = None) -> RedisTaskStore:
        """The store configured by REDIS_URL (or REDIS_HOST/...), `redis_timeout` and `ttl_done`."""
        url = settings.redis_connection_url()
        if url is None:
            raise ValueError("no Redis configured (REDIS_URL or REDIS_HOST)")
        return cls.from_url(
            url,
            timeout=settings.redis_timeout,
            index_ttl=settings.ttl_done,
            registry=registry,
            max_connections=settings.redis_max_connections,
        )

    @property
    def shared(self) -> bool:
        """True: every gateway process on this Redis reads it."""
        return True

    @property
    def healthy(self) -> bool:
        """False from a failed operation until one succeeds again."""
        return not self._down

    async def put(self, doc: TaskDocument, ttl: int, owner: str | None) -> bool:
        """SET the document with EX `ttl` and index it; False (never an exception) when Redis is down."""
        return (await self.put_many([(doc, ttl, owner)]))[0]

    async def put_many(self, items: Sequence[tuple[TaskDocument, int, str | None]]) -> builtins.list[bool]:
        """`put` each (document, ttl, owner) in one round trip (each index trimmed once); all False when down."""
        if not items:
            return []
        if self._breaker_open():
            self._errors.labels("redis", "put").inc()
            return [False] * len(items)
        now_ms = int(time.time() * 1000)
        touched: set[str] = set()

        async def write() -> None:
            async with self._client.pipeline(transaction=False) as pipe:
                for doc, ttl, owner in items:
                    stored = with_owner(doc, owner)
                    task_id = stored["task_id"]
                    score = self._next_score()
                    pipe.set(task_key(task_id), encode_document(stored), ex=max(1, ttl))
                    for index in (INDEX_ALL,) if owner is None else (INDEX_ALL, index_key(owner)):
                        pipe.zadd(index, {task_id: score})
                        touched.add(index)
                for index in touched:
                    pipe.zremrangebyscore(index, "-inf", now_ms - self._index_ttl * 1000)
                    pipe.zremrangebyrank(index, 0, -self._index_max - 1)
                    pipe.expire(index, self._index_ttl)
                await pipe.execute()

        try:
            await self._call("put", write)
        except TaskStoreUnavailableError:
            return [False] * len(items)
        return [True] * len(items)

    async def get(self, task_id: str) -> TaskDocument | None:
        """The document, None if missing; TaskStoreUnavailableError while Redis is down."""
        if self._breaker_open():
            self._errors.labels("redis", "get").inc()
            raise TaskStoreUnavailableError()
        raw = await self._call("get", lambda: self._client.get(task_key(task_id)))
        return decode_document(raw)

    async def list(self, owner: str | None, limit: int = LIST_LIMIT_DEFAULT) -> list[TaskDocument]:
        """Newest first via ZREVRANGE + MGET, dropping ids whose document expired; limit clamped to 1..500."""
        if self._breaker_open():
            self._errors.labels("redis", "list").inc()
            raise TaskStoreUnavailableError()
        limit = clamp_limit(limit)
        index = index_key(owner)
        found: list[TaskDocument] = []
        stale: list[str] = []
        start = 0
        for _ in range(_LIST_PAGES_MAX):
            ids = await self._call("list", self._page(index, start, start + limit - 1))
            if not ids:
                break
            raws = await self._call("list", self._mget(ids))
            for task_id, raw in zip(ids, raws, strict=True):
                doc = decode_document(raw)
                # A document re-owned since it was indexed (reused id) no longer belongs in this index.
                if doc is None or (owner is not None and owner_of(doc) != owner):
                    stale.append(task_id)
                    continue
                found.append(doc)
                if len(found) >= limit:
                    break
            if len(found) >= limit or len(ids) < limit:
                break
            start += len(ids)
        if stale:
            await self._call("list", lambda: self._client.zrem(index, *stale))
        return found

    async def close(self) -> None:
        """Close the client and its connection pool."""
        await self._client.aclose()  # type: ignore[attr-defined,unused-ignore]

    def _page(self, index: str, start: int, stop: int) -> Callable[[], Awaitable[builtins.list[str]]]:
        async def run() -> builtins.list[str]:
            members = await self._client.zrevrange(index, start, stop)
            return [m.decode() if isinstance(m, bytes) else str(m) for m in members]

        return run

    def _mget(self, ids: builtins.list[str]) -> Callable[[], Awaitable[builtins.list[bytes | None]]]:
        async def run() -> builtins.list[bytes | None]:
            return list(await self._client.mget([task_key(task_id) for task_id in ids]))

        return run

    async def _call(self, op: str, action: Callable[[], Awaitable[T]]) -> T:
        """Run one Redis operation under a hard deadline (waiting for a pooled connection included).

        Only a failure while talking to Redis feeds the circuit breaker; a deadline spent waiting for a free
        connection is this process being busy, and only this operation fails.
        """
        talking = False
        try:
            async with asyncio.timeout(self._op_timeout), self._slots:
                talking = True
                result = await action()
        except _RETRYABLE as exc:
            self._errors.labels("redis", op).inc()
            if talking:
                self._trip(exc)
            raise TaskStoreUnavailableError() from exc
        if self._down:
            self._down = False
            log.warning("task store: Redis is reachable again; task tracking resumed")
        return result

    def _breaker_open(self) -> bool:
        return self._down and time.monotonic() < self._down_until

    def _trip(self, exc: BaseException) -> None:
        self._down_until = time.monotonic() + self._retry_after
        if not self._down:
            self._down = True
            log.warning(
                "task store: Redis unavailable (%s: %s); status writes are skipped, retrying every %.1fs",
                type(exc).__name__,
                exc,
                self._retry_after,
            )

    def _next_score(self) -> int:
        # Milliseconds, made strictly increasing in this process so same-millisecond writes keep their order.
        self._last_score = max(self._last_score + 1, int(time.time() * 1000))
        return self._last_score
