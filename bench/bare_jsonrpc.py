"""The baseline server: a bare asyncio JSON-RPC 2.0 server with LSP framing, nothing else.

What the agent's transport costs is measured against this: same framing, same
JSON, a ``status``-shaped answer, no language server, no auth, no dispatch
table. Run it as a script: it prints ``{"address": "127.0.0.1:PORT"}``.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import threading
import time

__all__ = ["serve", "start_in_thread"]

_STARTED = time.monotonic()


def _answer(method: str) -> dict[str, object]:
    if method == "initialize":
        return {"capabilities": {}, "serverInfo": {"name": "bare"}}
    # Same shape and size as reloadAgent/status.
    return {"pid": os.getpid(), "version": "0.0.0", "uptimeS": round(time.monotonic() - _STARTED, 3),
            "modules": len(sys.modules), "transactions": 0, "clients": 1, "watching": []}


async def _connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            length = None
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("ascii").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if line == b"" or length is None:
                return
            message = json.loads(await reader.readexactly(length))
            if "id" not in message:
                continue  # a notification
            reply = {"jsonrpc": "2.0", "id": message["id"], "result": _answer(message.get("method", ""))}
            body = json.dumps(reply, separators=(",", ":")).encode()
            writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(host: str = "127.0.0.1", port: int = 0) -> None:
    """Serve until cancelled, after printing the bound address as one JSON line."""
    server = await asyncio.start_server(_connection, host, port)
    bound = server.sockets[0].getsockname()
    print(json.dumps({"address": f"{bound[0]}:{bound[1]}", "pid": os.getpid()}), flush=True)
    async with server:
        await server.serve_forever()


def start_in_thread(host: str = "127.0.0.1") -> str:
    """What ``listen()`` is measured against: bind here, serve on a daemon thread's loop; returns the address."""
    sock = socket.create_server((host, 0))
    loop = asyncio.new_event_loop()

    async def _serve() -> None:
        await asyncio.start_server(_connection, sock=sock)

    threading.Thread(target=lambda: (loop.run_until_complete(_serve()), loop.run_forever()), daemon=True).start()
    return "%s:%d" % sock.getsockname()[:2]


if __name__ == "__main__":
    asyncio.run(serve())
