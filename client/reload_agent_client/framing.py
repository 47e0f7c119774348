"""LSP base framing: ``Content-Length`` headers around JSON or msgpack bodies.

Pure functions and a small incremental reader; no sockets here, so the same code
serves the client (socket reads with deadlines) and the ``lsp`` bridge (raw
stdin). The limits come from :mod:`reload_agent_client.protocol`.

>>> frame = encode_frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})
>>> frame[:16]
b'Content-Length: '
>>> chunks = [frame[:7], frame[7:]]
>>> reader = FrameReader(lambda n: chunks.pop(0) if chunks else b"")
>>> decode_body(reader.read_frame())["method"]
'initialized'
>>> reader.read_frame() is None
True
"""

from __future__ import annotations

import collections
import json
from collections.abc import Callable

from .errors import ProtocolError
from .protocol import CONTENT_TYPE_MSGPACK, DEFAULT_MAX_MESSAGE_BYTES, MAX_HEADER_BYTES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Frame", "FrameReader", "encode_frame", "encode_body", "frame_bytes", "decode_body"]

_READ_SIZE = 65536


# collections' named tuple: the CLI does not import typing at run time (it costs a few ms).
class Frame(collections.namedtuple("Frame", "body content_type", defaults=(None,))):
    """One framed message: its ``body`` bytes and the declared ``content_type`` (``None`` = JSON)."""

    __slots__ = ()

    @property
    def is_msgpack(self) -> bool:
        """True when the body is msgpack (else JSON)."""
        return _is_msgpack(self.content_type)


def _is_msgpack(content_type: str | None) -> bool:
    return content_type is not None and content_type.split(";")[0].strip().lower() == CONTENT_TYPE_MSGPACK


def encode_body(message: Any, *, msgpack: bool = False) -> bytes:
    """Serialise one JSON-RPC message to body bytes."""
    if msgpack:
        import msgpack as _msgpack  # lazy: only the client's own traffic needs it

        return _msgpack.packb(message, use_bin_type=True)
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def encode_frame(message: Any, *, msgpack: bool = False) -> bytes:
    """Header + body for one message; msgpack bodies announce their ``Content-Type``."""
    body = encode_body(message, msgpack=msgpack)
    return frame_bytes(body, CONTENT_TYPE_MSGPACK if msgpack else None)


def frame_bytes(body: bytes, content_type: str | None = None) -> bytes:
    """Wrap already-encoded ``body`` bytes in a header block."""
    header = f"Content-Length: {len(body)}\r\n"
    if content_type is not None:
        header += f"Content-Type: {content_type}\r\n"
    return header.encode("ascii") + b"\r\n" + body


def decode_body(frame: Frame) -> Any:
    """Parse a frame's body according to its content type."""
    try:
        if frame.is_msgpack:
            import msgpack as _msgpack

            return _msgpack.unpackb(frame.body, raw=False, strict_map_key=False)
        return json.loads(frame.body.decode("utf-8"))
    except Exception as exc:  # any decoder failure means the peer sent garbage
        raise ProtocolError(f"undecodable message body: {exc}") from exc


class FrameReader:
    """Read frames from a ``recv(n) -> bytes`` function (``b""`` means end of stream).

    Bounded: a header block over ``MAX_HEADER_BYTES`` or a body over
    ``max_body`` raises :class:`ProtocolError` instead of buffering without end.
    """

    def __init__(self, recv: Callable[[int], bytes], *, max_body: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        self._recv = recv
        self._buffer = bytearray()
        self._max_body = max_body

    def read_frame(self) -> Frame | None:
        """The next frame, or ``None`` at a clean end of stream (between frames)."""
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self._buffer) > MAX_HEADER_BYTES:
                raise ProtocolError("header block too large")
            if not self._fill():
                if self._buffer:
                    raise ProtocolError("stream ended inside a header block")
                return None
        if end > MAX_HEADER_BYTES:
            raise ProtocolError("header block too large")
        length, content_type = _parse_headers(bytes(self._buffer[:end]))
        if length > self._max_body:
            raise ProtocolError(f"message of {length} bytes exceeds the limit of {self._max_body}")
        # The header stays buffered until the body is complete, so a read that
        # times out mid-body can simply be retried.
        start = end + 4
        while len(self._buffer) < start + length:
            if not self._fill():
                raise ProtocolError("stream ended inside a message body")
        body = bytes(self._buffer[start : start + length])
        del self._buffer[: start + length]
        return Frame(body, content_type)

    def _fill(self) -> bool:
        chunk = self._recv(_READ_SIZE)
        if not chunk:
            return False
        self._buffer += chunk
        return True


def _parse_headers(block: bytes) -> tuple[int, str | None]:
    length: int | None = None
    content_type: str | None = None
    for line in block.split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if not sep:
            raise ProtocolError(f"malformed header line {line[:80]!r}")
        key = name.strip().lower()
        if key == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                raise ProtocolError(f"bad Content-Length {value[:40]!r}") from None
            if length < 0:
                raise ProtocolError("negative Content-Length")
        elif key == b"content-type":
            content_type = value.strip().decode("ascii", "replace")
    if length is None:
        raise ProtocolError("missing Content-Length header")
    return length, content_type
