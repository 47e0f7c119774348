"""Addresses and listening sockets: the part of the transport that runs in the host's thread.

``listen()`` binds before it returns, so this module stays cheap to import (no
asyncio, no dataclasses, no ipaddress, not even the ``socket`` module, whose enums
cost the host ~2 ms: sockets are bound with ``_socket`` and wrapped by
:func:`adopt` on the agent thread).

>>> str(parse_address("127.0.0.1:0")), parse_address("[::1]:80").host
('127.0.0.1:0', '::1')
>>> parse_address("unix:/tmp/agent.sock").kind, parse_address("0.0.0.0:1").is_loopback
('unix', False)
"""

from __future__ import annotations

import _socket
import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket

__all__ = ["Address", "parse_address", "bind", "adopt"]

_LOOPBACK_NAMES = ("localhost", "::1")


class Address:
    """Where the agent listens: ``HOST:PORT`` (TCP) or ``unix:PATH``."""

    __slots__ = ("kind", "host", "port", "path")

    def __init__(self, kind: str, host: str = "", port: int = 0, path: str = ""):
        self.kind = kind
        self.host = host
        self.port = port
        self.path = path

    def __str__(self) -> str:
        if self.kind == "unix":
            return f"unix:{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __repr__(self) -> str:
        return f"Address({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Address) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    @property
    def is_loopback(self) -> bool:
        """True for Unix sockets and loopback TCP hosts (``localhost``, ``127.x.x.x``, ``::1``)."""
        return self.kind == "unix" or self.host in _LOOPBACK_NAMES or self.host.startswith("127.")


def parse_address(text: str) -> Address:
    """Parse ``HOST:PORT``, ``[V6]:PORT``, ``:PORT`` (loopback) or ``unix:PATH``."""
    text = text.strip()
    if text.startswith("unix:"):
        path = text[len("unix:") :]
        if not path:
            raise ValueError("unix: address needs a path")
        return Address("unix", path=os.path.abspath(os.path.expanduser(path)))
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"address must be HOST:PORT or unix:PATH, got {text!r}")
    return Address("tcp", host=host.strip("[]") or "127.0.0.1", port=int(port))


def bind(address: Address) -> tuple[_socket.socket, Address]:
    """Bind and listen synchronously; return the (bare ``_socket``) socket and the address with the real port.

    A Unix socket gets mode 0600. A leftover socket file whose agent is gone is
    replaced; one with a live listener is an error (two agents must not share a path).
    """
    if address.kind == "unix":
        return _bind_unix(address.path), address
    # An ASCII host goes in as bytes: a str would be IDNA-encoded, which imports unicodedata in the host's thread.
    host: str | bytes = address.host.encode("ascii") if address.host.isascii() else address.host
    family, kind, proto, _, sockaddr = _socket.getaddrinfo(
        host, address.port, 0, _socket.SOCK_STREAM, 0, _socket.AI_PASSIVE
    )[0]
    # proto matters: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say IPPROTO_TCP, and without
    # that a notification followed by a reply waits out the peer's delayed ACK (~40 ms).
    sock = _socket.socket(family, kind, proto or _socket.IPPROTO_TCP)
    try:
        sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
        sock.bind(sockaddr)
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock, Address("tcp", host=address.host, port=sock.getsockname()[1])


def adopt(sock: _socket.socket) -> socket.socket:
    """The full ``socket.socket`` for a socket made by :func:`bind` (asyncio needs one); ``sock`` is detached."""
    import socket

    return socket.socket(sock.family, sock.type, sock.proto, fileno=sock.detach())


def _bind_unix(path: str) -> _socket.socket:
    if os.path.lexists(path):
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            raise FileExistsError(f"{path} exists and is not a socket")
        probe = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            probe.connect(path)
        except OSError:
            os.unlink(path)  # stale: its agent died without cleaning up
        else:
            raise OSError(f"another process is listening on {path}")
        finally:
            probe.close()
    os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.bind(path)
        # Owner-only before anyone can connect: listen() has not been called yet.
        os.chmod(path, 0o600)
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock
