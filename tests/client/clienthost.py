"""A real host for the client tests (helpers; the fixture is in conftest.py): a small HTTP app started under the agent.

``server.py`` imports ``app.views`` and answers every GET with
``app.views.message()``, so a test sees a reload through the host's behaviour,
not through the agent's own report. ``smoke.py`` is a health check for
``--verify``: it fails when the answer contains "BROKEN".
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.support.agents import AgentHost, host_env, launch, wait_for, write_files

SERVER = """\
import http.server
import os

import app.views


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = app.views.message().encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open("port.tmp", "w") as f:
    f.write(str(server.server_port))
os.replace("port.tmp", f"port-{os.getpid()}")
server.serve_forever()
"""

FILES = {
    "app/__init__.py": "",
    "app/models.py": """\
        GREETING = "hello"
        """,
    "app/views.py": """\
        from app import models


        def message():
            return models.GREETING + " v1"
        """,
    "smoke.py": """\
        import glob, sys, urllib.request

        [port_file] = glob.glob("port-*")
        body = urllib.request.urlopen(f"http://127.0.0.1:{open(port_file).read()}/", timeout=5).read().decode()
        print("smoke:", body)
        sys.exit(1 if "BROKEN" in body else 0)
        """,
}

#: The reload-agent-cli of this checkout, run the way users run it.
CLI = [sys.executable, "-m", "reload_agent_client.cli"]


def views_source(body: str) -> str:
    """``app/views.py`` whose ``message()`` returns ``body`` (an expression)."""
    return f"from app import models\n\n\ndef message():\n    return {body}\n"


@dataclasses.dataclass
class App:
    """A running host plus helpers to edit its files, ask it, and run the CLI against it."""

    host: AgentHost
    port: int

    @property
    def root(self) -> Path:
        return self.host.workdir

    def get(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=5) as response:
            return response.read().decode()

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.write_text(text)
        return path

    def env(self, **extra: str) -> dict[str, str]:
        return host_env(self.root, self.host.runtime_dir, extra)

    def cli(self, *args: str, timeout: float = 30, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args], cwd=cwd or self.root, env=self.env(**env), capture_output=True, text=True, timeout=timeout
        )


@contextlib.contextmanager
def start_app(workdir: Path, runtime_dir: Path | None = None, options: tuple[str, ...] = ()) -> Iterator[App]:
    """Write the app into ``workdir`` and run it under the agent until the block ends."""
    workdir.mkdir(parents=True, exist_ok=True)
    if runtime_dir is not None:
        # Several hosts share one runtime directory (discovery sees all of them).
        os.symlink(runtime_dir, workdir / "run")
    write_files(workdir, FILES)
    with launch(workdir, "server.py", source=SERVER, options=options) as host:
        port_file = workdir / f"port-{host.pid}"
        wait_for(port_file.exists, 15, what="the app's port file")
        yield App(host, int(port_file.read_text()))
