"""``reload --push``: send local file contents to an agent that does not share our file system.

The text of each module's local file travels in the reload's ``sources``. Local
files are matched to loaded modules through ``listModules``: the same path, or
the same trailing path components as the agent's file (``app/views.py`` matches
``/srv/app/app/views.py`` for module ``app.views``).

>>> loaded = [{"name": "app.views", "file": "/srv/x/app/views.py"}]
>>> module_for_file("/home/me/src/app/views.py", loaded)["name"]
'app.views'
"""

from __future__ import annotations

import os
from pathlib import Path

from .connection import Client
from .errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["collect_sources", "module_for_file"]


def _depth(module: dict[str, Any]) -> int:
    """Trailing path components that identify a module's file (``pkg/__init__.py`` needs the dir)."""
    parts = len(str(module["name"]).split("."))
    return parts + 1 if Path(str(module.get("file") or "")).name == "__init__.py" else parts


def module_for_file(path: str, loaded: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The loaded module whose file is ``path``, or whose file ends like it."""
    real = os.path.realpath(path)
    with_files = [m for m in loaded if m.get("file")]
    for module in with_files:
        if os.path.realpath(str(module["file"])) == real:
            return module
    local_parts = Path(real).parts
    matches = []
    for module in with_files:
        depth = _depth(module)
        remote_parts = Path(str(module["file"])).parts
        if depth <= len(local_parts) and remote_parts[-depth:] == local_parts[-depth:]:
            matches.append(module)
    if len(matches) > 1:
        names = ", ".join(m["name"] for m in matches)
        raise UsageError(f"{path} matches several loaded modules ({names}): name the module instead")
    return matches[0] if matches else None


def _local_file_for(module: dict[str, Any]) -> Path:
    remote = module.get("file")
    if remote and os.path.isfile(remote):
        return Path(remote)
    # Not on this file system: look for the module under the current directory.
    relative = Path(*str(module["name"]).split("."))
    for candidate in (relative.with_suffix(".py"), relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    raise UsageError(f"--push: no local file for module {module['name']} (tried {remote} and {relative}.py)")


def collect_sources(client: Client, modules: list[str], files: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """``({module: text}, {agent's file path: text})`` for ``--push``."""
    loaded = client.list_modules()
    by_name = {m["name"]: m for m in loaded}
    chosen: dict[str, Path] = {}
    for name in modules:
        if name not in by_name:
            raise UsageError(f"--push: module {name} is not loaded in the agent's process")
        chosen[name] = _local_file_for(by_name[name])
    for path in files:
        module = module_for_file(path, loaded)
        if module is None:
            raise UsageError(f"--push: {path} is not the file of any loaded module")
        chosen[module["name"]] = Path(path)
    sources: dict[str, str] = {}
    by_remote_file: dict[str, str] = {}
    for name, local in chosen.items():
        try:
            text = local.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--push: cannot read {local}: {exc.strerror or exc}") from None
        sources[name] = text
        by_remote_file[str(by_name[name].get("file") or local)] = text
    return sources, by_remote_file
