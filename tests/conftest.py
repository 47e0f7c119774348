"""Shared pytest setup: make ``tests.support`` importable and isolate agents from the user's."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def _private_runtime_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own runtime dir, so it never sees (or cleans) anyone else's agents."""
    run = tmp_path_factory.mktemp("run")
    monkeypatch.setenv("RELOAD_AGENT_RUNTIME_DIR", str(run))
    for name in ("RELOAD_AGENT_LISTEN", "RELOAD_AGENT_TOKEN", "RELOAD_AGENT_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    return run
