"""Ollama's native wire format: the upstream side of every translation."""
