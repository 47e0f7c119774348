"""Fixtures for the agent tests: embedded and launched hosts, raw clients, all cleaned up."""

from __future__ import annotations

import contextlib
import itertools
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.agents import AgentHost, launch, spawn_host, write_files
from tests.support.rawclient import RawClient

HOSTS = Path(__file__).parent / "hosts"

#: A small module the tests reload; ``value()`` tells which version runs.
MOD_A = """\
def value():
    return 1
"""


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Callable[..., AgentHost]]:
    """Start ``hosts/embedded.py`` with a config; the host is killed and reaped after the test."""
    counter = itertools.count()
    with contextlib.ExitStack() as stack:
        def start(files: dict[str, str] | None = None, **config: Any) -> AgentHost:
            workdir = tmp_path / f"host{next(counter)}"
            workdir.mkdir()
            write_files(workdir, {"mod_a.py": MOD_A, **(files or {})})
            config.setdefault("imports", ["mod_a"])
            if "listen" in config:  # "{workdir}" lets a test put a Unix socket in the host's directory
                listen = config["listen"]
                listen = [listen] if isinstance(listen, str) else listen
                config["listen"] = [a.replace("{workdir}", str(workdir)) for a in listen]
            argv = [sys.executable, str(HOSTS / "embedded.py")]
            return stack.enter_context(spawn_host(argv, workdir, env={"HOST_CONFIG": json.dumps(config)}))

        yield start


@pytest.fixture
def launched(tmp_path: Path) -> Iterator[Callable[..., AgentHost]]:
    """Start ``python -m reload_agent --quiet [options] script`` hosts; killed and reaped after the test."""
    counter = itertools.count()
    with contextlib.ExitStack() as stack:
        def start(script: str, source: str, **kwargs: Any) -> AgentHost:
            workdir = tmp_path / f"launched{next(counter)}"
            workdir.mkdir()
            return stack.enter_context(launch(workdir, script, source=source, **kwargs))

        yield start


@pytest.fixture
def clients() -> Iterator[Callable[..., RawClient]]:
    """Open raw clients that are closed after the test."""
    opened: list[RawClient] = []

    def connect(address: str, token: str | None = None, *, initialize: bool = True) -> RawClient:
        client = RawClient(address)
        opened.append(client)
        if initialize:
            response = client.initialize(token)
            assert "result" in response, response
        return client

    yield connect
    for client in opened:
        client.close()
