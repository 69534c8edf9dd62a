"""OpenAI wire format: chat completions, text completions, embeddings and models; pure translators."""
