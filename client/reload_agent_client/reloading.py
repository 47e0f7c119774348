"""The ``reload`` command: optional ``--push`` of local sources and ``--verify`` rollback.

``--push`` is for agents that do not share our file system: the text of each
module's local file travels in ``sources``. Local files are matched to loaded
modules through ``listModules``: the same path, or the same trailing path
components as the agent's file (``app/views.py`` matches
``/srv/app/app/views.py`` for module ``app.views``).

>>> loaded = [{"name": "app.views", "file": "/srv/x/app/views.py"}]
>>> module_for_file("/home/me/src/app/views.py", loaded)["name"]
'app.views'
"""

from __future__ import annotations

import os
from pathlib import Path

from .connection import Client
from .errors import ClientError, ReloadFailed, UsageError
from .outcome import Outcome
from .protocol import ErrorCode
from .render import format_failure, format_reload, read_source_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .cliargs import Args

__all__ = ["reload_command", "collect_sources", "module_for_file", "verify_and_maybe_rollback"]


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


def reload_command(client: Client, args: Args) -> Outcome:
    """Run ``reload`` against one connected agent."""
    modules = list(args.modules)
    files = [os.path.abspath(f) for f in args.file]
    sources: dict[str, str] | None = None
    pushed: dict[str, str] = {}
    if args.push:
        sources, pushed = collect_sources(client, modules, args.file)
        modules, files = list(sources), []
    try:
        result = client.reload(
            modules,
            files=files,
            stale=args.stale,
            dependents=args.dependents,
            mode=args.mode,
            sources=sources,
            dry_run=args.dry_run,
        )
    except ReloadFailed as exc:
        text = format_failure(exc.data, exc.message, lambda f, n: read_source_line(f, n, pushed))
        return Outcome(1, {"error": exc.to_json()}, text, failed=True)
    text = format_reload(result)
    if args.verify and not args.dry_run:
        return verify_and_maybe_rollback(client, result, text, args.verify, args.verify_timeout)
    return Outcome(0, result, text)


def verify_and_maybe_rollback(client: Client, result: dict[str, Any], text: str, command: str, timeout: float) -> Outcome:
    """Run ``command`` in a shell; if it fails, roll ``result``'s transaction back (exit code 1)."""
    import subprocess
    import sys

    transaction = result.get("transaction")
    try:
        # The command's output goes to stderr so that --json keeps stdout to one document.
        proc = subprocess.run(command, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        sys.stderr.write(proc.stdout.decode("utf-8", "replace"))
        problem = f"exited with {proc.returncode}" if proc.returncode else None
    except subprocess.TimeoutExpired as exc:
        sys.stderr.write((exc.stdout or b"").decode("utf-8", "replace"))
        problem = f"did not finish within {timeout:g} s"
    if problem is None:
        return Outcome(0, result, f"{text}\nverified: `{command}` exited with 0")
    rollback: dict[str, Any] | None = None
    try:
        rollback = client.rollback(transaction=transaction)
        tail = f"rolled back transaction {transaction}, process unchanged"
    except ClientError as exc:
        tail = f"ROLLBACK FAILED: {exc}; transaction {transaction} is still applied"
    data = {
        "transaction": transaction,
        "phase": "verify",
        "module": None,
        "exception": {
            "type": "VerifyFailed",
            "message": f"`{command}` {problem}",
            "file": None,
            "line": None,
            "column": None,
            "traceback": [],
        },
        "rolledBack": rollback is not None,
        "reload": result,
        "rollback": rollback,
    }
    doc = {"error": {"code": int(ErrorCode.RELOAD_FAILED), "message": "verification command failed", "data": data}}
    human = f"{text}\nverify failed: `{command}` {problem}\n{tail}"
    return Outcome(1, doc, human, failed=True)
