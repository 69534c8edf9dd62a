"""`python -m ollama_gateway`: the same command as `ollama-gateway`."""

from __future__ import annotations

from ollama_gateway.cli import main

if __name__ == "__main__":
    main()
