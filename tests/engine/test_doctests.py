"""The examples in the engine's docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["engine", "executor", "undo", "codeutil", "modules", "graph", "defindex", "results"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"reload_agent.engine.{name}")
    failed, attempted = doctest.testmod(module)
    assert attempted > 0 and failed == 0
