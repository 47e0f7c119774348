"""``reload-agent-cli lsp``: a scripted editor over stdio reaches the agent without knowing the token."""

from __future__ import annotations

import contextlib
import queue
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clienthost import CLI, App, views_source

from reload_agent_client.framing import FrameReader, decode_body, encode_frame
from tests.support.agents import host_env


class ScriptedEditor:
    """Speaks LSP (JSON bodies, as editors do) to a bridge process; every read has a deadline."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self._next_id = 0
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        reader = FrameReader(self.proc.stdout.read1)
        while (frame := reader.read_frame()) is not None:
            self._inbox.put(decode_body(frame))
        self._inbox.put(None)

    def send(self, message: dict[str, Any]) -> None:
        self.proc.stdin.write(encode_frame({"jsonrpc": "2.0", **message}))
        self.proc.stdin.flush()

    def request(self, method: str, params: Any, timeout: float = 10.0) -> dict[str, Any]:
        self._next_id += 1
        self.send({"id": self._next_id, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == self._next_id and "method" not in m, timeout)

    def wait(self, predicate, timeout: float = 10.0) -> dict[str, Any]:
        while True:
            message = self._inbox.get(timeout=timeout)
            if message is None:
                raise AssertionError("the bridge closed its stdout")
            if predicate(message):
                return message


@contextlib.contextmanager
def bridge(app: App, *args: str) -> Iterator[ScriptedEditor]:
    proc = subprocess.Popen([*CLI, "lsp", *args], cwd=app.root, env=app.env(), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    try:
        yield ScriptedEditor(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def editor(app: App) -> Iterator[ScriptedEditor]:
    with bridge(app) as scripted:
        yield scripted


def diagnostics_for(uri: str):
    return lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri


def test_editor_session_through_the_bridge(app: App, editor: ScriptedEditor):
    init = editor.request(
        "initialize",
        {"processId": None, "rootUri": app.root.as_uri(), "capabilities": {}, "initializationOptions": None},
    )
    assert "error" not in init, init
    assert init["result"]["reloadAgent"]["pid"] == app.host.pid
    editor.send({"method": "initialized", "params": {}})

    listed = editor.request("workspace/executeCommand", {"command": "reloadAgent.listModules", "arguments": ["app.*"]})
    assert {m["name"] for m in listed["result"]["modules"]} == {"app.models", "app.views"}

    views = app.root / "app/views.py"
    uri = views.as_uri()
    editor.send({"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": views.read_text()}}})
    views.write_text(views_source("'saved in the editor'"))
    editor.send({"method": "textDocument/didSave", "params": {"textDocument": {"uri": uri}}})
    assert editor.wait(diagnostics_for(uri))["params"]["diagnostics"] == []
    assert app.get() == "saved in the editor"

    views.write_text("from app import models\n\n\ndef message():\n    return models.GREETING +\n")
    editor.send({"method": "textDocument/didSave", "params": {"textDocument": {"uri": uri}}})
    [diagnostic] = editor.wait(diagnostics_for(uri))["params"]["diagnostics"]
    assert diagnostic["range"]["start"]["line"] == 4
    assert "SyntaxError" in diagnostic["message"]
    assert app.get() == "saved in the editor"

    assert editor.request("shutdown", None)["result"] is None
    editor.send({"method": "exit"})
    assert editor.proc.wait(timeout=10) == 0


def test_bridge_exits_when_the_host_goes_away(app: App, editor: ScriptedEditor):
    init = editor.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    assert init["result"]["reloadAgent"]["pid"] == app.host.pid
    app.host.proc.kill()
    app.host.proc.wait(timeout=10)
    assert editor.proc.wait(timeout=10) == 0


def test_bridge_exits_when_the_editor_closes_stdin(app: App, editor: ScriptedEditor):
    editor.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    editor.proc.stdin.close()
    assert editor.proc.wait(timeout=10) == 0
    assert app.get() == "hello v1"  # the host is untouched by the editor leaving


def test_bridge_without_an_agent_says_so_and_exits_2(tmp_path: Path):
    proc = subprocess.run([*CLI, "lsp"], env=host_env(tmp_path, tmp_path / "run"), input=b"", capture_output=True,
                          timeout=30)
    assert proc.returncode == 2 and b"no running agent found" in proc.stderr


def test_bridge_to_a_chosen_pid(app: App):
    # docs/cli.md: `{ "reload-agent-cli", "lsp", "--pid", "1234" }` when several agents run.
    with bridge(app, "--pid", str(app.host.pid)) as scripted:
        init = scripted.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
        assert init["result"]["reloadAgent"]["pid"] == app.host.pid
        scripted.proc.stdin.close()
        assert scripted.proc.wait(timeout=10) == 0
