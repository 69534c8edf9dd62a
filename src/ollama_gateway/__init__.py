"""ollama-gateway: Ollama behind the OpenAI and Anthropic APIs."""

__version__ = "0.1.0"
