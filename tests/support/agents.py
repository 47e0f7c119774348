"""Real agent hosts for tests: spawn, discover, always kill and reap.

:func:`launch` runs ``python -m reload_agent --quiet [options] SCRIPT`` (or any
command via :func:`spawn_host`, e.g. a script that calls ``reload_agent.listen()``
itself) in a private runtime directory, waits for the agent's connection file
(polling with a deadline: there is no event to await across processes), and
yields an :class:`AgentHost`. The process is killed and reaped on exit, even
when the test fails.

Typical use (``tests/conftest.py`` exposes it as the ``agent_host`` fixture)::

    with launch(tmp_path, "app.py", source=APP) as host:
        client = RawClient(host.address)
        client.initialize(host.token)
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from reload_agent_client import discovery

__all__ = ["AgentHost", "spawn_host", "launch", "wait_for", "host_env", "write_files"]

T = TypeVar("T")


@dataclasses.dataclass
class AgentHost:
    """A running host process with an agent inside."""

    proc: subprocess.Popen[bytes]
    pid: int
    address: str
    token: str | None
    runtime_dir: Path
    workdir: Path
    connection_file: Path

    @property
    def stdout_path(self) -> Path:
        return self.workdir / "host.stdout"

    @property
    def stderr_path(self) -> Path:
        return self.workdir / "host.stderr"

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait(self, timeout: float = 10.0) -> int:
        """Wait for the host to exit on its own; returns the exit code."""
        return self.proc.wait(timeout)


def wait_for(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.005, what: str = "condition") -> T:
    """Poll ``predicate`` until it returns something truthy; ``TimeoutError`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def host_env(workdir: Path, runtime_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """An environment isolated from the user's agents (own runtime dir and HOME)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELOAD_AGENT_")}
    env.update(
        RELOAD_AGENT_RUNTIME_DIR=str(runtime_dir),
        HOME=str(workdir),
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.pop("XDG_RUNTIME_DIR", None)
    env.update(extra or {})
    return env


@contextlib.contextmanager
def spawn_host(
    argv: Sequence[str],
    workdir: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
    wait_agent: bool = True,
) -> Iterator[AgentHost]:
    """Run ``argv`` (a command whose process starts an agent) in ``workdir`` and yield the host.

    Output goes to ``workdir/host.stdout`` and ``host.stderr`` (files, so a chatty host
    never blocks on a full pipe).
    """
    workdir = Path(workdir)
    runtime = workdir / "run"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    stdout = open(workdir / "host.stdout", "wb")
    stderr = open(workdir / "host.stderr", "wb")
    proc = subprocess.Popen(
        list(argv), cwd=workdir, env=host_env(workdir, runtime, env), stdout=stdout, stderr=stderr,
        stdin=subprocess.DEVNULL,
    )
    try:
        file = discovery.connection_file_path(proc.pid, runtime)
        if wait_agent:
            def ready() -> list[discovery.AgentInfo] | None:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"host exited with {proc.returncode} before its agent started:\n"
                        f"{(workdir / 'host.stderr').read_text(errors='replace')}"
                    )
                return [a for a in discovery.live_agents(runtime, clean=False) if a.pid == proc.pid]

            [info] = wait_for(ready, timeout, what="the agent's connection file")
            address, token = info.address, info.token
        else:
            address, token = "", None
        yield AgentHost(proc, proc.pid, address, token, runtime, workdir, file)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        stdout.close()
        stderr.close()


def launch(
    workdir: Path,
    script: str,
    *,
    source: str | None = None,
    files: dict[str, str] | None = None,
    options: Sequence[str] = (),
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> contextlib.AbstractContextManager[AgentHost]:
    """``python -m reload_agent --quiet OPTIONS SCRIPT ARGS`` in ``workdir``.

    ``source`` (dedented) is written to ``workdir/script`` first; ``files`` maps
    relative paths to the text of extra modules to create.
    """
    workdir = Path(workdir)
    write_files(workdir, {**(files or {}), **({script: source} if source is not None else {})})
    argv = [sys.executable, "-m", "reload_agent", "--quiet", *options, script, *args]
    return spawn_host(argv, workdir, env=env, timeout=timeout)


def write_files(root: Path, files: dict[str, str]) -> None:
    """Create ``files`` (relative path -> text, dedented) under ``root``."""
    for rel, text in files.items():
        path = Path(root) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))

