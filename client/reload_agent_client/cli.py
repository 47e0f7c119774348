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

import os
import sys

from .cliargs import build_parser, parse_common
from .errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import NoReturn

    from .cliargs import Args

__all__ = ["main", "build_parser"]


def _validate(args: Args) -> None:
    if args.command == "reload" and not (args.modules or args.file or args.stale):
        raise UsageError("reload-agent-cli reload: name at least one MODULE, --file PATH or --stale")
    if args.command == "reload" and args.push and not (args.modules or args.file):
        raise UsageError("reload-agent-cli reload --push: name the MODULEs or --file PATHs to send")
    if args.command == "lsp" and args.all_:
        raise UsageError("reload-agent-cli lsp: --all makes no sense for one editor connection")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``reload-agent-cli``: returns the exit code for ``argv``.

    Without ``argv`` it is the program itself: it reads ``sys.argv`` and ends
    the process when done (see :func:`_end_process`).
    """
    if argv is not None:
        return _main(list(argv))
    _end_process(_main(sys.argv[1:]))


def _end_process(code: int) -> NoReturn:
    # The interpreter's teardown (finalizing every module, a last collection) takes
    # ~4 ms, longer than the whole exchange with the agent, and nothing here needs
    # it: the connection is closed and the standard streams are flushed below.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            pass  # the reader went away (`| head`): the output is not wanted any more
    os._exit(code)


def _main(argv: list[str]) -> int:
    try:
        # The everyday command lines skip argparse; help and errors still come from it.
        args = parse_common(argv)
        if args is None:
            parser = build_parser()
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
