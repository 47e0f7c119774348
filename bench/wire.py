"""A minimal blocking JSON-RPC client with LSP framing, the same for every server measured.

Used where the server is what is measured (round trips, listModules, reloads
through the agent), so client-side costs are identical for the agent and the
bare baseline. The project's own client and CLI are measured separately (3).
"""

from __future__ import annotations

import json
import socket
from typing import Any

__all__ = ["WireClient", "RpcError"]


class RpcError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.error = error


class WireClient:
    """One connection; :meth:`request` sends and waits for the matching answer.

    Notifications that arrive in between (``reloadAgent/didReload``) are counted and dropped.
    """

    def __init__(self, address: str, timeout: float = 30.0) -> None:
        if address.startswith("unix:"):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(address[5:])
        else:
            host, _, port = address.rpartition(":")
            self.sock = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = b""
        self._next_id = 0
        self.notifications = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> WireClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def initialize(self, token: str | None) -> dict[str, Any]:
        options = {"token": token} if token else {}
        result = self.request("initialize", {"processId": None, "capabilities": {}, "initializationOptions": options})
        self.notify("initialized", {})
        return result

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any = None) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RpcError(reply["error"])
                return reply.get("result")
            self.notifications += 1

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message, separators=(",", ":")).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def _receive(self) -> dict[str, Any]:
        while (end := self._buf.find(b"\r\n\r\n")) < 0:
            self._fill()
        length = None
        for line in self._buf[:end].split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise ConnectionError("message without Content-Length")
        start = end + 4
        while len(self._buf) < start + length:
            self._fill()
        body, self._buf = self._buf[start : start + length], self._buf[start + length :]
        return json.loads(body)

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self._buf += chunk
