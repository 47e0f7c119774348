"""``reload-agent-cli lsp``: connect an editor's stdio to an agent's socket.

Editors start language servers as processes and talk LSP over stdin/stdout;
the agent listens on a socket and wants a token. The bridge finds the agent,
adds the token to the editor's ``initialize`` (``initializationOptions.token``)
and otherwise copies frames unchanged both ways. It exits as soon as either side
closes, so the editor's ``exit`` or the host's end both end the bridge.

Neovim::

    vim.lsp.start_client{name = "reload-agent", cmd = {"reload-agent-cli", "lsp"}}
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
from typing import Any

from .connection import parse_address
from .errors import ProtocolError
from .framing import Frame, FrameReader, frame_bytes
from .protocol import METHOD_INITIALIZE
from .selection import Target

__all__ = ["run_bridge", "inject_token"]

_STDIN, _STDOUT = 0, 1
_CHUNK = 65536


def inject_token(frame: Frame, token: str | None) -> Frame:
    """The frame with ``token`` put into an ``initialize`` request; other frames unchanged.

    >>> body = b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"initializationOptions":null}}'
    >>> json.loads(inject_token(Frame(body), "s3cret").body)["params"]["initializationOptions"]
    {'token': 's3cret'}
    """
    if token is None or frame.is_msgpack or b'"initialize"' not in frame.body:
        return frame
    try:
        message: Any = json.loads(frame.body)
    except ValueError:
        return frame
    if not isinstance(message, dict) or message.get("method") != METHOD_INITIALIZE:
        return frame
    params = message.get("params")
    if not isinstance(params, dict):
        params = message["params"] = {}
    options = params.get("initializationOptions")
    if not isinstance(options, dict):
        options = params["initializationOptions"] = {}
    options["token"] = token
    return Frame(json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8"), frame.content_type)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _editor_to_agent(sock: socket.socket, token: str | None, done: threading.Event) -> None:
    reader = FrameReader(lambda n: os.read(_STDIN, n))
    try:
        while (frame := reader.read_frame()) is not None:
            frame = inject_token(frame, token)
            sock.sendall(frame_bytes(frame.body, frame.content_type))
    except ProtocolError as exc:
        print(f"reload-agent-cli lsp: bad message from the editor: {exc}", file=sys.stderr)
    except OSError:
        pass
    finally:
        done.set()


def _agent_to_editor(sock: socket.socket, done: threading.Event) -> None:
    # Byte copy: the agent's frames are already well formed, and copying bytes
    # keeps this direction free of parsing costs.
    try:
        while chunk := sock.recv(_CHUNK):
            _write_all(_STDOUT, chunk)
    except OSError:
        pass
    finally:
        done.set()


def run_bridge(target: Target, *, timeout: float) -> int:
    """Pump LSP traffic between stdio and ``target`` until either side closes; exit code."""
    try:
        family, address = parse_address(target.address)
        sock = socket.socket(family, socket.SOCK_STREAM)
    except ValueError as exc:
        print(f"reload-agent-cli lsp: {exc}", file=sys.stderr)
        return 2
    try:
        sock.settimeout(timeout)
        sock.connect(address)
        # An editor session idles for hours: only the connect has a deadline.
        sock.settimeout(None)
    except OSError as exc:
        sock.close()
        print(f"reload-agent-cli lsp: cannot connect to {target.label}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    done = threading.Event()
    pumps = [
        threading.Thread(target=_editor_to_agent, args=(sock, target.token, done), daemon=True),
        threading.Thread(target=_agent_to_editor, args=(sock, done), daemon=True),
    ]
    for pump in pumps:
        pump.start()
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
    return 0
