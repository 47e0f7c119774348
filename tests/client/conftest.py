"""Fixtures for the client tests: ``app`` is a real host process with an agent inside."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from clienthost import App, start_app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    with start_app(tmp_path / "app") as running:
        yield running
