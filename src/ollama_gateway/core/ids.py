"""Random identifiers for requests, responses and status events, cheap enough for every request.

`os.urandom` is a system call; ids are drawn from a batch of its bytes instead (one call per 256 ids), which
keeps them as unpredictable as `secrets` while costing a fraction. A forked child drops the batch it
inherited, so no two processes hand out the same id.
"""

from __future__ import annotations

import os
from typing import Final


class _Entropy:
    """os.urandom in batches."""

    __slots__ = ("_batch", "_offset")
    SIZE: Final = 4096

    def __init__(self) -> None:
        self._batch = b""
        self._offset = self.SIZE

    def forget(self) -> None:
        """Drop the batch (a forked child must not hand out its parent's ids)."""
        self._offset = self.SIZE

    def take(self, size: int) -> bytes:
        """`size` (at most SIZE) random bytes."""
        if self._offset + size > self.SIZE:
            self._batch, self._offset = os.urandom(self.SIZE), 0
        start = self._offset
        self._offset = start + size
        return self._batch[start : start + size]


_ENTROPY: Final = _Entropy()
os.register_at_fork(after_in_child=_ENTROPY.forget)
_VARIANT: Final = "89ab89ab89ab89ab"


def random_hex(nbytes: int) -> str:
    """`nbytes` random bytes as lower-case hex, like `secrets.token_hex(nbytes)`."""
    return _ENTROPY.take(nbytes).hex()


def uuid4_string() -> str:
    """A random UUID (version 4) in its canonical text form, like `str(uuid.uuid4())`."""
    h = _ENTROPY.take(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16)]}{h[17:20]}-{h[20:]}"
