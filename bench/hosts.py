"""Start benchmark host processes (bench/agent_host.py) and connect to them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import BENCH, Child, Config, Skipped, agent_env, spawn
from wire import WireClient

__all__ = ["require_agent", "host", "connect"]


def require_agent() -> None:
    """Raise :class:`Skipped` when the agent cannot be started from this checkout yet."""
    try:
        from reload_agent import listen  # noqa: F401
        from reload_agent.engine import Engine, install_import_hook  # noqa: F401
    except ImportError as exc:
        raise Skipped(f"the agent cannot start from this checkout yet: {exc}") from None


@contextmanager
def host(cfg: Config, *args: str | Path, name: str = "host", timeout: float = 120) -> Iterator[tuple[Child, dict[str, Any]]]:
    """A running agent_host.py (its own runtime dir), and its ready line."""
    runtime = cfg.workdir / f"run-{name}"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    with spawn([sys.executable, BENCH / "agent_host.py", *args], env=agent_env(runtime)) as child:
        yield child, child.read_json(timeout)


def connect(info: dict[str, Any], timeout: float = 60) -> WireClient:
    """A :class:`WireClient` to the host's server, initialized with its token."""
    client = WireClient(info["address"], timeout=timeout)
    client.initialize(info.get("token"))
    return client
