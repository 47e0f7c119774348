"""A minimal raw-socket JSON-RPC client for tests (deliberately not the project's client library).

It frames messages itself, can speak msgpack per message, can send arbitrary
bytes, and puts a deadline on every read, so framing, auth and malformed-input
tests exercise the agent and nothing else.

>>> frame({"jsonrpc": "2.0", "id": 1, "method": "x"})[:19]
b'Content-Length: 42\\r'
"""

from __future__ import annotations

import itertools
import json
import socket
import time
from typing import Any

import msgpack

from reload_agent_client.protocol import CONTENT_TYPE_MSGPACK, METHOD_INITIALIZE

__all__ = ["Closed", "RawClient", "frame", "connect"]


class Closed(Exception):
    """The agent closed the connection."""


def frame(message: Any, *, use_msgpack: bool = False) -> bytes:
    """Frame one message with LSP base headers (JSON or msgpack body)."""
    if use_msgpack:
        body = msgpack.packb(message, use_bin_type=True)
        return b"Content-Length: %d\r\nContent-Type: %s\r\n\r\n" % (len(body), CONTENT_TYPE_MSGPACK.encode()) + body
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def connect(address: str, timeout: float = 5.0) -> socket.socket:
    """A socket connected to ``HOST:PORT`` or ``unix:PATH``."""
    if address.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target: Any = address[5:]
    else:
        host, _, port = address.rpartition(":")
        host = host.strip("[]")
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        target = (host, int(port))
    sock.settimeout(timeout)
    if sock.family != socket.AF_UNIX:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.connect(target)
    except BaseException:
        sock.close()
        raise
    return sock


class RawClient:
    """One connection. Notifications read while waiting for a reply are kept in :attr:`notifications`."""

    def __init__(self, address: str, *, timeout: float = 10.0):
        self.timeout = timeout
        self.sock = connect(address, timeout)
        self._buf = b""
        self._ids = itertools.count(1)
        self.notifications: list[dict[str, Any]] = []
        #: Whether each message read so far had a msgpack body, in order.
        self.encodings: list[bool] = []

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ----------------------------------------------------------------------------------

    def send(self, message: dict[str, Any], *, use_msgpack: bool = False) -> None:
        self.sock.sendall(frame(message, use_msgpack=use_msgpack))

    def send_bytes(self, data: bytes) -> None:
        self.sock.sendall(data)

    def notify(self, method: str, params: Any = None, *, use_msgpack: bool = False) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params}, use_msgpack=use_msgpack)

    def request(self, method: str, params: Any = None, *, use_msgpack: bool = False) -> dict[str, Any]:
        """Send a request and return its whole response message (``result`` or ``error``)."""
        msg_id = next(self._ids)
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}, use_msgpack=use_msgpack)
        return self.wait_response(msg_id)

    def initialize(self, token: str | None, **extra: Any) -> dict[str, Any]:
        """``initialize`` with ``initializationOptions.token``, then ``initialized``."""
        params: dict[str, Any] = {"processId": None, "rootUri": None, "capabilities": {}, **extra}
        if token is not None:
            params["initializationOptions"] = {"token": token}
        response = self.request(METHOD_INITIALIZE, params)
        if "result" in response:
            self.notify("initialized", {})
        return response

    # -- reading ----------------------------------------------------------------------------------

    def read_message(self, timeout: float | None = None) -> dict[str, Any]:
        """The next message; raises :class:`Closed` at EOF and ``TimeoutError`` past the deadline."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while b"\r\n\r\n" not in self._buf:
            self._fill(deadline)
        head, _, rest = self._buf.partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("ascii").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers["content-length"])
        self._buf = rest
        while len(self._buf) < length:
            self._fill(deadline)
        body, self._buf = self._buf[:length], self._buf[length:]
        is_msgpack = headers.get("content-type", "").startswith(CONTENT_TYPE_MSGPACK)
        self.encodings.append(is_msgpack)
        return msgpack.unpackb(body, raw=False) if is_msgpack else json.loads(body)

    def wait_response(self, msg_id: Any, timeout: float | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            message = self.read_message(max(deadline - time.monotonic(), 0.001))
            if "method" not in message and message.get("id") == msg_id:
                return message
            if "method" in message:
                self.notifications.append(message)

    def wait_notification(self, method: str, timeout: float | None = None) -> dict[str, Any]:
        """The first notification named ``method`` (already received or arriving before the deadline)."""
        for i, message in enumerate(self.notifications):
            if message.get("method") == method:
                return self.notifications.pop(i)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            message = self.read_message(max(deadline - time.monotonic(), 0.001))
            if message.get("method") == method:
                return message
            self.notifications.append(message)

    def expect_closed(self, timeout: float | None = None) -> None:
        """Wait until the agent closes the connection (raises ``TimeoutError`` if it does not)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        try:
            while True:
                self._fill(deadline)
        except Closed:
            return

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no message from the agent before the deadline")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("no message from the agent before the deadline") from None
        except (ConnectionResetError, BrokenPipeError):
            raise Closed("connection reset") from None
        if not chunk:
            raise Closed("connection closed by the agent")
        self._buf += chunk
