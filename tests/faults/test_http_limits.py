"""HTTP-level limits of `serve`'s server: header size (431), header and body read time (408), connection cap (503)."""

from __future__ import annotations

import resource
import socket
import time
from collections.abc import Callable

import pytest

from ollama_gateway.serving import raise_fd_limit
from tests.support.gateway import GatewayServer

LIMITS = {
    "http_max_header_bytes": 8192,
    "http_header_timeout": 0.5,
    "http_body_timeout": 0.5,
    "http_max_connections": 2,
}


@pytest.fixture
def limited(start_gateway: Callable[..., GatewayServer]) -> GatewayServer:
    """A gateway with small limits and short read timeouts."""
    return start_gateway(**LIMITS)


def _connect(server: GatewayServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def _read_response(sock: socket.socket) -> bytes:
    """Everything up to the end of one response (Content-Length) or until the server closes."""
    data = b""
    while True:
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            length = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
            if length and len(body) >= int(length[0].split(b":")[1]):
                return data
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def _get(path: str = "/healthz") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


def test_oversized_headers_get_431_before_they_are_all_read(limited: GatewayServer) -> None:
    with _connect(limited) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 20_000)  # never finished
        response = _read_response(sock)
    assert _status(response) == 431
    assert b"request headers exceed 8192 bytes" in response


def test_complete_headers_over_the_limit_get_431(limited: GatewayServer) -> None:
    with _connect(limited) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")
        assert _status(_read_response(sock)) == 431
    with _connect(limited) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fine: " + b"a" * 7000 + b"\r\n\r\n")
        assert _status(_read_response(sock)) == 200


def test_trickled_headers_get_408_after_the_header_timeout(limited: GatewayServer) -> None:
    started = time.monotonic()
    with _connect(limited) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and nothing more
        response = _read_response(sock)
    assert _status(response) == 408
    assert b"request headers not received" in response
    assert time.monotonic() - started < 5


def test_a_connection_that_sends_nothing_is_closed(limited: GatewayServer) -> None:
    started = time.monotonic()
    with _connect(limited) as sock:
        response = _read_response(sock)
    assert response == b"" or _status(response) == 408
    assert time.monotonic() - started < 5


def test_a_slow_body_gets_408_after_the_body_timeout(limited: GatewayServer, caplog: pytest.LogCaptureFixture) -> None:
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += f"Authorization: Bearer {limited.create_key()}\r\n".encode()
    with _connect(limited) as sock:
        sock.sendall(head + b"Content-Length: 100\r\n\r\n" + b'{"model":')
        response = _read_response(sock)
    assert _status(response) == 408
    assert b"request body not received" in response


def test_connections_past_the_cap_are_refused_with_503_and_retry_after(limited: GatewayServer) -> None:
    first, second = _connect(limited), _connect(limited)
    try:
        for sock in (first, second):  # two kept-alive connections: the cap
            sock.sendall(_get())
            assert _status(_read_response(sock)) == 200
        with _connect(limited) as third:
            third.sendall(_get())
            refused = _read_response(third)
        assert _status(refused) == 503
        assert b"retry-after: 1" in refused.lower()
        assert b"too many open connections" in refused
    finally:
        first.close()
    deadline = time.monotonic() + 5
    while True:  # once the server has noticed the closed connection, there is room again
        with _connect(limited) as fourth:
            fourth.sendall(_get())
            status = _status(_read_response(fourth))
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.02)  # polling a condition with a deadline
    second.close()
    assert status == 200


def test_the_soft_open_files_limit_is_raised_to_the_hard_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 512:
        pytest.skip("the hard limit leaves no room to test")
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    try:
        old, new = raise_fd_limit(hard if hard != resource.RLIM_INFINITY else 4096)
        assert old == 256
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == new > 256
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_responses_do_not_name_the_server_stack(gateway_server: GatewayServer) -> None:
    with _connect(gateway_server) as sock:
        sock.sendall(_get())
        head = _read_response(sock).split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 200")
    assert b"\r\ndate: " in head  # an origin server with a clock sends Date (RFC 9110)
    assert b"\r\nserver:" not in head
