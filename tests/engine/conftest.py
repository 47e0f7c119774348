"""Fixtures: real module files in a unique temp dir on sys.path, cleaned up after each test."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Iterator

import pytest

from reload_agent.engine import Engine, install_import_hook
from reload_agent.engine import sources


class ModuleDir:
    """Writes modules (``pkg.mod`` -> ``pkg/mod.py``, parents get ``__init__.py``) and imports them."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str, package: bool = False) -> Path:
        parts = name.split(".")
        if package:
            return self.root.joinpath(*parts, "__init__.py")
        return self.root.joinpath(*parts[:-1], parts[-1] + ".py")

    def write(self, name: str, text: str, package: bool = False) -> Path:
        path = self.path(name, package)
        path.parent.mkdir(parents=True, exist_ok=True)
        parent = path.parent
        while parent != self.root and parent.is_relative_to(self.root):
            init = parent / "__init__.py"
            if not init.exists():
                init.write_text("")
            parent = parent.parent
        path.write_text(textwrap.dedent(text))
        importlib.invalidate_caches()
        return path

    def load(self, name: str, text: str, package: bool = False) -> ModuleType:
        self.write(name, text, package)
        return importlib.import_module(name)


@pytest.fixture
def mods(tmp_path: Path) -> Iterator[ModuleDir]:
    install_import_hook()
    root = tmp_path / "mods"
    root.mkdir()
    sys.path.insert(0, str(root))
    before = set(sys.modules)
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        yield ModuleDir(root)
    finally:
        sys.dont_write_bytecode = dont_write
        sys.path.remove(str(root))
        for name in set(sys.modules) - before:
            module = sys.modules.pop(name, None)
            sources.forget(name)
            del module
        importlib.invalidate_caches()


@pytest.fixture
def engine() -> Engine:
    return Engine(history=10)
