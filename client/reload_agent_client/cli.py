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
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from . import __version__
from .connection import DEFAULT_TIMEOUT, Client, connect
from .errors import ClientError
from .outcome import Outcome, UsageError, error_outcome
from .protocol import MODES
from .selection import SelectionError, Target, select_agents

__all__ = ["main", "build_parser", "ENV_WIRE"]

#: Set to ``json`` to make the CLI speak JSON instead of msgpack on the wire (debugging).
ENV_WIRE = "RELOAD_AGENT_CLIENT_WIRE"


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


# -- commands that talk to one agent --------------------------------------------------


def _cmd_list(client: Client, args: argparse.Namespace) -> Outcome:
    from .render import format_modules

    modules = client.list_modules(args.pattern, stale=args.stale)
    return Outcome(0, {"modules": modules}, format_modules(modules))


def _cmd_reload(client: Client, args: argparse.Namespace) -> Outcome:
    from .reloading import reload_command

    return reload_command(client, args)


def _cmd_rollback(client: Client, args: argparse.Namespace) -> Outcome:
    from .render import format_rollback

    result = client.rollback(args.module, transaction=args.transaction)
    return Outcome(0, result, format_rollback(result))


def _cmd_history(client: Client, args: argparse.Namespace) -> Outcome:
    from .render import format_history

    transactions = client.history(args.limit)
    return Outcome(0, {"transactions": transactions}, format_history(transactions))


def _cmd_status(client: Client, args: argparse.Namespace) -> Outcome:
    from .render import format_status

    status = client.status()
    return Outcome(0, status, format_status(status))


_AGENT_COMMANDS: dict[str, Callable[[Client, argparse.Namespace], Outcome]] = {
    "list": _cmd_list,
    "reload": _cmd_reload,
    "rollback": _cmd_rollback,
    "history": _cmd_history,
    "status": _cmd_status,
}


def _cmd_agents(args: argparse.Namespace) -> Outcome:
    from .discovery import live_agents
    from .render import format_agents

    agents = [{k: v for k, v in a.to_json().items() if k != "token"} for a in live_agents()]
    return Outcome(0, {"agents": agents}, format_agents(agents))


# -- running and reporting ------------------------------------------------------------


def _wire_json() -> bool:
    return os.environ.get(ENV_WIRE, "").lower() == "json"


def _run_one(target: Target, args: argparse.Namespace) -> Outcome:
    try:
        with connect(target.address, target.token, args.timeout, json=_wire_json()) as client:
            return _AGENT_COMMANDS[args.command](client, args)
    except ClientError as exc:
        return error_outcome(exc, target)


def _emit(outcome: Outcome, json_mode: bool) -> int:
    if json_mode:
        print(json.dumps(outcome.doc, indent=2, ensure_ascii=False))
    elif outcome.text:
        print(outcome.text, file=sys.stderr if outcome.failed else sys.stdout)
    return outcome.code


def _run_targets(targets: list[Target], args: argparse.Namespace) -> int:
    results = [(t, _run_one(t, args)) for t in targets]
    if not args.all_:
        return _emit(results[0][1], args.json_)
    code = max(o.code for _, o in results)
    if args.json_:
        entries = []
        for target, outcome in results:
            key = "error" if outcome.failed else "result"
            body = outcome.doc.get("error") if outcome.failed else outcome.doc
            entries.append({"pid": target.pid, "address": target.address, key: body})
        print(json.dumps({"agents": entries}, indent=2, ensure_ascii=False))
        return code
    for target, outcome in results:
        print(f"== {target.label} ==")
        _emit(outcome, False)
    return code


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
        if args.command == "agents":
            return _emit(_cmd_agents(args), args.json_)
        targets = select_agents(args.connect, args.token, args.pid, args.all_)
        if args.command == "lsp":
            from .bridge import run_bridge

            return run_bridge(targets[0], timeout=args.timeout)
        if args.command == "watch":
            from .watching import run_watch

            return run_watch(targets, args)
        return _run_targets(targets, args)
    except (UsageError, SelectionError) as exc:
        return _emit(error_outcome(exc), "--json" in argv)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # stdout closed early (`| head`): not worth a traceback, and the final
        # flush at exit must not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
