"""Conversation affinity: later turns of a chat go back to the host that served it, so Ollama reuses its KV cache.

A conversation is known by its opening (the system message(s) before the first user message, and that user
message), which every later turn repeats verbatim. The table maps that key to a host id, bounded in size and age.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from ollama_gateway.core.messages import ImagePart, Message, TextPart
from ollama_gateway.upstream.routing import canonical_model

KEY_BYTES = 16


def _field(digest: hashlib.blake2b, tag: bytes, data: bytes) -> None:
    """A tagged, length-prefixed field: no two different openings can produce the same byte stream."""
    digest.update(tag)
    digest.update(len(data).to_bytes(8, "big"))
    digest.update(data)


def _add_message(digest: hashlib.blake2b, message: Message) -> None:
    _field(digest, b"R", message.role.encode())
    for part in message.parts:
        if isinstance(part, TextPart):
            _field(digest, b"T", part.text.encode("utf-8", "surrogatepass"))
        elif isinstance(part, ImagePart):
            source = part.data if part.data is not None else f"url:{part.url or ''}"
            _field(
                digest, b"I", hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=KEY_BYTES).digest()
            )


def conversation_key(model: str, messages: Sequence[Message]) -> str | None:
    """A stable digest of the model and the conversation's opening; None when there is no user message."""
    digest = hashlib.blake2b(digest_size=KEY_BYTES, person=b"og-affinity")
    _field(digest, b"M", canonical_model(model).casefold().encode())
    for message in messages:
        if message.role == "system":
            _add_message(digest, message)
        elif message.role == "user":
            _add_message(digest, message)
            return digest.hexdigest()
    return None


class AffinityTable:
    """Conversation key → host id, least recently used evicted past `max_entries`, entries idle past the TTL gone."""

    def __init__(
        self, max_entries: int = 10_000, ttl_seconds: float = 900.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._ttl = ttl_seconds
        self._clock = clock
        # Every write and hit moves the key to the end with a fresh deadline, so deadlines ascend along the dict.
        self._entries: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def get(self, key: str) -> str | None:
        """The host this conversation last went to, or None (unknown or expired); a hit renews the entry."""
        now = self._clock()
        self._expire(now)
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries[key] = (entry[0], now + self._ttl)
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: str, host_id: str) -> None:
        """Remember that this conversation went to `host_id`."""
        now = self._clock()
        self._expire(now)
        self._entries[key] = (host_id, now + self._ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def forget_host(self, host_id: str) -> None:
        """Drop every conversation pinned to `host_id` (it was removed or went down)."""
        for key in [k for k, (host, _) in self._entries.items() if host == host_id]:
            del self._entries[key]

    def _expire(self, now: float) -> None:
        while self._entries:
            key, (_, deadline) = next(iter(self._entries.items()))
            if deadline > now:
                return
            del self._entries[key]

    def __len__(self) -> int:
        self._expire(self._clock())
        return len(self._entries)
