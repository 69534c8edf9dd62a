"""Outbound HTTP: the pooled Ollama client and the guarded image fetcher. Transport errors are mapped here, once."""
