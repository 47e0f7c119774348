"""``reload-agent-cli watch PATH...``: reload-on-save for any editor.

Watches files locally with watchfiles, maps each changed ``.py`` file to the
modules the agent loaded from it (``listModules`` files, refreshed when an
unknown file changes, since the host may have imported it meanwhile) and
reloads them as one transaction per agent. Prints one report per reload
(``--json``: one JSON document per line). Editors that save atomically
(write a temporary file, rename it over the original) show up as ``added``
events; any event that leaves an existing file counts as a change.
Ctrl-C ends it with exit code 0.
"""

from __future__ import annotations

import json
import os
import sys

from .connection import Client, connect
from .errors import ClientError, RemoteError
from .outcome import Outcome, error_outcome
from .render import format_reload
from .selection import Target

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .cliargs import Args

__all__ = ["run_watch", "ModuleMap"]

#: How often watchfiles yields even without changes; the first yield means "watching".
_TICK_MS = 250


class ModuleMap:
    """Real file path -> names of the modules an agent loaded from it."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._by_file: dict[str, list[str]] = {}

    def refresh(self) -> None:
        """Ask the agent again which file each module came from."""
        by_file: dict[str, list[str]] = {}
        for module in self._client.list_modules():
            if module.get("file") and module.get("reloadable", True):
                by_file.setdefault(os.path.realpath(module["file"]), []).append(module["name"])
        self._by_file = by_file

    def modules_for(self, paths: list[str]) -> list[str]:
        """Modules loaded from any of ``paths`` (real paths), each once."""
        if any(p not in self._by_file for p in paths):
            self.refresh()
        names: list[str] = []
        for path in paths:
            names.extend(n for n in self._by_file.get(path, []) if n not in names)
        return names


def _changed_python_files(changes: set[tuple[Any, str]]) -> list[str]:
    return sorted({os.path.realpath(p) for _, p in changes if p.endswith(".py") and os.path.isfile(p)})


def _report(outcome: Outcome, target: Target, args: Args, several: bool) -> None:
    if args.json_:
        entry = {"pid": target.pid, "address": target.address, **outcome.doc}
        print(json.dumps(entry, ensure_ascii=False), flush=True)
        return
    text = f"[{target.label}] {outcome.text}" if several else outcome.text
    print(text, file=sys.stderr if outcome.failed else sys.stdout, flush=True)


def _reload(client: Client, names: list[str], mode: str | None) -> Outcome:
    try:
        result = client.reload(names, mode=mode)
    except RemoteError as exc:
        # A refused or failed reload is one report; the watch goes on.
        return error_outcome(exc)
    return Outcome(0, result, format_reload(result))


def run_watch(targets: list[Target], args: Args) -> int:
    """Watch ``args.paths`` and reload into every target until Ctrl-C; exit code."""
    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:
        print(f"reload-agent-cli watch: no such path: {', '.join(missing)}", file=sys.stderr)
        return 2
    sessions: list[tuple[Target, Client, ModuleMap]] = []
    try:
        for target in targets:
            client = connect(target.address, target.token, args.timeout)
            sessions.append((target, client, ModuleMap(client)))
        for _, _, modules in sessions:
            modules.refresh()
        return _loop(sessions, args)
    except KeyboardInterrupt:
        return 0
    except ClientError as exc:
        outcome = error_outcome(exc)
        print(json.dumps(outcome.doc) if args.json_ else outcome.text, file=sys.stderr, flush=True)
        return outcome.code
    finally:
        for _, client, _ in sessions:
            client.close()


def _loop(sessions: list[tuple[Target, Client, ModuleMap]], args: Args) -> int:
    import watchfiles  # lazy: only this command needs it

    several = len(sessions) > 1
    announced = False
    for changes in watchfiles.watch(*args.paths, yield_on_timeout=True, rust_timeout=_TICK_MS, raise_interrupt=True):
        if not announced:
            # watchfiles has registered its watches by its first yield: from now on no edit is missed.
            announced = True
            print(f"watching {', '.join(args.paths)} (Ctrl-C to stop)", file=sys.stderr, flush=True)
        paths = _changed_python_files(changes)
        if not paths:
            continue
        for target, client, modules in sessions:
            names = modules.modules_for(paths)
            if names:
                _report(_reload(client, names, args.mode), target, args, several)
    return 0
