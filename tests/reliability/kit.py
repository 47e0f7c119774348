"""Wire and process helpers for the reliability tests.

``Wire`` speaks LSP base framing over a raw socket with a deadline on every
read, and can also send arbitrary bytes: the fuzzers need a client that is
*not* well behaved. ``Probe`` reads a test host's own view of itself (see
``hosts/probe.py``). ``proc_*`` read ``/proc`` for leak checks.

>>> encode({"jsonrpc": "2.0", "id": 1, "method": "x"})[:20]
b'Content-Length: 42\\r\\n'
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack

from reload_agent_client import protocol

__all__ = [
    "HOSTS",
    "Closed",
    "Wire",
    "encode",
    "connect",
    "Probe",
    "wait_for",
    "proc_fds",
    "proc_threads",
    "proc_rss_kb",
]

HOSTS = Path(__file__).parent / "hosts"


class Closed(Exception):
    """The agent closed the connection (EOF or reset)."""


def encode(message: Any, *, use_msgpack: bool = False) -> bytes:
    """One framed message, JSON or msgpack body."""
    if use_msgpack:
        body = msgpack.packb(message, use_bin_type=True)
        return b"Content-Length: %d\r\nContent-Type: %s\r\n\r\n%s" % (
            len(body), protocol.CONTENT_TYPE_MSGPACK.encode(), body)
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def connect(address: str, timeout: float = 5.0) -> socket.socket:
    """A connected socket to ``HOST:PORT`` or ``unix:PATH``."""
    if address.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target: Any = address[len("unix:"):]
    else:
        host, _, port = address.rpartition(":")
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        target = (host.strip("[]"), int(port))
    sock.settimeout(timeout)
    try:
        sock.connect(target)
    except BaseException:
        sock.close()
        raise
    return sock


class Wire:
    """A raw framed connection; every read has a deadline (``timeout`` seconds)."""

    def __init__(self, address: str, *, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.sock = connect(address, timeout)
        self._buf = b""
        self._next_id = 0
        #: Notifications received while waiting for responses, oldest first.
        self.notifications: list[dict[str, Any]] = []

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send_bytes(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, message: Any, *, use_msgpack: bool = False) -> None:
        self.sock.sendall(encode(message, use_msgpack=use_msgpack))

    def _fill(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no complete message from the agent before the deadline")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout as exc:
            raise TimeoutError("no complete message from the agent before the deadline") from exc
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise Closed(str(exc)) from exc
        if not chunk:
            raise Closed("EOF")
        self._buf += chunk

    def read_message(self, timeout: float | None = None) -> dict[str, Any]:
        """The next framed message (JSON or msgpack, by its Content-Type)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while b"\r\n\r\n" not in self._buf:
            self._fill(deadline)
        head, _, rest = self._buf.partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("ascii").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        length = int(headers["content-length"])
        while len(rest) < length:
            self._buf = head + b"\r\n\r\n" + rest
            self._fill(deadline)
            head, _, rest = self._buf.partition(b"\r\n\r\n")
        body, self._buf = rest[:length], rest[length:]
        if "msgpack" in headers.get("content-type", ""):
            return msgpack.unpackb(body, raw=False)
        return json.loads(body)

    def wait_closed(self, timeout: float | None = None) -> bool:
        """True once the agent closes the connection; False if it sends something else first."""
        try:
            self.read_message(timeout)
        except Closed:
            return True
        return False

    def response(self, request_id: Any, timeout: float | None = None) -> dict[str, Any]:
        """Read until the response to ``request_id``; notifications are kept aside."""
        while True:
            msg = self.read_message(timeout)
            if "method" in msg and "id" not in msg:
                self.notifications.append(msg)
            elif msg.get("id") == request_id:
                return msg
            elif "method" in msg:
                continue  # a server-to-client request (e.g. LSP registration): not ours to answer here
            else:
                raise AssertionError(f"response to an unknown id: {msg!r}")

    def request(self, method: str, params: Any = None, *, timeout: float | None = None,
                use_msgpack: bool = False) -> dict[str, Any]:
        """Send a request and return the whole response object (``result`` or ``error``)."""
        self._next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message, use_msgpack=use_msgpack)
        return self.response(self._next_id, timeout)

    def call(self, method: str, params: Any = None, **kw: Any) -> Any:
        """Like :meth:`request` but returns ``result`` and fails the test on an error."""
        reply = self.request(method, params, **kw)
        assert "error" not in reply, reply
        return reply["result"]

    def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def initialize(self, token: str | None, **kw: Any) -> dict[str, Any]:
        """Send ``initialize`` (with ``token`` when given) and return the response."""
        options = {} if token is None else {"token": token}
        return self.request(protocol.METHOD_INITIALIZE, {
            "processId": os.getpid(), "rootUri": None, "capabilities": {},
            "initializationOptions": options}, **kw)

    @classmethod
    def session(cls, address: str, token: str | None, **kw: Any) -> Wire:
        """A connection that has passed ``initialize``."""
        wire = cls(address, **kw)
        try:
            reply = wire.initialize(token)
            assert "result" in reply, reply
            wire.notify(protocol.METHOD_INITIALIZED, {})
        except BaseException:
            wire.close()
            raise
        return wire


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until truthy (for state with no event to wait on: files, /proc)."""
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


class Probe:
    """HTTP client for a host's ``hosts/probe.py`` endpoint."""

    def __init__(self, workdir: Path, timeout: float = 20.0) -> None:
        info_path = Path(workdir) / "probe.json"
        wait_for(info_path.exists, timeout, "the host's probe.json")
        self.port = json.loads(info_path.read_text())["port"]

    def get(self, route: str, **args: str) -> Any:
        query = "&".join(f"{k}={v}" for k, v in args.items())
        url = f"http://127.0.0.1:{self.port}/{route}" + (f"?{query}" if query else "")
        with urllib.request.urlopen(url, timeout=10) as reply:
            return json.load(reply)


def proc_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def proc_threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def proc_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")
