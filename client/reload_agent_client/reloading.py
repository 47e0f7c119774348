"""The ``reload`` command: optional ``--push`` of local sources (:mod:`.pushing`) and ``--verify`` rollback."""

from __future__ import annotations

import os

from .connection import Client
from .errors import ClientError, ReloadFailed
from .outcome import Outcome, error_document
from .protocol import ErrorCode
from .render import format_failure, format_reload, read_source_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .cliargs import Args

__all__ = ["reload_command", "verify_and_maybe_rollback"]


def reload_command(client: Client, args: Args) -> Outcome:
    """Run ``reload`` against one connected agent."""
    modules = list(args.modules)
    files = [os.path.abspath(f) for f in args.file]
    sources: dict[str, str] | None = None
    pushed: dict[str, str] = {}
    if args.push:
        from .pushing import collect_sources

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
        return Outcome(1, error_document(exc), text, failed=True)
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
