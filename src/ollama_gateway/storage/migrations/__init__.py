"""Alembic migrations for the storage schema, run in code by `ollama_gateway.storage.migrate`."""
