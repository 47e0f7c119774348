r"""The agent's wire: framing, connections, auth gate, accept loops (addresses: ``listeners.py``).

Nothing here knows about LSP or the engine. A :class:`Hub` accepts clients on
any number of listening sockets (TCP and Unix), reads LSP-framed messages
(JSON, or msgpack when ``Content-Type: application/msgpack``), passes each
through an :class:`AuthGate`, and hands the survivors to a per-connection
session made by a factory (``server.py`` makes pygls-backed ones).

>>> encode_frame({"id": 1}, msgpack=False)
b'Content-Length: 8\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{"id":1}'
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import socket
from collections.abc import Callable
from typing import Any, Protocol

from msgpack import packb, unpackb

from reload_agent_client.protocol import (
    CONTENT_TYPE_JSON,
    CONTENT_TYPE_MSGPACK,
    DEFAULT_MAX_MESSAGE_BYTES,
    MAX_HEADER_BYTES,
    METHOD_INITIALIZE,
    ErrorCode,
)

__all__ = [
    "FrameError",
    "read_frame",
    "decode_body",
    "encode_frame",
    "error_message",
    "AuthGate",
    "Session",
    "Connection",
    "Hub",
]

log = logging.getLogger("reload_agent")

#: Loop passes an accepted socket needs to reach its handler (accept task, transport, protocol, handler).
_ACCEPT_SETTLE_PASSES = 5
#: Largest message before a successful ``initialize``: whoever can reach the port must not be able to park
#: megabytes in the host by announcing a big body. An editor's ``initialize`` is a few kilobytes.
MAX_UNAUTHENTICATED_BYTES = 256 * 1024
#: Requests of one client being worked on at once; past it the agent stops reading that client (TCP back-pressure).
MAX_IN_FLIGHT = 32
#: A client that stops reading while we keep writing (replies in flight, broadcasts) is cut off past this.
MAX_WRITE_BUFFER = 32 * 1024 * 1024


class FrameError(Exception):
    """A frame the agent cannot use. ``fatal``: the stream is out of sync, close it."""

    def __init__(self, message: str, *, code: int = ErrorCode.INVALID_REQUEST, fatal: bool, msg_id: Any = None):
        super().__init__(message)
        self.message = message
        self.code = int(code)
        self.fatal = fatal
        self.msg_id = msg_id


async def read_frame(reader: asyncio.StreamReader, max_bytes: int) -> tuple[bytes, bool] | None:
    """Read one frame: ``(body, is_msgpack)``, or ``None`` at a clean end of stream.

    The stream must be created with ``limit=MAX_HEADER_BYTES`` so an endless
    header block is cut off by asyncio itself.
    """
    try:
        block = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise FrameError("connection closed inside a header block", fatal=True) from None
        return None
    except asyncio.LimitOverrunError:
        raise FrameError(f"header block larger than {MAX_HEADER_BYTES} bytes", fatal=True) from None
    length: int | None = None
    is_msgpack = False
    for line in block.decode("ascii", "replace").split("\r\n"):
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise FrameError(f"malformed header line {line[:80]!r}", fatal=True)
        name, value = name.strip().lower(), value.strip()
        if name == "content-length":
            if not value.isdigit():
                raise FrameError(f"bad Content-Length {value[:40]!r}", fatal=True)
            length = int(value)
        elif name == "content-type":
            is_msgpack = value.split(";")[0].strip().lower() == CONTENT_TYPE_MSGPACK
    if length is None:
        raise FrameError("missing Content-Length header", fatal=True)
    if length > max_bytes:
        # Reading it just to discard it would let a peer make us swallow gigabytes.
        raise FrameError(f"message of {length} bytes exceeds the {max_bytes}-byte limit", fatal=True)
    try:
        body = await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        raise FrameError("connection closed inside a message body", fatal=True) from None
    return body, is_msgpack


def decode_body(body: bytes, is_msgpack: bool) -> dict[str, Any]:
    """Decode a body into a JSON-RPC message dict, or raise a non-fatal :class:`FrameError`."""
    try:
        message = unpackb(body, raw=False) if is_msgpack else json.loads(body)
    except Exception as exc:  # msgpack raises several unrelated types
        raise FrameError(f"cannot decode body: {exc}", code=ErrorCode.PARSE_ERROR, fatal=False) from None
    if not isinstance(message, dict):
        raise FrameError("a message must be an object (batches are not supported)", fatal=False)
    msg_id = message.get("id")
    if isinstance(msg_id, bool) or not isinstance(msg_id, (str, int, type(None))):
        raise FrameError('"id" must be a string or an integer', fatal=False)
    if message.get("jsonrpc") != "2.0":
        raise FrameError('"jsonrpc" must be "2.0"', fatal=False, msg_id=msg_id)
    if "method" in message and not isinstance(message["method"], str):
        raise FrameError('"method" must be a string', fatal=False, msg_id=msg_id)
    return message


def encode_frame(message: Any, *, msgpack: bool, default: Callable[[Any], Any] | None = None) -> bytes:
    """Frame ``message`` with ``Content-Length`` (bytes) and ``Content-Type``."""
    if msgpack:
        body = packb(message, default=default, use_bin_type=True)
        content_type = CONTENT_TYPE_MSGPACK
    else:
        text = json.dumps(message, default=default, ensure_ascii=False, separators=(",", ":"))
        try:
            body = text.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate (a JSON escape like "\ud800" decodes to one, in an id say) has no UTF-8 form;
            # escaped, it goes back exactly as it came.
            body = json.dumps(message, default=default, separators=(",", ":")).encode("ascii")
        content_type = CONTENT_TYPE_JSON
    return f"Content-Length: {len(body)}\r\nContent-Type: {content_type}\r\n\r\n".encode("ascii") + body


def error_message(msg_id: Any, code: int, message: str) -> dict[str, Any]:
    """A JSON-RPC error response (errors with ``data`` come from pygls's own path)."""
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": int(code), "message": message}}


class AuthGate:
    """Lets nothing but ``initialize`` through until a valid token has been shown.

    ``token=None`` means the agent runs without a token (explicit opt-out).
    """

    PASS, DROP, REJECT, CLOSE = "pass", "drop", "reject", "close"

    def __init__(self, token: str | None):
        self._token = None if token is None else token.encode("utf-8")
        self.authenticated = False

    def check(self, message: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        """Return ``(action, error_response)``; see the class constants."""
        if self.authenticated:
            return self.PASS, None
        method = message.get("method")
        is_request = "id" in message and method is not None
        if method == METHOD_INITIALIZE and is_request:
            if self._token_ok(message.get("params")):
                self.authenticated = True
                return self.PASS, None
            err = error_message(message["id"], ErrorCode.UNAUTHORIZED, "wrong or missing token")
            return self.CLOSE, err
        if is_request:
            err = error_message(message["id"], ErrorCode.NOT_INITIALIZED, "initialize first")
            return self.REJECT, err
        return self.DROP, None

    def _token_ok(self, params: Any) -> bool:
        if self._token is None:
            return True
        options = params.get("initializationOptions") if isinstance(params, dict) else None
        given = options.get("token") if isinstance(options, dict) else None
        if not isinstance(given, str):
            return False
        return hmac.compare_digest(given.encode("utf-8"), self._token)


class Session(Protocol):
    """What a connection feeds: one per client (``server.py`` provides the real one)."""

    def handle(self, message: dict[str, Any]) -> None: ...

    def closed(self) -> None: ...


class Connection:
    """One client: writes frames, remembers which encoding each request came in.

    Replies go back in the encoding of their request; notifications the agent
    starts use the encoding of the client's latest message. It also counts the
    requests in flight, so the reader can stop taking new ones from a client
    that sends faster than it reads (:meth:`wait_for_room`).
    """

    def __init__(self, writer: asyncio.StreamWriter, peer: str):
        self._writer = writer
        self.peer = peer
        self.msgpack = False
        self._request_encoding: dict[Any, bool] = {}
        self._in_flight = 0
        self._answered = asyncio.Event()
        self.is_closed = False
        #: Set once the client passed the auth gate; only those get broadcasts.
        self.authenticated = False

    def note_request(self, message: dict[str, Any], is_msgpack: bool) -> None:
        if "id" in message and "method" in message:
            self._request_encoding[_key(message["id"])] = is_msgpack
            self._in_flight += 1

    async def wait_for_room(self) -> None:
        """Return once this client may send another request: few enough in flight, replies flowing out."""
        while self._in_flight >= MAX_IN_FLIGHT and not self.is_closed:
            self._answered.clear()
            await self._answered.wait()
        try:
            await self._writer.drain()  # waits while the peer is not reading what we already wrote
        except ConnectionError:
            self.close()

    def send(self, message: Any, *, msg_id: Any = None, is_response: bool = False,
             default: Callable[[Any], Any] | None = None) -> None:
        """Frame and write ``message`` (called on the agent loop only)."""
        if self.is_closed:
            return
        use_msgpack = self.msgpack
        if is_response:
            use_msgpack = self._request_encoding.pop(_key(msg_id), self.msgpack)
            self._in_flight = max(self._in_flight - 1, 0)
            self._answered.set()
        try:
            data = encode_frame(message, msgpack=use_msgpack, default=default)
        except Exception as exc:
            if not is_response:
                raise
            # A result the encoding cannot carry (bytes in JSON): still answer the request.
            data = encode_frame(error_message(msg_id, ErrorCode.INTERNAL_ERROR, f"cannot encode result: {exc}"),
                                msgpack=use_msgpack)
        transport = self._writer.transport
        if transport.is_closing():
            self.close()
            return
        self._writer.write(data)
        if transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
            self.close()

    def send_error(self, msg_id: Any, code: int, message: str) -> None:
        """Answer request ``msg_id`` with a JSON-RPC error."""
        self.send(error_message(msg_id, code, message), msg_id=msg_id, is_response=True)

    def close(self) -> None:
        if not self.is_closed:
            self.is_closed = True
            self._answered.set()
            self._writer.close()

    async def drain_and_close(self) -> None:
        """Let the frames already written (an auth error) reach the peer, then close."""
        try:
            await asyncio.wait_for(self._writer.drain(), timeout=1.0)
        except Exception:
            pass
        self.close()


def _key(msg_id: Any) -> Any:
    # JSON-RPC ids may be strings or numbers; 1 and "1" are different requests.
    return (type(msg_id).__name__, msg_id)


class Hub:
    """Accepts clients on listening sockets and keeps track of every connection."""

    def __init__(self, *, token: str | None, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES):
        #: Makes the session for each new connection; set before :meth:`serve`.
        self.session_factory: Callable[[Connection], Session] | None = None
        self._token = token
        self._max = max_message_bytes
        self._servers: list[asyncio.AbstractServer] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self.connections: set[Connection] = set()

    async def serve(self, sock: socket.socket) -> None:
        """Start accepting on an already bound, listening socket."""
        if sock.family == socket.AF_UNIX:
            server = await asyncio.start_unix_server(self._on_client, sock=sock, limit=MAX_HEADER_BYTES)
        else:
            server = await asyncio.start_server(self._on_client, sock=sock, limit=MAX_HEADER_BYTES)
        self._servers.append(server)

    def broadcast(self, message: dict[str, Any]) -> None:
        """Send a notification to every authenticated client."""
        for conn in list(self.connections):
            if conn.authenticated:
                try:
                    conn.send(message)
                except Exception:
                    log.debug("broadcast to %s failed", conn.peer, exc_info=True)
                    conn.close()

    async def close(self) -> None:
        """Stop accepting, close every connection and wait for their tasks to end."""
        self._closing = True
        # asyncio (3.11) fails to build, and leaks, a connection accepted just before Server.close(): stop
        # watching the listening sockets first, let accepts already under way reach _on_client (which closes
        # them), and only then close the servers.
        loop = asyncio.get_running_loop()
        for server in self._servers:
            for sock in server.sockets:
                loop.remove_reader(sock.fileno())
        for _ in range(_ACCEPT_SETTLE_PASSES):
            await asyncio.sleep(0)
        for server in self._servers:
            server.close()
        for conn in list(self.connections):
            conn.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._closing:  # accepted in the same loop pass as close(): too late to be served
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        peer = str(writer.get_extra_info("peername") or "unix")
        conn = Connection(writer, peer)
        gate = AuthGate(self._token)
        session: Session | None = None
        self.connections.add(conn)
        try:
            assert self.session_factory is not None
            session = self.session_factory(conn)
            await self._read_loop(reader, conn, gate, session)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.debug("connection %s failed", peer, exc_info=True)
        finally:
            self.connections.discard(conn)
            self._tasks.discard(task)
            conn.close()
            if session is not None:
                try:
                    session.closed()
                except Exception:
                    log.debug("session cleanup failed", exc_info=True)

    async def _read_loop(self, reader: asyncio.StreamReader, conn: Connection, gate: AuthGate,
                         session: Session) -> None:
        while not conn.is_closed:
            await conn.wait_for_room()
            try:
                frame = await read_frame(reader, self._max if gate.authenticated else
                                         min(self._max, MAX_UNAUTHENTICATED_BYTES))
                if frame is None:
                    return
                conn.msgpack = frame[1]  # even an undecodable body is answered in the encoding it claimed
                message = decode_body(*frame)
            except FrameError as exc:
                conn.send(error_message(exc.msg_id, exc.code, exc.message))
                if exc.fatal:
                    return
                continue
            conn.note_request(message, frame[1])
            action, error = gate.check(message)
            if error is not None:
                conn.send(error, msg_id=message.get("id"), is_response=True)
            if action == AuthGate.CLOSE:
                await conn.drain_and_close()
                return
            if action == AuthGate.PASS:
                conn.authenticated = gate.authenticated
                try:
                    session.handle(message)
                except Exception as exc:  # a bug of ours: answer it, keep the connection
                    log.debug("handling %s failed", message.get("method"), exc_info=True)
                    if "id" in message:
                        conn.send_error(message["id"], ErrorCode.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")

