"""Helpers the reliability tests add on top of ``tests/support``.

``tests/support`` starts hosts (``agents.launch``) and speaks raw JSON-RPC
(``rawclient.RawClient``); this module adds what only these tests need: an
authenticated session in one call, a result-or-fail call, the HTTP probe that
reads a test host's own view of itself (``hosts/probe.py``), and ``/proc``
readings for leak checks.
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.support.agents import AgentHost, launch, wait_for
from tests.support.rawclient import RawClient

__all__ = [
    "HOSTS",
    "launch_host",
    "session",
    "call",
    "Probe",
    "proc_fds",
    "proc_threads",
    "proc_rss_kb",
    "assert_no_thread_leak",
]

HOSTS = Path(__file__).parent / "hosts"


def launch_host(
    workdir: Path, script: str, args: Sequence[str] = (), *, options: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> contextlib.AbstractContextManager[AgentHost]:
    """Launch ``hosts/<script>`` with the agent (``--quiet``), in ``workdir``, killed and reaped after."""
    return launch(Path(workdir), str(HOSTS / script), options=options, args=args, env=env)


def session(address: str, token: str | None, *, timeout: float = 10.0) -> RawClient:
    """A connection that has passed ``initialize`` (closed again if it did not)."""
    client = RawClient(address, timeout=timeout)
    try:
        reply = client.initialize(token)
        assert "result" in reply, reply
    except BaseException:
        client.close()
        raise
    return client


def call(client: RawClient, method: str, params: Any = None, **kw: Any) -> Any:
    """``client.request`` that returns the ``result`` and fails the test on an error response."""
    reply = client.request(method, {} if params is None else params, **kw)
    assert "error" not in reply, reply
    return reply["result"]


class Probe:
    """HTTP client for a host's ``hosts/probe.py`` endpoint."""

    def __init__(self, workdir: Path, timeout: float = 20.0) -> None:
        info_path = Path(workdir) / "probe.json"
        wait_for(info_path.exists, timeout, what="the host's probe.json")
        self.port = json.loads(info_path.read_text())["port"]

    def get(self, route: str, **args: str) -> Any:
        query = "&".join(f"{k}={v}" for k, v in args.items())
        url = f"http://127.0.0.1:{self.port}/{route}" + (f"?{query}" if query else "")
        with urllib.request.urlopen(url, timeout=20) as reply:
            return json.load(reply)


def proc_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def proc_threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def proc_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS line for pid {pid}")


def _pooled(name: str) -> bool:
    # asyncio's default executor: grows on demand up to a fixed maximum and never shrinks.
    return name.startswith("asyncio_")


def assert_no_thread_leak(probe: Probe, baseline: list[str], timeout: float = 15.0) -> None:
    """The host's threads are the baseline's, give or take workers of the bounded asyncio pool.

    Thread names come from the host itself (``/proc`` has no Python thread names);
    connection threads that are still winding down get ``timeout`` seconds.
    """
    pool_max = min(32, (os.cpu_count() or 1) + 4)
    expected = sorted(n for n in baseline if not _pooled(n))

    def settled() -> list[str] | None:
        names = probe.get("snapshot")["threads"]
        others = sorted(n for n in names if not _pooled(n))
        return names if others == expected and len(names) - len(others) <= pool_max else None

    try:
        wait_for(settled, timeout, interval=0.05, what="threads back to the baseline")
    except TimeoutError:
        raise AssertionError(f"threads leaked: {baseline} -> {probe.get('snapshot')['threads']}") from None
