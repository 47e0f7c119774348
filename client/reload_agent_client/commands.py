"""What each ``reload-agent-cli`` command does once the command line is parsed.

Commands that talk to an agent return an :class:`Outcome`; :func:`run` picks
the agents (CONTRACT section 3), runs the command against each, and prints
either the human text or exactly one JSON document. ``cli.py`` imports this
module only after parsing, so ``--help`` stays cheap.
"""

from __future__ import annotations

import json
import os
import sys

from .connection import Client, connect
from .errors import ClientError
from .outcome import Outcome, error_outcome
from .reloading import reload_command
from .render import format_agents, format_history, format_modules, format_rollback, format_status
from .selection import SelectionError, Target, select_agents

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from .cliargs import Args

__all__ = ["run", "report_error", "ENV_WIRE"]

#: Set to ``json`` to make the CLI speak JSON instead of msgpack on the wire (debugging, packet captures).
ENV_WIRE = "RELOAD_AGENT_CLIENT_WIRE"


# -- commands that talk to one agent --------------------------------------------------


def _cmd_list(client: Client, args: Args) -> Outcome:
    modules = client.list_modules(args.pattern, stale=args.stale)
    return Outcome(0, {"modules": modules}, format_modules(modules))


def _cmd_rollback(client: Client, args: Args) -> Outcome:
    result = client.rollback(args.module, transaction=args.transaction)
    return Outcome(0, result, format_rollback(result))


def _cmd_history(client: Client, args: Args) -> Outcome:
    transactions = client.history(args.limit)
    return Outcome(0, {"transactions": transactions}, format_history(transactions))


def _cmd_status(client: Client, args: Args) -> Outcome:
    status = client.status()
    return Outcome(0, status, format_status(status))


_AGENT_COMMANDS: dict[str, Callable[[Client, Args], Outcome]] = {
    "list": _cmd_list,
    "reload": reload_command,
    "rollback": _cmd_rollback,
    "history": _cmd_history,
    "status": _cmd_status,
}


def _cmd_agents(args: Args) -> Outcome:
    from .discovery import live_agents

    agents = [{k: v for k, v in a.to_json().items() if k != "token"} for a in live_agents()]
    return Outcome(0, {"agents": agents}, format_agents(agents))


# -- running and reporting ------------------------------------------------------------


def _wire_json() -> bool:
    return os.environ.get(ENV_WIRE, "").lower() == "json"


def _run_one(target: Target, args: Args) -> Outcome:
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


def _run_targets(targets: list[Target], args: Args) -> int:
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


def report_error(exc: BaseException, json_mode: bool) -> int:
    """Print a usage or selection error the way the command would have; exit code."""
    return _emit(error_outcome(exc), json_mode)


def run(args: Args) -> int:
    """Run the parsed command; returns the exit code."""
    if args.command == "agents":
        return _emit(_cmd_agents(args), args.json_)
    try:
        targets = select_agents(args.connect, args.token, args.pid, args.all_)
    except SelectionError as exc:
        return report_error(exc, args.json_)
    if args.command == "lsp":
        from .bridge import run_bridge

        return run_bridge(targets[0], timeout=args.timeout)
    if args.command == "watch":
        from .watching import run_watch

        return run_watch(targets, args)
    return _run_targets(targets, args)
