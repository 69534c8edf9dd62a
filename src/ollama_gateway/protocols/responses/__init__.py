"""OpenAI Responses API (`POST /v1/responses`), stateless: decode to core, encode core events back."""

from ollama_gateway.protocols.responses.decode import ResponsesOptions, decode_response_request
from ollama_gateway.protocols.responses.encode import encode_response
from ollama_gateway.protocols.responses.stream import ResponsesStreamEncoder

__all__ = ["ResponsesOptions", "ResponsesStreamEncoder", "decode_response_request", "encode_response"]
