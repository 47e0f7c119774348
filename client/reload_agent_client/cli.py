"""``reload-agent-cli``: reload, roll back and inspect running agents from a shell.

Global options (``--connect``, ``--token``, ``--pid``, ``--all``, ``--json``,
``--timeout``) work before or after the subcommand. Exit codes: 0 success,
1 the reload/rollback/verify failed (the process is as it was), 2 usage,
connection or authentication error. ``--json`` prints exactly one JSON
document: the protocol result or ``{"error": {code, message, data}}``.

>>> build_parser().parse_args(["reload", "app.views", "--json"]).json_
True
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import __version__
from .connection import DEFAULT_TIMEOUT
from .errors import UsageError
from .protocol import MODES

if TYPE_CHECKING:
    from typing import Any, NoReturn

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``--json`` can report usage errors too."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _add_global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # Sub-parsers get SUPPRESS defaults so an option given before the subcommand
    # is not overwritten by the sub-parser's default.
    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("global options (before or after the subcommand)")
    group.add_argument("--connect", metavar="ADDRESS", default=default(None), help="HOST:PORT or unix:PATH of the agent")
    group.add_argument("--token", default=default(None), help="token for --connect (default: from discovery)")
    group.add_argument("--pid", type=int, default=default(None), help="the agent of this process")
    group.add_argument("--all", dest="all_", action="store_true", default=default(False), help="every running agent")
    group.add_argument("--json", dest="json_", action="store_true", default=default(False), help="print one JSON document")
    group.add_argument(
        "--timeout", type=float, metavar="SECONDS", default=default(DEFAULT_TIMEOUT), help="seconds to wait for the agent"
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: global options, then one sub-parser per command."""
    parser = _Parser(
        prog="reload-agent-cli",
        description="Reload code in running Python processes that run reload-agent.",
        epilog="exit codes: 0 success, 1 reload/rollback/verify failed (process unchanged), 2 usage or connection error",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        _add_global_options(p, top=False)
        return p

    command("agents", "list running agents found by discovery")

    p = command("list", "list the modules loaded in the agent's process")
    p.add_argument("pattern", nargs="?", help="glob on module names, e.g. 'app.*'")
    p.add_argument("--stale", action="store_true", help="only modules whose file changed since loading")

    p = command("reload", "reload modules as one transaction (all or nothing)")
    p.add_argument("modules", nargs="*", metavar="MODULE")
    p.add_argument("--file", action="append", default=[], metavar="PATH", help="reload the module(s) loaded from PATH")
    p.add_argument("--stale", action="store_true", help="reload every module whose file changed")
    p.add_argument("--dependents", action="store_true", help="also reload modules that import them")
    p.add_argument("--mode", choices=MODES, help="patch: swap function code only; full: re-run the module")
    p.add_argument("--push", action="store_true", help="send the local file contents (agent on another file system)")
    p.add_argument("--verify", metavar="CMD", help="run CMD after the reload; roll back if it exits non-zero")
    p.add_argument("--verify-timeout", type=float, default=60.0, metavar="SECONDS", help="limit for --verify CMD")
    p.add_argument("--dry-run", action="store_true", help="check what would happen without changing anything")

    p = command("rollback", "undo the newest transaction (or the newest touching MODULE)")
    p.add_argument("module", nargs="?", metavar="MODULE")
    p.add_argument("--transaction", type=int, metavar="N", help="undo transaction N")

    p = command("history", "recent transactions")
    p.add_argument("--limit", type=int, metavar="N")

    command("status", "the agent's process, counters and watched paths")

    p = command("watch", "watch files locally and reload the modules loaded from them on change")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--mode", choices=MODES)

    command("lsp", "stdio <-> agent bridge for editors (cmd = {'reload-agent-cli', 'lsp'})")
    return parser


def _validate(args: argparse.Namespace) -> None:
    if args.command == "reload" and not (args.modules or args.file or args.stale):
        raise UsageError("reload-agent-cli reload: name at least one MODULE, --file PATH or --stale")
    if args.command == "reload" and args.push and not (args.modules or args.file):
        raise UsageError("reload-agent-cli reload --push: name the MODULEs or --file PATHs to send")
    if args.command == "lsp" and args.all_:
        raise UsageError("reload-agent-cli lsp: --all makes no sense for one editor connection")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``reload-agent-cli``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            raise UsageError("reload-agent-cli: a COMMAND is required")
        _validate(args)
    except UsageError as exc:
        from .commands import report_error

        return report_error(exc, "--json" in argv)
    # Only now the machinery: `--help` and usage errors never pay for it.
    from .commands import run

    try:
        return run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # stdout closed early (`| head`): not worth a traceback, and the final
        # flush at exit must not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
