"""The ``reload-agent-cli`` command line, written down once and parsed two ways.

:data:`GLOBAL_OPTIONS` and :data:`COMMANDS` describe every option and argument.
:func:`build_parser` turns them into an ``argparse`` parser: help, usage errors
and every unusual spelling. :func:`parse_common` reads the everyday spellings
(exact option names, ``--opt VALUE`` or ``--opt=VALUE``, the arguments in one
run) without importing argparse, whose import and parser construction cost more
than a reload round trip; it returns ``None`` for anything else, and argparse
then decides. A test checks that the two agree wherever :func:`parse_common`
answers.

>>> args = parse_common(["reload", "app.views", "--json"])
>>> args.command, args.modules, args.json_, args.stale
('reload', ['app.views'], True, False)
>>> parse_common(["reload", "--help"]) is None
True
"""

from __future__ import annotations

import collections
import types

from .connection import DEFAULT_TIMEOUT
from .errors import UsageError
from .protocol import MODES

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any, NoReturn

    #: What commands receive: argparse's namespace or :func:`parse_common`'s.
    Args = argparse.Namespace | types.SimpleNamespace

__all__ = ["Option", "Positional", "Command", "GLOBAL_OPTIONS", "COMMANDS", "build_parser", "parse_common"]

PROG = "reload-agent-cli"

_OptionFields = collections.namedtuple(
    "_OptionFields", "flag kind dest convert default choices metavar help", defaults=(None, str, None, None, None, None)
)


class Option(_OptionFields):
    """``--flag``; ``kind`` is ``"flag"`` (store true), ``"value"`` or ``"append"`` (repeatable value).

    ``dest`` defaults to the flag's name with ``-`` turned into ``_``; ``convert``
    turns the text into the value (``int``, ``float``; ``str`` by default).
    """

    __slots__ = ()

    @property
    def name(self) -> str:
        """The attribute the value lands in."""
        return self.dest or self.flag.lstrip("-").replace("-", "_")

    @property
    def initial(self) -> Any:
        """The value when the option is absent (a fresh list for ``append``)."""
        if self.kind == "flag":
            return False
        return list(self.default or []) if self.kind == "append" else self.default


#: A command's one positional argument: ``nargs`` is ``"?"``, ``"*"`` or ``"+"``.
Positional = collections.namedtuple("Positional", "dest nargs metavar help", defaults=(None, None))

_CommandFields = collections.namedtuple("_CommandFields", "help options positional", defaults=((), None))


class Command(_CommandFields):
    """One subcommand: its help line, its own options and at most one positional argument."""

    __slots__ = ()


GLOBAL_OPTIONS: tuple[Option, ...] = (
    Option("--connect", "value", metavar="ADDRESS", help="HOST:PORT or unix:PATH of the agent"),
    Option("--token", "value", help="token for --connect (default: from discovery)"),
    Option("--pid", "value", convert=int, help="the agent of this process"),
    Option("--all", "flag", dest="all_", help="every running agent"),
    Option("--json", "flag", dest="json_", help="print one JSON document"),
    Option("--timeout", "value", convert=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
           help="seconds to wait for the agent"),
)

COMMANDS: dict[str, Command] = {
    "agents": Command("list running agents found by discovery"),
    "list": Command(
        "list the modules loaded in the agent's process",
        (Option("--stale", "flag", help="only modules whose file changed since loading"),),
        Positional("pattern", "?", help="glob on module names, e.g. 'app.*'"),
    ),
    "reload": Command(
        "reload modules as one transaction (all or nothing)",
        (
            Option("--file", "append", default=(), metavar="PATH", help="reload the module(s) loaded from PATH"),
            Option("--stale", "flag", help="reload every module whose file changed"),
            Option("--dependents", "flag", help="also reload modules that import them"),
            Option("--mode", "value", choices=MODES, help="patch: swap function code only; full: re-run the module"),
            Option("--push", "flag", help="send the local file contents (agent on another file system)"),
            Option("--verify", "value", metavar="CMD", help="run CMD after the reload; roll back if it exits non-zero"),
            Option("--verify-timeout", "value", convert=float, default=60.0, metavar="SECONDS",
                   help="limit for --verify CMD"),
            Option("--dry-run", "flag", help="check what would happen without changing anything"),
        ),
        Positional("modules", "*", "MODULE"),
    ),
    "rollback": Command(
        "undo the newest transaction (or the newest touching MODULE)",
        (Option("--transaction", "value", convert=int, metavar="N", help="undo transaction N"),),
        Positional("module", "?", "MODULE"),
    ),
    "history": Command("recent transactions", (Option("--limit", "value", convert=int, metavar="N"),)),
    "status": Command("the agent's process, counters and watched paths"),
    "watch": Command(
        "watch files locally and reload the modules loaded from them on change",
        (Option("--mode", "value", choices=MODES),),
        Positional("paths", "+", "PATH"),
    ),
    "lsp": Command("stdio <-> agent bridge for editors (cmd = {'reload-agent-cli', 'lsp'})"),
}


