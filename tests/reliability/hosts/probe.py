"""A small stdlib HTTP probe that lets a test look inside its host process.

The reliability tests must judge the host's state (namespaces, object identities,
``sys.modules``, threads, errors seen by the host's own loops) without trusting
the agent under test to report it, so each test host starts one of these on a
loopback port and publishes the port in ``<workdir>/probe.json``. It answers
``GET /<route>`` with the JSON returned by the route's callable.
"""

from __future__ import annotations

import http.server
import json
import os
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

__all__ = ["ERRORS", "record_error", "serve", "module_snapshot"]

#: Exceptions seen by host code (main loops, threads started by reloaded modules).
ERRORS: list[str] = []
_MAX_ERRORS = 50


def record_error(where: str, exc: BaseException) -> None:
    """Remember an exception that escaped host code (bounded, newest dropped)."""
    if len(ERRORS) < _MAX_ERRORS:
        ERRORS.append(f"{where}: {''.join(traceback.format_exception_only(exc)).strip()}")


def _behaviour(module: Any) -> str:
    probe = getattr(module, "probe", None)
    if probe is None:
        return "<no probe>"
    try:
        return repr(probe())
    except BaseException as exc:  # the point is to report it, whatever it is
        return f"<raised {type(exc).__name__}: {exc}>"


def _code_ids(items: list[tuple[str, Any]]) -> dict[str, int]:
    """id() of the code behind every function and method: catches a patch that was not undone."""
    codes: dict[str, int] = {}
    for key, value in items:
        if hasattr(value, "__code__"):
            codes[key] = id(value.__code__)
        elif isinstance(value, type):
            for attr, member in list(vars(value).items()):
                func = getattr(member, "__func__", member)
                if hasattr(func, "__code__"):
                    codes[f"{key}.{attr}"] = id(func.__code__)
    return codes


def module_snapshot(names: list[str]) -> dict[str, Any]:
    """Identity-level picture of ``names`` and the interpreter, for before/after comparisons."""
    modules: dict[str, Any] = {}
    for name in names:
        module = sys.modules.get(name)
        if module is None:
            modules[name] = None
            continue
        # list() copies under the GIL: the agent thread may be mutating the dict right now.
        items = list(vars(module).items())
        modules[name] = {
            "id": id(module),
            "ids": {k: id(v) for k, v in items},
            "codes": _code_ids(items),
            "behaviour": _behaviour(module),
        }
    return {
        "sys_modules": sorted(list(sys.modules)),
        "modules": modules,
        # Not the thread answering this very request: it is the probe's, not the host's.
        "threads": sorted(t.name for t in threading.enumerate() if t is not threading.current_thread()),
        "errors": list(ERRORS),
    }


def serve(workdir: str, routes: dict[str, Callable[[dict[str, str]], Any]]) -> None:
    """Serve ``routes`` on 127.0.0.1 (any port) from a daemon thread; write ``probe.json``."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path, _, query = self.path.partition("?")
            args = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
            route = routes.get(path.strip("/"))
            if route is None:
                self.send_error(404)
                return
            try:
                body = json.dumps(route(args)).encode()
                status = 200
            except BaseException as exc:
                body = json.dumps({"probeError": repr(exc)}).encode()
                status = 500
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the host's stderr is the test's evidence; keep it clean

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="probe-http", daemon=True).start()
    tmp = os.path.join(workdir, ".probe.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"port": server.server_address[1], "pid": os.getpid()}, f)
    # rename is atomic: the test never reads a half-written file.
    os.replace(tmp, os.path.join(workdir, "probe.json"))
