"""Random ids from batched entropy: the right shapes, no repeats across batches, and none shared with a fork."""

from __future__ import annotations

import os
import re
import uuid

from ollama_gateway.core.ids import random_hex, uuid4_string


def test_shapes_and_no_repeats_across_batches() -> None:
    ids = [uuid4_string() for _ in range(1000)] + [random_hex(12) for _ in range(1000)]  # many 4 KiB batches
    assert len(set(ids)) == len(ids)
    for value in ids[:1000]:
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == value
    assert all(re.fullmatch(r"[0-9a-f]{24}", value) for value in ids[1000:])


def test_a_forked_child_makes_its_own_ids() -> None:
    uuid4_string()  # the parent holds a batch of entropy now
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ids and leave at once
        os.write(write_end, f"{uuid4_string()} {random_hex(12)}".encode())
        os._exit(0)
    os.close(write_end)
    child_uuid, child_hex = os.read(read_end, 200).decode().split()
    os.close(read_end)
    os.waitpid(pid, 0)
    assert child_uuid != uuid4_string()
    assert child_hex != random_hex(12)
