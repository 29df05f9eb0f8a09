"""Slow and vanishing clients against `feedbackql serve` (a subprocess, over real sockets):
connections that send their headers slowly are cut off (slowloris), and clients that hang up
mid-request are not logged as failures of the application."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.served import KEY, Service, service

HEADER_TIMEOUT = 2.0
BOUND = HEADER_TIMEOUT + 4  # generous: a loaded machine may be late in closing


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, mongodb_uri: str) -> Iterator[Service]:
    with service(tmp_path_factory.mktemp("slow"), mongodb_uri, header_timeout_seconds=HEADER_TIMEOUT,
                 keep_alive_seconds=1) as running:
        yield running


def _held(sock: socket.socket, for_seconds: float = 30) -> float:
    """Send a header byte every 0.3 s; seconds until the server hung up (sending then fails)."""
    started = time.monotonic()
    while time.monotonic() - started < for_seconds:
        time.sleep(0.3)
        try:
            sock.sendall(b"X")
        except (BrokenPipeError, ConnectionResetError):
            break
    return time.monotonic() - started


def test_a_client_trickling_header_bytes_is_cut_off(server: Service) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        held = _held(sock)
    assert held < BOUND, f"held {held:.1f} s"
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_the_next_request_on_a_kept_alive_connection_has_the_same_bound(server: Service) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"200 OK" in sock.recv(4096)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        held = _held(sock)
    assert held < BOUND, f"held {held:.1f} s"


def test_a_slow_body_is_not_cut_off(server: Service) -> None:
    """The deadline is for headers only: a body may take longer (the request timeout bounds it)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        body = b'{"query": "{ __typename }"}'
        sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Authorization: Bearer " + KEY.encode() + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        for byte in body:
            time.sleep((HEADER_TIMEOUT + 1) / len(body))
            sock.sendall(bytes([byte]))
        answer = _response(sock)
    assert b"200 OK" in answer, answer
    assert b'"__typename":"Query"' in answer.replace(b" ", b"")


def _response(sock: socket.socket) -> bytes:
    """A whole HTTP response: headers and a body of Content-Length (they may come apart)."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(4096)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(4096)
    return head + b"\r\n\r\n" + body


def _log_since(server: Service, offset: int) -> str:
    return server.log.read_bytes()[offset:].decode(errors="replace")


def test_a_client_hanging_up_mid_request_is_no_application_error(server: Service) -> None:
    offset = server.log.stat().st_size
    body = b'{"query": "{ me { id } }"}'
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:  # half a body
        sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Authorization: Bearer " + KEY.encode() + b"\r\nContent-Length: 500\r\n\r\n" + body[:10])
        time.sleep(0.3)
    for _ in range(5):  # a whole request, gone before its answer
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Authorization: Bearer " + KEY.encode() + b"\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
    time.sleep(1.5)
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    logged = _log_since(server, offset)
    assert "Exception in ASGI application" not in logged, logged
    assert "Traceback" not in logged, logged
