"""``reload-agent-cli watch``: an edit (saved atomically, as editors do) reloads the host; Ctrl-C exits 0."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
from collections.abc import Iterator

import pytest
from clienthost import CLI, App, views_source

#: The command docs/cli.md shows; this test runs exactly it.
WATCH_ARGS = ["watch", "app/"]


class Lines:
    """Lines of a pipe, delivered through a queue so every read has a deadline."""

    def __init__(self, pipe) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(pipe,), daemon=True).start()

    def _pump(self, pipe) -> None:
        for line in pipe:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def next(self, timeout: float = 10.0) -> str | None:
        return self._queue.get(timeout=timeout)

    def rest(self, timeout: float = 10.0) -> list[str]:
        """Every remaining line, once the writer has closed the pipe."""
        lines = []
        while (line := self.next(timeout)) is not None:
            lines.append(line)
        return lines

    def until(self, predicate, timeout: float = 10.0) -> str:
        seen = []
        while True:
            line = self.next(timeout)
            if line is None:
                raise AssertionError(f"stream ended; saw {seen}")
            seen.append(line)
            if predicate(line):
                return line


@pytest.fixture
def watcher(app: App) -> Iterator[tuple[subprocess.Popen[str], Lines, Lines]]:
    proc = subprocess.Popen(
        [*CLI, *WATCH_ARGS], cwd=app.root, env=app.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        out, err = Lines(proc.stdout), Lines(proc.stderr)
        err.until(lambda line: line.startswith("watching app/"))
        yield proc, out, err
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def atomic_save(path, text: str) -> None:
    """Write a temporary file and rename it over ``path`` (vim, VS Code and friends do this)."""
    tmp = path.with_name(f".{path.name}.swp-new")
    tmp.write_text(text)
    os.replace(tmp, path)


def test_watch_reloads_on_save_reports_failures_and_stops_on_ctrl_c(app: App, watcher):
    proc, out, err = watcher
    atomic_save(app.root / "app/views.py", views_source("'watched v2'"))
    line = out.until(lambda s: "app.views" in s)
    assert line.startswith("reloaded app.views (patch: 1 function) in ")
    assert app.get() == "watched v2"

    (app.root / "app/views.py").write_text("def message(:\n")
    assert err.until(lambda s: s.startswith("reload failed")).startswith("reload failed: SyntaxError")
    err.until(lambda s: s == "rolled back, process unchanged")
    assert app.get() == "watched v2"

    (app.root / "notes.txt").write_text("not python: ignored")
    (app.root / "app/views.py").write_text(views_source("'watched v3'"))
    assert out.until(lambda s: "app.views" in s).startswith("reloaded app.views")
    assert app.get() == "watched v3"

    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 0
    assert not any("Traceback" in line for line in err.rest())


def test_watch_json_prints_one_document_per_reload(app: App):
    proc = subprocess.Popen(
        [*CLI, "watch", "app", "--json"], cwd=app.root, env=app.env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    try:
        out, err = Lines(proc.stdout), Lines(proc.stderr)
        err.until(lambda line: line.startswith("watching"))
        atomic_save(app.root / "app/views.py", views_source("'json v2'"))
        doc = json.loads(out.next())
        assert doc["pid"] == app.host.pid and doc["modules"][0]["name"] == "app.views"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_watch_of_a_missing_path_is_a_usage_error(app: App):
    proc = app.cli("watch", "does-not-exist")
    assert proc.returncode == 2 and "no such path" in proc.stderr


def test_watch_exits_2_when_the_program_is_gone(app: App, watcher):
    proc, out, err = watcher
    app.host.proc.kill()
    app.host.proc.wait(timeout=10)
    (app.root / "app/views.py").write_text(views_source("'nobody listens'"))
    assert proc.wait(timeout=15) == 2
    assert any("connection" in line or "closed" in line for line in err.rest())
