"""Application services: the per-request exchange, key auth, the model catalog and the runtime that owns them.

This is where core, protocols/ollama, upstream, policy, storage and tasks meet; web/ and cli/ call in here.
"""
