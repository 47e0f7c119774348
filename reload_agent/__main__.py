"""Launcher: ``python -m reload_agent [OPTIONS] SCRIPT [ARGS...]`` or ``... -m MODULE [ARGS...]``.

Starts the agent, then runs the program exactly as ``python SCRIPT`` /
``python -m MODULE`` would: same ``sys.argv``, a real ``__main__`` module,
``sys.path[0]``, exit status, and uncaught exceptions printed with exit code 1.
Option parsing stops at the script (or the module after ``-m``), so the
program's own options pass through untouched.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import os
import sys
import types
from typing import Any, NoReturn

__all__ = ["main", "split_argv"]

#: Launcher options that take a value; everything else is a flag.
_VALUE_OPTIONS = {"--listen", "--token", "--watch", "--apply", "--history"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reload_agent",
        usage="python -m reload_agent [OPTIONS] (SCRIPT | -m MODULE) [ARGS...]",
        description="Run a Python program with a reload agent inside it.",
    )
    parser.add_argument("--listen", metavar="ADDRESS", help="HOST:PORT or unix:PATH (default 127.0.0.1:0)")
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument("--token", help="token clients must present (default: random)")
    auth.add_argument("--no-token", action="store_true", help="no token (meant for unix: sockets)")
    parser.add_argument("--watch", metavar="PATH", action="append", default=[], help="reload on .py edits under PATH")
    parser.add_argument("--apply", choices=("thread", "main"), default="thread",
                        help="where reloads run: agent thread, or main thread at reload_agent.checkpoint()")
    parser.add_argument("--history", type=int, default=10, metavar="N", help="versions kept per module")
    parser.add_argument("--quiet", action="store_true", help="no start-up line on stderr")
    return parser


def split_argv(argv: list[str]) -> tuple[list[str], str | None, str | None, list[str]]:
    """Split into (launcher options, script, module, program args) at the first program word.

    >>> split_argv(["--quiet", "app.py", "--listen", "x"])
    (['--quiet'], 'app.py', None, ['--listen', 'x'])
    >>> split_argv(["--watch=src", "-m", "pkg.tool", "-v"])
    (['--watch=src'], None, 'pkg.tool', ['-v'])
    """
    options: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return options, (argv[i + 1] if i + 1 < len(argv) else None), None, argv[i + 2 :]
        if arg == "-m":
            return options, None, (argv[i + 1] if i + 1 < len(argv) else None), argv[i + 2 :]
        if arg.startswith("-m") and len(arg) > 2:
            return options, None, arg[2:], argv[i + 1 :]
        if not arg.startswith("-"):
            return options, arg, None, argv[i + 1 :]
        options.append(arg)
        if arg in _VALUE_OPTIONS and i + 1 < len(argv):
            options.append(argv[i + 1])
            i += 1
        i += 1
    return options, None, None, []


def _main_module(file: str | None, spec: Any = None) -> types.ModuleType:
    module = types.ModuleType("__main__")
    module.__file__ = file
    module.__builtins__ = __builtins__
    module.__spec__ = spec
    module.__loader__ = spec.loader if spec is not None else importlib.machinery.SourceFileLoader("__main__", file)
    module.__package__ = spec.parent if spec is not None else None
    module.__cached__ = None
    return module


def _prepare_script(script: str, args: list[str]) -> tuple[types.CodeType, types.ModuleType]:
    path = os.path.abspath(script)
    with open(path, "rb") as f:
        source = f.read()
    # Like python (3.9+): __file__ and code paths are absolute, sys.argv[0] stays as typed.
    code = compile(source, path, "exec", dont_inherit=True)
    sys.argv[:] = [script, *args]
    sys.path[0] = os.path.dirname(path)
    return code, _main_module(path)


def _prepare_module(name: str, args: list[str]) -> tuple[types.CodeType, types.ModuleType]:
    sys.path[0] = os.getcwd()  # as python -m does
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise ImportError(f"No module named {name}")
    if spec.submodule_search_locations is not None:
        name = f"{name}.__main__"
        spec = importlib.util.find_spec(name)
        if spec is None:
            raise ImportError(f"No module named {name}; '{name[:-9]}' is a package and cannot be directly executed")
    assert spec.loader is not None
    code = spec.loader.get_code(name)  # type: ignore[attr-defined]
    if code is None:
        raise ImportError(f"No code object available for {name}")
    sys.argv[:] = [spec.origin or name, *args]
    return code, _main_module(spec.origin, spec)


def main(argv: list[str] | None = None) -> NoReturn:
    argv = sys.argv[1:] if argv is None else argv
    options, script, module, args = split_argv(argv)
    parser = _parser()
    opts = parser.parse_args(options)
    if script is None and module is None:
        parser.error("a SCRIPT or -m MODULE is required")

    from .engine import install_import_hook

    install_import_hook()  # first, so every module the program imports has its source recorded
    try:
        code, main_module = _prepare_script(script, args) if script is not None else _prepare_module(module, args)
    except (OSError, ImportError, SyntaxError) as exc:
        print(f"python -m reload_agent: {exc}", file=sys.stderr)
        raise SystemExit(2 if isinstance(exc, OSError) else 1) from None

    import reload_agent
    from reload_agent.agent import ANNOUNCE_TIMEOUT

    agent = reload_agent.listen(
        opts.listen,
        token=False if opts.no_token else opts.token,
        watch=opts.watch,
        apply=opts.apply,
        history=opts.history,
    )
    if not opts.quiet:
        print(f"reload-agent: listening on {agent.address} (connection file {agent.connection_file})", file=sys.stderr)
    else:
        agent.announced.wait(ANNOUNCE_TIMEOUT)  # discoverable before the program starts, as the user would expect
    sys.modules["__main__"] = main_module
    agent.record_main(main_module)
    _run(code, main_module)


def _run(code: types.CodeType, module: types.ModuleType) -> NoReturn:
    try:
        exec(code, module.__dict__)
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:
        # Print as python would: the traceback starts at the program, not in the launcher.
        tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
        exc.__traceback__ = tb  # the default hook prints the exception's own traceback, not its argument
        sys.excepthook(type(exc), exc, tb)
        raise SystemExit(1) from None
    raise SystemExit(0)


if __name__ == "__main__":
    main()
