"""A synchronous client for one running agent.

Opens a TCP (``HOST:PORT``) or Unix (``unix:PATH``) socket, performs the LSP
``initialize`` handshake with the token, then sends JSON-RPC requests. Its own
traffic is msgpack (``json=True`` switches to JSON, handy with a packet
capture). Every wait has a deadline; notifications that arrive while waiting
are queued for :meth:`Client.notifications`; requests the agent sends to the
client are answered with "method not found" so the agent never waits on us.

Example (needs a running agent)::

    with connect("127.0.0.1:8765", token="...") as client:
        print(client.status()["pid"])
        result = client.reload(["app.views"])
        for note in client.notifications(timeout=1.0):
            print(note.method, note.params)
"""

from __future__ import annotations

import collections
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence

from . import __version__
from .errors import (
    AuthError,
    ConnectError,
    ProtocolError,
    RequestTimeout,
    error_from_response,
)
from .framing import FrameReader, decode_body, encode_frame
from .protocol import (
    METHOD_HISTORY,
    METHOD_INITIALIZE,
    METHOD_INITIALIZED,
    METHOD_LIST_MODULES,
    METHOD_RELOAD,
    METHOD_ROLLBACK,
    METHOD_STATUS,
    ErrorCode,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Client", "Notification", "connect", "parse_address", "DEFAULT_TIMEOUT"]

#: Seconds to wait for a connection or an answer unless the caller says otherwise.
DEFAULT_TIMEOUT = 10.0
#: Notifications kept while nobody reads them (a long ``watch`` must not grow without end).
_MAX_QUEUED_NOTIFICATIONS = 1000


class Notification(collections.namedtuple("Notification", "method params")):
    """A notification the agent sent: its ``method`` (e.g. ``reloadAgent/didReload``) and ``params``."""

    __slots__ = ()


def parse_address(address: str) -> tuple[int, Any]:
    """Socket family and address for ``HOST:PORT``, ``[V6]:PORT`` or ``unix:PATH``.

    >>> parse_address("127.0.0.1:80")[1]
    ('127.0.0.1', 80)
    >>> parse_address("unix:/tmp/a.sock")[1]
    '/tmp/a.sock'
    """
    if address.startswith("unix:"):
        path = address[len("unix:") :]
        if not path:
            raise ValueError("empty Unix socket path")
        return socket.AF_UNIX, path
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"bad address {address!r}: expected HOST:PORT or unix:PATH")
    if host.startswith("[") and host.endswith("]"):
        return socket.AF_INET6, (host[1:-1], int(port))
    return socket.AF_INET, (host, int(port))