# -- argparse: help, errors and every spelling -------------------------------------------


def _add_option(group: Any, option: Option, default: Any) -> None:
    kwargs: dict[str, Any] = {"dest": option.name, "default": default, "help": option.help}
    if option.kind == "flag":
        kwargs["action"] = "store_true"
    else:
        kwargs.update(metavar=option.metavar, choices=option.choices)
        if option.convert is not str:
            kwargs["type"] = option.convert
        if option.kind == "append":
            kwargs["action"] = "append"
    group.add_argument(option.flag, **kwargs)


def _add_global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    import argparse

    group = parser.add_argument_group("global options (before or after the subcommand)")
    for option in GLOBAL_OPTIONS:
        # Sub-parsers get SUPPRESS defaults so an option given before the subcommand
        # is not overwritten by the sub-parser's default.
        _add_option(group, option, option.initial if top else argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line as argparse: global options, then one sub-parser per command."""
    import argparse

    from . import __version__

    class Parser(argparse.ArgumentParser):
        """argparse that raises instead of exiting, so ``--json`` can report usage errors too."""

        def error(self, message: str) -> NoReturn:
            raise UsageError(f"{self.prog}: {message}")

    parser = Parser(
        prog=PROG,
        description="Reload code in running Python processes that run reload-agent.",
        epilog="exit codes: 0 success, 1 reload/rollback/verify failed (process unchanged), 2 usage or connection error",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.help, description=command.help)
        _add_global_options(p, top=False)
        if command.positional is not None:
            pos = command.positional
            p.add_argument(pos.dest, nargs=pos.nargs, metavar=pos.metavar, help=pos.help)
        for option in command.options:
            _add_option(p, option, option.initial)
    return parser


# -- the everyday spellings, without argparse ------------------------------------------


def _convert(option: Option, text: str) -> tuple[bool, Any]:
    try:
        value = option.convert(text)
    except (TypeError, ValueError):
        return False, None
    return option.choices is None or value in option.choices, value


def _positional_value(positional: Positional | None, words: list[str]) -> tuple[bool, Any]:
    if positional is None:
        return not words, None
    if positional.nargs == "?":
        return len(words) <= 1, words[0] if words else None
    return positional.nargs == "*" or bool(words), words


def parse_common(argv: Sequence[str]) -> Args | None:
    """The parsed command line, or ``None`` when only argparse can say (help, errors, odd spellings).

    Accepts exact option names (global ones before or after the command),
    ``--opt VALUE`` with a VALUE not starting with ``-``, ``--opt=VALUE``, and
    the command's arguments in one unbroken run.
    """
    values = {option.name: option.initial for option in GLOBAL_OPTIONS}
    known = {option.flag: option for option in GLOBAL_OPTIONS}
    name: str | None = None
    words: list[str] = []
    words_ended = False
    queue = list(argv)
    queue.reverse()
    while queue:
        token = queue.pop()
        if not token.startswith("-"):
            if name is None:
                if token not in COMMANDS:
                    return None
                name = token
                values.update((option.name, option.initial) for option in COMMANDS[name].options)
                known.update((option.flag, option) for option in COMMANDS[name].options)
                continue
            if words_ended:
                return None  # argparse takes one run of arguments per positional
            words.append(token)
            continue
        words_ended = bool(words)
        flag, equals, text = token.partition("=")
        option = known.get(flag)
        if option is None:
            return None
        if option.kind == "flag":
            if equals:
                return None
            values[option.name] = True
            continue
        if not equals:
            if not queue or queue[-1].startswith("-"):
                return None
            text = queue.pop()
        ok, value = _convert(option, text)
        if not ok:
            return None
        values[option.name] = [*values[option.name], value] if option.kind == "append" else value
    if name is None:
        return None
    positional = COMMANDS[name].positional
    ok, value = _positional_value(positional, words)
    if not ok:
        return None
    if positional is not None:
        values[positional.dest] = value
    values["command"] = name
    return types.SimpleNamespace(**values)
