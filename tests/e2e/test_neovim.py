"""Neovim for real: the init.lua from docs/cli.md, `reload-agent-cli lsp`, a real host.

Neovim runs headless and embedded (msgpack-RPC over its stdin/stdout), so the
test drives it like a user (open, edit, `:w`) and reads its state
(`vim.diagnostic.get`) while it runs. Every wait is bounded: RPC answers have a
deadline and in-editor waits use `vim.wait` with a timeout.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest

from tests.client.clienthost import App, start_app, views_source

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
NVIM = shutil.which("nvim")

if NVIM is None:
    if os.environ.get("CI"):
        raise RuntimeError("nvim is required in CI (make test installs Debian's neovim)")
    pytest.skip("nvim is not installed (`make test` installs it with apt-get)", allow_module_level=True)


def docs_init_lua() -> str:
    """The init.lua snippet users copy from docs/cli.md: the test runs exactly that."""
    text = (ROOT / "docs" / "cli.md").read_text()
    [snippet] = re.findall(r"^```lua\n(.*?)^```", text, flags=re.S | re.M)
    return snippet


class Nvim:
    """A minimal msgpack-RPC client for `nvim --embed --headless`."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self._next_id = 0
        self._answers: queue.Queue[list[Any] | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        unpacker = msgpack.Unpacker(raw=False)
        while chunk := self.proc.stdout.read1(65536):
            unpacker.feed(chunk)
            for message in unpacker:
                if message[0] == 1:  # responses; notifications and requests from nvim are not used here
                    self._answers.put(message)
        self._answers.put(None)

    def request(self, method: str, *args: Any, timeout: float = 20.0) -> Any:
        self._next_id += 1
        self.proc.stdin.write(msgpack.packb([0, self._next_id, method, list(args)]))
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            answer = self._answers.get(timeout=max(deadline - time.monotonic(), 0.01))
            if answer is None:
                raise RuntimeError("nvim exited")
            _, msgid, error, result = answer
            if msgid == self._next_id:
                if error:
                    raise RuntimeError(f"nvim: {error}")
                return result

    def lua(self, code: str, *args: Any, timeout: float = 20.0) -> Any:
        return self.request("nvim_exec_lua", code, list(args), timeout=timeout)

    def command(self, command: str) -> None:
        self.request("nvim_command", command)

    def quit(self, timeout: float = 10.0) -> None:
        """`:qa!` (nvim then stops its language servers), killing nvim if it does not exit in time."""
        try:
            self.proc.stdin.write(msgpack.packb([2, "nvim_command", ["qa!"]]))
            self.proc.stdin.flush()
            self.proc.wait(timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(timeout=10)


# Counts publishDiagnostics messages (the test's own hook, not part of the user's config).
COUNT_DIAGNOSTICS = """
_G.published = 0
local original = vim.lsp.handlers["textDocument/publishDiagnostics"]
vim.lsp.handlers["textDocument/publishDiagnostics"] = function(err, result, ctx, config)
  _G.published = _G.published + 1
  return original(err, result, ctx, config)
end
"""

WAIT_ATTACHED = """
return vim.wait(15000, function()
  for _, client in pairs(vim.lsp.buf_get_clients(0)) do
    if client.initialized then return true end
  end
  return false
end, 20)
"""

WAIT_PUBLISHED = "local before = ...; return vim.wait(15000, function() return _G.published > before end, 20)"

DIAGNOSTICS = """
local out = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(out, { lnum = d.lnum, message = d.message, severity = d.severity })
end
return out
"""


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    with start_app(tmp_path / "app") as running:
        yield running


@pytest.fixture
def nvim(app: App, tmp_path: Path) -> Iterator[Nvim]:
    init = tmp_path / "init.lua"
    init.write_text(docs_init_lua())
    env = app.env()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[name] = str(tmp_path / name.lower())
    proc = subprocess.Popen(
        [NVIM, "--embed", "--headless", "-n", "-i", "NONE", "-u", str(init)],
        cwd=app.root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    editor = Nvim(proc)
    try:
        yield editor
    finally:
        editor.quit()


def save_lines(nvim: Nvim, lines: list[str]) -> None:
    """Replace the buffer's text and `:w`, waiting for the agent's diagnostics for this save."""
    before = nvim.lua("return _G.published")
    nvim.request("nvim_buf_set_lines", 0, 0, -1, False, lines)
    nvim.command("write")
    assert nvim.lua(WAIT_PUBLISHED, before), "no diagnostics were published after :w"


def test_save_reloads_and_a_broken_save_shows_a_diagnostic(app: App, nvim: Nvim):
    nvim.lua(COUNT_DIAGNOSTICS)
    nvim.command("edit app/views.py")
    assert nvim.lua("return vim.bo.filetype") == "python"
    assert nvim.lua(WAIT_ATTACHED), "the reload-agent client did not attach"
    assert app.get() == "hello v1"

    save_lines(nvim, views_source("models.GREETING + ' from neovim'").splitlines())
    assert app.get() == "hello from neovim"
    assert nvim.lua(DIAGNOSTICS) == []

    broken = ["from app import models", "", "", "def message():", "    return models.GREETING +"]
    save_lines(nvim, broken)
    [diagnostic] = nvim.lua(DIAGNOSTICS)
    assert diagnostic["lnum"] == 4  # 0-based: line 5, the broken one
    assert "SyntaxError" in diagnostic["message"]
    assert diagnostic["severity"] == 1  # vim.diagnostic.severity.ERROR
    assert app.get() == "hello from neovim"  # the failed reload left the program as it was

    save_lines(nvim, views_source("'fixed'").splitlines())
    assert nvim.lua(DIAGNOSTICS) == []
    assert app.get() == "fixed"
