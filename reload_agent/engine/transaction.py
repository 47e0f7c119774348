"""One module's part of a transaction: prepare (read, compile, decide), apply, and how failures are told.

The engine orchestrates (selection, order, verify, commit, history); this module
does the work for one module and turns whatever goes wrong into a :class:`Failure`
naming the phase. Everything it changes goes through the transaction's undo log.
"""

from __future__ import annotations

import dataclasses
import linecache
import sys
from types import ModuleType
from typing import Any

from . import sources as _sources
from .modules import source_file
from .patch import Adopter, apply_patch
from .plan import CompileFailure, FullPlan, PatchImpossible, PatchPlan, plan_module
from .results import ExceptionInfo, ModuleResult, Phase
from .undo import UndoLog

__all__ = ["Failure", "Planned", "refusal", "failure_from", "sync_linecache", "call_hook", "prepare", "apply"]

_MAIN_REFUSAL = "__main__ (the launched script) can only be patched in place, re-running it would start the program again"


class Failure(Exception):
    """A phase failed; carries what ReloadError needs."""

    def __init__(self, phase: Phase, module: str | None, info: ExceptionInfo) -> None:
        super().__init__(info.message)
        self.phase = phase
        self.module = module
        self.info = info


def refusal(phase: Phase, module: str | None, kind: str, message: str, file: str | None = None) -> Failure:
    """A failure that is a decision, not an exception (unknown module, patch impossible)."""
    return Failure(phase, module, ExceptionInfo(kind, message, file))


def failure_from(phase: Phase, module: str | None, exc: BaseException, file: str | None) -> Failure:
    # from_exception already leaves out the agent's own frames (exec, hook calls): noise for the user.
    return Failure(phase, module, ExceptionInfo.from_exception(exc, prefer_file=file))


def sync_linecache(record: _sources.SourceRecord | None) -> None:
    """Make tracebacks show the text the running code came from (mtime None: checkcache leaves it alone)."""
    if record is not None and record.text is not None:
        linecache.cache[record.file] = (len(record.text), None, record.lines, record.file)


def call_hook(module: ModuleType, hook: str, phase: Phase, file: str, *args: Any) -> None:
    """Call the module's ``hook`` if it defines one; whatever it raises fails the transaction in ``phase``."""
    fn = module.__dict__.get(hook)
    if callable(fn):
        try:
            fn(*args)
        except BaseException as exc:  # noqa: BLE001 - SystemExit from a hook must not escape either
            raise failure_from(phase, module.__name__, exc, file) from None


@dataclasses.dataclass
class Planned:
    name: str
    module: ModuleType
    plan: PatchPlan | FullPlan


def _new_source(name: str, file: str, pushed: str | None) -> tuple[str, Any, bytes]:
    """(text, stat, bytes) of the new version: the pushed text, else the file."""
    if pushed is not None:
        text = pushed.replace("\r\n", "\n").replace("\r", "\n")
        return text, None, text.encode("utf-8", "surrogatepass")
    try:
        data, stat = _sources.read_source(file)
    except OSError as exc:
        raise refusal("resolve", name, type(exc).__name__, f"cannot read {file}: {exc.strerror or exc}", file) from None
    try:
        text = _sources.decode(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        raise failure_from("compile", name, exc, file) from None
    return text, stat, data


def prepare(
    name: str,
    module: ModuleType | None,
    mode: str,
    pushed: str | None,
    *,
    main: bool,
    rerun_reason: str | None = None,
) -> Planned:
    """Read and compile ``name``'s new source (``pushed`` text, else its file) and decide its mode.

    ``main``: the launched script, patch mode only. ``rerun_reason``: the module imports a
    module whose top level runs again, so its own must too (its ``from m import X``
    bindings), unless it is ``__main__``.
    """
    file = source_file(module) if module is not None else None
    if module is None or file is None:
        raise refusal("resolve", name, "ModuleNotFoundError", f"module {name!r} is no longer loaded")
    text, stat, data = _new_source(name, file, pushed)
    if main and mode == "full":
        raise refusal("patch", name, "ReloadRefused", _MAIN_REFUSAL + ": full mode was requested", file)
    record = _sources.loaded_source(name, module)
    if rerun_reason is not None and not main and mode != "patch":
        mode = "full"
    try:
        plan = plan_module(module, record, text, stat=stat, data=data, mode="patch" if main else mode)
    except CompileFailure as exc:
        raise failure_from("compile", name, exc.error, file) from None
    except PatchImpossible as exc:
        message = f"{_MAIN_REFUSAL}; this edit needs a full reload: {exc}" if main else f"patch mode impossible: {exc}"
        raise refusal("patch", name, "ReloadRefused", message, file) from None
    if rerun_reason is not None and isinstance(plan, FullPlan):
        plan.reason = rerun_reason
    return Planned(name, module, plan)


def apply(p: Planned, undo: UndoLog) -> ModuleResult:
    """Apply one module's plan (the version is set by the caller)."""
    if isinstance(p.plan, PatchPlan):
        try:
            apply_patch(p.plan, undo)
        except BaseException as exc:  # noqa: BLE001
            raise failure_from("patch", p.name, exc, p.plan.record.file) from None
        return ModuleResult(p.name, "patch", 0, list(p.plan.functions))
    return _apply_full(p.name, p.module, p.plan, undo)


def _apply_full(name: str, module: ModuleType, plan: FullPlan, undo: UndoLog) -> ModuleResult:
    file = plan.record.file
    ns = module.__dict__
    data: dict[str, Any] = {}
    call_hook(module, "__reload_dispose__", "hook", file, data)
    snapshot = undo.namespace(ns)
    adopter = Adopter(module, snapshot, undo)
    before = set(sys.modules)
    try:
        exec(plan.code, ns, adopter.namespace())
        if adopter.error is not None:
            raise adopter.error  # the module's own try/except swallowed a failed pairing
        adopter.finish()
    except BaseException as exc:  # noqa: BLE001 - SystemExit/KeyboardInterrupt from module code too
        phase: Phase = "patch" if exc is adopter.error else "execute"
        raise failure_from(phase, name, exc, file) from None
    finally:
        added = {k: sys.modules[k] for k in set(sys.modules) - before if k in sys.modules}
        if added:
            undo.new_modules(added)
    call_hook(module, "__reload_accept__", "hook", file, data)
    return ModuleResult(name, "full", 0, adopter.functions, adopter.classes, adopter.replaced, reason=plan.reason)
