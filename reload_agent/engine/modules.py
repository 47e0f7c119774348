"""Which loaded module is which: names and files -> modules, and whether they can be reloaded.

>>> import json
>>> reload_blocker(json) is None
True
>>> reload_blocker(sys)
'built-in module'
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from types import ModuleType

__all__ = ["PROTECTED_PACKAGES", "is_protected", "reload_blocker", "source_file", "modules_for_file"]

_SOURCE_SUFFIXES = (".py", ".pyw")

#: The agent itself and the libraries it runs on: re-running them inside the agent would break it
#: (an upgrade on disk must not make them "stale" and reloadable either).
PROTECTED_PACKAGES = frozenset(
    {"reload_agent", "reload_agent_client", "pygls", "lsprotocol", "cattrs", "cattr", "attr", "attrs",
     "msgpack", "watchfiles", "anyio"}
)


_PROTECTED_PREFIXES = tuple(name + "." for name in sorted(PROTECTED_PACKAGES))


def is_protected(name: str) -> bool:
    """Is ``name`` (a module name) part of a protected package?

    >>> is_protected("pygls.server"), is_protected("pyglsx")
    (True, False)
    """
    return name in PROTECTED_PACKAGES or name.startswith(_PROTECTED_PREFIXES)


def source_file(module: ModuleType) -> str | None:
    """The ``.py`` file a module runs from, or None."""
    file = getattr(module, "__file__", None)
    return file if isinstance(file, str) and file.endswith(_SOURCE_SUFFIXES) else None


def reload_blocker(module: ModuleType) -> str | None:
    """Why ``module`` cannot be reloaded from source (None: it can)."""
    name = getattr(module, "__name__", None)
    if isinstance(name, str) and is_protected(name):
        return "it is part of reload-agent or a library the agent runs on (reloading it would break the agent)"
    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None)
    loader = getattr(spec, "loader", None) or getattr(module, "__loader__", None)
    if origin == "built-in" or loader is importlib.machinery.BuiltinImporter:
        return "built-in module"
    if origin == "frozen" or loader is importlib.machinery.FrozenImporter:
        return "frozen module"
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        if hasattr(module, "__path__"):
            return "namespace package (no source file)"
        return "no source file"
    if file.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)):
        return "extension module (compiled code)"
    if not file.endswith(_SOURCE_SUFFIXES):
        return f"no Python source ({os.path.basename(file)})"
    return None


_realpaths: dict[str, str] = {}


def _realpath(path: str) -> str:
    found = _realpaths.get(path)
    if found is None:
        found = _realpaths[path] = os.path.realpath(path)
    return found


class _FileIndex:
    """realpath -> names of the loaded modules with that source, rebuilt when it misses or is out of date."""

    def __init__(self) -> None:
        self._by_file: dict[str, list[str]] = {}
        self._size = -1

    def _rebuild(self) -> None:
        by_file: dict[str, list[str]] = {}
        modules = list(sys.modules.items())
        for name, module in modules:
            file = source_file(module) if module is not None else None
            if file is not None:
                by_file.setdefault(_realpath(file), []).append(name)
        self._by_file, self._size = by_file, len(modules)

    def lookup(self, path: str) -> list[str]:
        target = os.path.realpath(path)
        if self._size != len(sys.modules):
            self._rebuild()
        for attempt in (0, 1):
            names = self._by_file.get(target, [])
            # an entry may be out of date (a module replaced meanwhile): check each against sys.modules
            found = [n for n in names if (f := source_file(sys.modules.get(n))) is not None and _realpath(f) == target]
            if (found and len(found) == len(names)) or attempt:
                return sorted(found)
            self._rebuild()  # a miss may be a module imported since: look again, once
        return []


_index = _FileIndex()


def modules_for_file(path: str) -> list[str]:
    """Names of loaded modules whose source is ``path`` (compared by realpath; ``pkg/__init__.py`` -> pkg)."""
    return _index.lookup(path)
