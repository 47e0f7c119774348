"""Start the tea shop: build the model, then serve HTTP on 127.0.0.1.

    python -m shop.app --port 8000
    python -m reload_agent -m shop.app --port-file /tmp/shop.port   # with live reloading

``--port 0`` (the default) picks a free port; ``--port-file`` writes the real one to a file once the shop is ready,
for scripts that start it (the demo does).
"""

from __future__ import annotations

import argparse
import http.server
import os
import sys
import urllib.parse
from pathlib import Path

from shop import model, views

__all__ = ["ShopHandler", "serve", "main"]


class ShopHandler(http.server.BaseHTTPRequestHandler):
    """Dispatches GET requests through ``views.ROUTES``, looked up on each request."""

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        view = views.ROUTES.get(url.path)
        if view is None:
            self._reply(404, f"no page at {url.path}")
            return
        query = dict(urllib.parse.parse_qsl(url.query))
        try:
            body = view(query)
        except Exception as exc:  # a broken handler answers 500; the server keeps going
            self._reply(500, f"{type(exc).__name__}: {exc}")
            return
        self._reply(200, body)

    def _reply(self, status: int, text: str) -> None:
        data = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        # Access logs would drown the demo's narration.
        pass


def serve(port: int = 0, port_file: str | None = None) -> None:
    """Build the model, bind, announce the port, and serve until the process is stopped."""
    built = model.build()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), ShopHandler)
    port = server.server_address[1]
    if port_file:
        # Written whole and renamed, so a reader never sees a half-written number.
        tmp = Path(f"{port_file}.tmp")
        tmp.write_text(str(port))
        os.replace(tmp, port_file)
    print(f"tea shop on http://127.0.0.1:{port}/ (model {built.id} built in {built.build_seconds:.2f} s)", flush=True)
    with server:
        server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shop", description="A small tea shop HTTP service.")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--port-file", help="write the port to this file once serving")
    args = parser.parse_args(argv)
    try:
        serve(args.port, args.port_file)
    except KeyboardInterrupt:  # Ctrl-C (or SIGINT from a script) is the normal way to stop the shop
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