class Client:
    """One initialized connection to an agent. Use :func:`connect` to make one.

    Not thread-safe: give each thread its own client (connections are cheap).
    """

    def __init__(self, sock: socket.socket, *, json: bool = False, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._sock = sock
        self._msgpack = not json
        self.timeout = timeout
        self._deadline: float | None = None
        self._reader = FrameReader(self._recv)
        self._next_id = 1
        self._queue: collections.deque[Notification] = collections.deque(maxlen=_MAX_QUEUED_NOTIFICATIONS)
        self._callbacks: list[Callable[[Notification], None]] = []
        self._closed = False
        #: The ``initialize`` result: ``capabilities``, ``serverInfo``, ``reloadAgent``.
        self.server: dict[str, Any] = {}

    # -- lifecycle -------------------------------------------------------------

    def initialize(self, token: str | None) -> dict[str, Any]:
        """Run the LSP handshake; raises :class:`AuthError` when the token is refused."""
        params = {
            "processId": os.getpid(),
            "clientInfo": {"name": "reload-agent-client", "version": __version__},
            "rootUri": None,
            "capabilities": {},
            "initializationOptions": {"token": token},
        }
        try:
            self.server = self.request(METHOD_INITIALIZE, params) or {}
        except AuthError:
            self.close()
            raise
        self.notify(METHOD_INITIALIZED, {})
        return self.server

    @property
    def agent(self) -> dict[str, Any]:
        """``{pid, python, argv, cwd, version}`` of the agent's process."""
        return dict(self.server.get("reloadAgent") or {})

    def close(self) -> None:
        """Close the socket (the agent forgets this client); safe to call twice."""
        if not self._closed:
            self._closed = True
            try:
                self._sock.close()
            except OSError:
                pass

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- JSON-RPC --------------------------------------------------------------

    def notify(self, method: str, params: Any = None) -> None:
        """Send a notification (no answer expected)."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)

    def request(self, method: str, params: Any = None, *, timeout: float | None = None) -> Any:
        """Send a request and return its ``result``.

        Raises :class:`RemoteError` (or a subclass) for an error answer,
        :class:`RequestTimeout` when no answer comes in time, :class:`ConnectError`
        when the connection drops.
        """
        request_id = self._next_id
        self._next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            reply = self._receive(deadline, what=f"an answer to {method}")
            if reply is None:
                continue
            if reply.get("id") != request_id:
                continue  # an answer to an earlier request we stopped waiting for
            if "error" in reply and reply["error"] is not None:
                raise error_from_response(reply["error"])
            return reply.get("result")

    def notifications(self, timeout: float) -> Iterator[Notification]:
        """Yield notifications as they arrive, for at most ``timeout`` seconds in total.

        Queued ones (received while waiting for answers) come first. The iterator
        simply ends when the time is up or the agent closes the connection.
        """
        deadline = time.monotonic() + timeout
        while True:
            while self._queue:
                yield self._queue.popleft()
            try:
                self._receive(deadline, what="a notification")
            except (RequestTimeout, ConnectError):
                return

    def wait_for(self, method: str, timeout: float) -> Any:
        """The params of the next ``method`` notification; :class:`RequestTimeout` if none comes."""
        for note in self.notifications(timeout):
            if note.method == method:
                return note.params
        raise RequestTimeout(f"no {method} notification within {timeout:g} s")

    def on_notification(self, callback: Callable[[Notification], None]) -> None:
        """Call ``callback`` for every notification as it is read (instead of queueing it)."""
        self._callbacks.append(callback)

    # -- typed helpers -----------------------------------------------------------

    def reload(
        self,
        modules: Sequence[str] = (),
        *,
        files: Sequence[str] = (),
        stale: bool = False,
        dependents: bool = False,
        mode: str | None = None,
        sources: Mapping[str, str] | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Reload modules as one transaction: ``{transaction, modules, durationMs}``.

        Raises :class:`ReloadFailed` (with ``.data``) when the agent rolled it back.
        """
        params: dict[str, Any] = {}
        if modules:
            params["modules"] = list(modules)
        if files:
            params["files"] = list(files)
        if stale:
            params["stale"] = True
        if dependents:
            params["dependents"] = True
        if mode is not None:
            params["mode"] = mode
        if sources:
            params["sources"] = dict(sources)
        if dry_run:
            params["dryRun"] = True
        return self.request(METHOD_RELOAD, params)

    def rollback(self, module: str | None = None, *, transaction: int | None = None) -> dict[str, Any]:
        """Undo the newest transaction (or the one given): ``{transaction, rolledBack, modules}``."""
        params: dict[str, Any] = {}
        if module is not None:
            params["module"] = module
        if transaction is not None:
            params["transaction"] = transaction
        return self.request(METHOD_ROLLBACK, params)

    def list_modules(self, pattern: str | None = None, *, stale: bool = False) -> list[dict[str, Any]]:
        """Loaded modules: ``[{name, file, stale, version, reloadable}]``."""
        params: dict[str, Any] = {}
        if pattern is not None:
            params["pattern"] = pattern
        if stale:
            params["stale"] = True
        return list(self.request(METHOD_LIST_MODULES, params)["modules"])

    def history(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Recent transactions, newest last as the agent reports them."""
        params: dict[str, Any] = {} if limit is None else {"limit": limit}
        return list(self.request(METHOD_HISTORY, params)["transactions"])

    def status(self) -> dict[str, Any]:
        """``{pid, version, uptimeS, modules, transactions, clients, watching}``."""
        return self.request(METHOD_STATUS, {})

    # -- plumbing ----------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        if self._closed:
            raise ConnectError("connection is closed")
        data = encode_frame(message, msgpack=self._msgpack)
        self._sock.settimeout(self.timeout)
        try:
            self._sock.sendall(data)
        except TimeoutError:
            raise RequestTimeout("the agent is not reading (send timed out)") from None
        except OSError as exc:
            self.close()
            raise ConnectError(f"connection lost: {exc}") from exc

    def _recv(self, size: int) -> bytes:
        assert self._deadline is not None
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        self._sock.settimeout(remaining)
        return self._sock.recv(size)

    def _receive(self, deadline: float, *, what: str) -> dict[str, Any] | None:
        """Read one message; dispatch notifications and agent requests, return answers."""
        if self._closed:
            raise ConnectError("connection is closed")
        self._deadline = deadline
        try:
            frame = self._reader.read_frame()
        except TimeoutError:
            raise RequestTimeout(f"no {what} within the timeout") from None
        except OSError as exc:
            self.close()
            raise ConnectError(f"connection lost: {exc}") from exc
        except ProtocolError:
            self.close()
            raise
        if frame is None:
            self.close()
            raise ConnectError("the agent closed the connection")
        message = decode_body(frame)
        if not isinstance(message, dict):
            raise ProtocolError(f"expected a JSON-RPC object, got {type(message).__name__}")
        method = message.get("method")
        if method is None:
            return message
        if "id" in message:
            self._refuse(message["id"], str(method))
            return None
        note = Notification(str(method), message.get("params"))
        if self._callbacks:
            for callback in self._callbacks:
                callback(note)
        else:
            self._queue.append(note)
        return None

    def _refuse(self, request_id: Any, method: str) -> None:
        self._send(
            {
                "jsonrpc": "2.0",
                "id": request_id,
                "error": {"code": int(ErrorCode.METHOD_NOT_FOUND), "message": f"client does not handle {method}"},
            }
        )


def connect(
    address: str, token: str | None = None, timeout: float = DEFAULT_TIMEOUT, *, json: bool = False
) -> Client:
    """Connect to the agent at ``address`` and run the handshake.

    Raises :class:`ConnectError` when nothing listens there, :class:`AuthError`
    when the token is refused.
    """
    try:
        family, sockaddr = parse_address(address)
    except ValueError as exc:
        raise ConnectError(str(exc)) from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(sockaddr)
    except TimeoutError:
        sock.close()
        raise ConnectError(f"timed out connecting to {address}") from None
    except OSError as exc:
        sock.close()
        raise ConnectError(f"cannot connect to {address}: {exc.strerror or exc}") from None
    if family != socket.AF_UNIX:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client = Client(sock, json=json, timeout=timeout)
    try:
        client.initialize(token)
    except BaseException:
        client.close()
        raise
    return client
