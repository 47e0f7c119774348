"""The engine facade: reload modules as transactions, roll them back, report what happened.

>>> engine = Engine()
>>> engine.reload().modules      # nothing selected: nothing happens
[]
"""

from __future__ import annotations

import dataclasses
import fnmatch
import linecache
import os
import re
import sys
import threading
import time
from types import ModuleType
from typing import Any, Callable, Mapping, Sequence

from reload_agent_client.protocol import MODES

from . import sources as _sources
from .graph import ImportGraph
from .history import Entry, History, now_iso
from .modules import modules_for_file, reload_blocker, source_file
from .patch import Adopter, apply_patch
from .plan import CompileFailure, FullPlan, PatchImpossible, PatchPlan, plan_module
from .results import (
    ExceptionInfo,
    ModuleInfo,
    ModuleResult,
    Phase,
    ReloadError,
    ReloadResult,
    RollbackResult,
    TransactionRecord,
)
from .undo import UndoLog

__all__ = ["Engine"]

_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_MAIN_REFUSAL = "__main__ (the launched script) can only be patched in place, re-running it would start the program again"

Listener = Callable[[str, dict[str, Any]], None]


class _Failure(Exception):
    """Internal: a phase failed; carries what ReloadError needs."""

    def __init__(self, phase: Phase, module: str | None, info: ExceptionInfo) -> None:
        super().__init__(info.message)
        self.phase = phase
        self.module = module
        self.info = info


def _refusal(phase: Phase, module: str | None, kind: str, message: str, file: str | None = None) -> _Failure:
    return _Failure(phase, module, ExceptionInfo(kind, message, file))


def _from_exception(phase: Phase, module: str | None, exc: BaseException, file: str | None) -> _Failure:
    info = ExceptionInfo.from_exception(exc, prefer_file=file)
    # The engine's own frames (exec, hook calls) are noise for the user.
    frames = tuple(f for f in info.traceback if not f.file.startswith(_ENGINE_DIR))
    return _Failure(phase, module, dataclasses.replace(info, traceback=frames))


def _sync_linecache(record: _sources.SourceRecord | None) -> None:
    """Make tracebacks show the text the running code came from (mtime None: checkcache leaves it alone)."""
    if record is not None and record.text is not None:
        linecache.cache[record.file] = (len(record.text), None, record.lines, record.file)


def _call_hook(module: ModuleType, hook: str, phase: Phase, file: str, *args: Any) -> None:
    """Call the module's ``hook`` if it defines one; whatever it raises fails the transaction in ``phase``."""
    fn = module.__dict__.get(hook)
    if callable(fn):
        try:
            fn(*args)
        except BaseException as exc:  # noqa: BLE001 - SystemExit from a hook must not escape either
            raise _from_exception(phase, module.__name__, exc, file) from None


@dataclasses.dataclass
class _Planned:
    name: str
    module: ModuleType
    plan: PatchPlan | FullPlan


class Engine:
    """Reloads, rollbacks and history for the modules of this process. Thread-safe.

    ``history``: undoable transactions kept per module.
    """

    def __init__(self, *, history: int = 10) -> None:
        self._lock = threading.RLock()
        self._history = History(history)
        self._versions: dict[str, int] = {}
        self._graph = ImportGraph()
        self._listeners: list[Listener] = []
        self._main: ModuleType | None = None
        self._last_id = 0
        #: name -> (id of the module object, its __file__, reloadable): list_modules stays cheap
        self._known: dict[str, tuple[int, str | None, bool]] = {}

    # ---------------------------------------------------------------- queries
    def list_modules(self, pattern: str | None = None, stale: bool = False) -> list[ModuleInfo]:
        """Loaded modules (``pattern``: fnmatch glob on the name); ``stale``: only those whose file changed."""
        match = re.compile(fnmatch.translate(pattern)).match if pattern else None
        out = []
        versions = self._versions
        for name, module in list(sys.modules.items()):
            if module is None or (match is not None and not match(name)):
                continue
            raw = getattr(module, "__file__", None)
            file = raw if isinstance(raw, str) else None
            reloadable = self._reloadable(name, module, file)
            is_stale = reloadable and _sources.is_stale(name, file)  # type: ignore[arg-type]
            if stale and not is_stale:
                continue
            out.append(ModuleInfo(name, file, is_stale, versions.get(name, 0), reloadable))
        out.sort(key=lambda m: m.name)
        return out

    def _reloadable(self, name: str, module: ModuleType, file: str | None) -> bool:
        """Has ``module`` Python source to reload? Cached per module object: list_modules stays cheap."""
        cached = self._known.get(name)
        if cached is not None and cached[0] == id(module) and cached[1] == file:
            return cached[2]
        reloadable = file is not None and source_file(module) is not None and reload_blocker(module) is None
        self._known[name] = (id(module), file, reloadable)
        return reloadable

    def modules_for_file(self, path: str) -> list[str]:
        """Loaded modules whose source file is ``path`` (realpath match; ``pkg/__init__.py`` -> ``pkg``)."""
        return modules_for_file(path)

    def stale_modules(self, files: Sequence[str] | None = None) -> list[str]:
        """Modules whose file changed since they were loaded or last reloaded (stat, then content hash)."""
        if files is not None:
            names = sorted({n for f in files for n in modules_for_file(f)})
        else:
            names = [n for n, m in list(sys.modules.items()) if m is not None]
        out = []
        for name in names:
            module = sys.modules.get(name)
            file = getattr(module, "__file__", None) if module is not None else None
            if isinstance(file, str) and self._reloadable(name, module, file) and _sources.is_stale(name, file):  # type: ignore[arg-type]
                out.append(name)
        return sorted(out)

    def history(self, limit: int | None = None) -> list[TransactionRecord]:
        """Transactions, newest first."""
        return self._history.records(limit)

    def status(self) -> dict[str, int]:
        return {"modules": len(sys.modules), "transactions": self._last_id}

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """``callback(kind, params)`` after every transaction (``didReload`` / ``didRollback``); returns unsubscribe."""
        self._listeners.append(callback)

        def unsubscribe() -> None:
            try:
                self._listeners.remove(callback)
            except ValueError:
                pass

        return unsubscribe

    def record_main(self, module: ModuleType) -> None:
        """The launched script: reloadable in patch mode only. Records the source it runs."""
        self._main = module
        _sources.loaded_source("__main__", module)

    # ---------------------------------------------------------------- reload
    def reload(
        self,
        modules: Sequence[str] = (),
        files: Sequence[str] = (),
        *,
        stale: bool = False,
        dependents: bool = False,
        mode: str = "auto",
        sources: Mapping[str, str] | None = None,
        dry_run: bool = False,
    ) -> ReloadResult:
        """Reload the selected modules as one transaction; raises ReloadError (the process is as before)."""
        started = time.perf_counter()
        modules = [modules] if isinstance(modules, str) else modules
        files = [files] if isinstance(files, str) else files
        notice: tuple[str, dict[str, Any]] | None = None
        try:
            with self._lock:
                try:
                    result = self._reload(modules, files, stale, dependents, mode, dict(sources or {}), dry_run, started)
                except ReloadError as err:
                    if err.transaction is not None:
                        notice = ("didReload", {"transaction": err.transaction, "ok": False,
                                                "modules": [{"name": n} for n in err.modules], "error": err.to_json()})
                    raise
                if result.transaction:
                    notice = ("didReload", {"transaction": result.transaction, "ok": True,
                                            "modules": [m.to_json() for m in result.modules]})
                return result
        finally:
            if notice is not None:
                self._notify(*notice)

    def _take_id(self) -> int:
        self._last_id += 1
        return self._last_id

    def _fail(self, failure: _Failure, names: list[str], started: float, record: bool) -> ReloadError:
        tid = None
        if record:
            tid = self._take_id()
        err = ReloadError(failure.phase, failure.module, failure.info, transaction=tid, rolled_back=True, modules=names)
        if record:
            self._history.add(Entry(TransactionRecord(
                tid, now_iso(), list(names), False, (time.perf_counter() - started) * 1000, error=err.to_json()
            )))
        return err

    def _reload(
        self,
        modules: Sequence[str],
        files: Sequence[str],
        stale: bool,
        dependents: bool,
        mode: str,
        sources: dict[str, str],
        dry_run: bool,
        started: float,
    ) -> ReloadResult:
        names: list[str] = list(modules)
        try:
            if mode not in MODES:
                raise _refusal("resolve", None, "ValueError", f"unknown mode {mode!r} (expected one of {', '.join(MODES)})")
            names, cycles, importers = self._resolve(modules, files, stale, dependents, sources)
            if not names:
                return ReloadResult(0, [], (time.perf_counter() - started) * 1000, dry_run=dry_run)
            planned: list[_Planned] = []
            rerun: set[str] = set()  # modules whose top level runs again in this transaction
            for name in names:
                reason = None
                if name in importers:
                    changed = sorted(rerun & self._graph.imports_of(name))
                    if changed:
                        reason = f"imports {', '.join(changed)}, whose top level ran again"
                p = self._plan(name, mode, sources, rerun_reason=reason)
                if isinstance(p.plan, FullPlan):
                    rerun.add(name)
                planned.append(p)
        except _Failure as failure:
            raise self._fail(failure, names, started, record=not dry_run) from None
        if dry_run:
            return ReloadResult(
                0,
                [self._dry_result(p) for p in planned],
                (time.perf_counter() - started) * 1000,
                dry_run=True,
                cycles=cycles,
            )
        undo = UndoLog()
        results: list[ModuleResult] = []
        try:
            for p in planned:
                results.append(self._apply(p, undo))
            for p in planned:
                _call_hook(p.module, "__reload_verify__", "verify", p.plan.record.file)
        except _Failure as failure:
            undo.undo(exact=True)
            for p in planned:
                _sync_linecache(_sources.record_for(p.name))
            raise self._fail(failure, names, started, record=True) from None
        undo.commit()
        tid = self._take_id()
        duration = (time.perf_counter() - started) * 1000
        self._history.add(Entry(TransactionRecord(tid, now_iso(), list(names), True, duration), undo))
        return ReloadResult(tid, results, duration, cycles=cycles)

    def _resolve(
        self, modules: Sequence[str], files: Sequence[str], stale: bool, dependents: bool, sources: dict[str, str]
    ) -> tuple[list[str], list[list[str]], set[str]]:
        """Ordered module names, import cycles among them, and the ones added only as importers."""
        chosen: dict[str, None] = {}
        for name in [*modules, *sources]:
            module = sys.modules.get(name)
            if module is None:
                raise _refusal("resolve", name, "ModuleNotFoundError", f"module {name!r} is not loaded in this process")
            blocker = reload_blocker(module)
            if blocker is not None:
                raise _refusal("resolve", name, "ValueError", f"module {name!r} cannot be reloaded: {blocker}")
            chosen[name] = None
        for path in files:
            found = modules_for_file(path)
            if not found:
                raise _Failure("resolve", None, ExceptionInfo(
                    "FileNotFoundError" if not os.path.exists(path) else "LookupError",
                    f"no loaded module comes from {path}", path))
            chosen.update(dict.fromkeys(found))
        if stale:
            chosen.update(dict.fromkeys(self.stale_modules()))
        importers: set[str] = set()
        if dependents and chosen:
            importers = self._graph.dependents(chosen)
            chosen.update(dict.fromkeys(sorted(importers)))
        names = list(chosen)
        if len(names) < 2:
            return names, [], importers
        ordered, cycles = self._graph.order(names, texts=sources)
        return ordered, cycles, importers

    def _is_main(self, name: str, module: ModuleType) -> bool:
        return name == "__main__" or module is self._main

    def _plan(self, name: str, mode: str, sources: dict[str, str], rerun_reason: str | None = None) -> _Planned:
        """Read and compile ``name``'s new source and decide its mode.

        ``rerun_reason``: the module is reloaded because it imports a module whose top level runs
        again; its own top level must run again too (``from m import X`` bindings), unless it is
        ``__main__``.
        """
        module = sys.modules.get(name)
        file = source_file(module) if module is not None else None
        if module is None or file is None:
            raise _refusal("resolve", name, "ModuleNotFoundError", f"module {name!r} is no longer loaded")
        if name in sources:
            text = sources[name].replace("\r\n", "\n").replace("\r", "\n")
            stat, dig = None, _sources.digest(text.encode("utf-8", "surrogatepass"))
        else:
            try:
                data, stat = _sources.read_source(file)
            except OSError as exc:
                raise _refusal("resolve", name, type(exc).__name__, f"cannot read {file}: {exc.strerror or exc}", file) from None
            try:
                text = _sources.decode(data)
            except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
                raise _from_exception("compile", name, exc, file) from None
            dig = _sources.digest(data)
        main = self._is_main(name, module)
        if main and mode == "full":
            raise _refusal("patch", name, "ReloadRefused", _MAIN_REFUSAL + ": full mode was requested", file)
        record = _sources.loaded_source(name, module)
        if rerun_reason is not None and not main and mode != "patch":
            mode = "full"
        try:
            plan = plan_module(module, record, text, stat=stat, digest=dig, mode="patch" if main else mode)
        except CompileFailure as exc:
            raise _from_exception("compile", name, exc.error, file) from None
        except PatchImpossible as exc:
            message = f"{_MAIN_REFUSAL}; this edit needs a full reload: {exc}" if main else f"patch mode impossible: {exc}"
            raise _refusal("patch", name, "ReloadRefused", message, file) from None
        if rerun_reason is not None and isinstance(plan, FullPlan):
            plan.reason = rerun_reason
        return _Planned(name, module, plan)

    def _dry_result(self, p: _Planned) -> ModuleResult:
        version = self._versions.get(p.name, 0) + 1
        if isinstance(p.plan, PatchPlan):
            return ModuleResult(p.name, "patch", version, list(p.plan.functions))
        return ModuleResult(p.name, "full", version, reason=p.plan.reason)

    def _apply(self, p: _Planned, undo: UndoLog) -> ModuleResult:
        name, module, plan = p.name, p.module, p.plan
        if isinstance(plan, PatchPlan):
            try:
                apply_patch(plan, undo)
            except BaseException as exc:  # noqa: BLE001
                raise _from_exception("patch", name, exc, plan.record.file) from None
            result = ModuleResult(name, "patch", 0, list(plan.functions))
        else:
            result = self._apply_full(name, module, plan, undo)
        self._commit_module(name, plan.record, undo)
        result.version = self._versions.get(name, 0)
        return result

    def _commit_module(self, name: str, record: _sources.SourceRecord, undo: UndoLog) -> None:
        previous_record = _sources.record_for(name)
        previous_version = self._versions.get(name, 0)
        _sources.set_record(name, record)
        self._versions[name] = previous_version + 1

        def restore() -> None:
            _sources.set_record(name, previous_record)
            self._versions[name] = previous_version

        undo.call(restore)
        _sync_linecache(record)

    def _apply_full(self, name: str, module: ModuleType, plan: FullPlan, undo: UndoLog) -> ModuleResult:
        file = plan.record.file
        ns = module.__dict__
        data: dict[str, Any] = {}
        _call_hook(module, "__reload_dispose__", "hook", file, data)
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
            raise _from_exception(phase, name, exc, file) from None
        finally:
            added = {k: sys.modules[k] for k in set(sys.modules) - before if k in sys.modules}
            if added:
                undo.new_modules(added)
        _call_hook(module, "__reload_accept__", "hook", file, data)
        return ModuleResult(
            name, "full", 0, adopter.functions, adopter.classes, adopter.replaced, reason=plan.reason
        )

    # ---------------------------------------------------------------- rollback
    def rollback(self, module: str | None = None, transaction: int | None = None) -> RollbackResult:
        """Undo a reload: the newest one, the newest touching ``module``, or ``transaction``.

        Raises RollbackError when there is nothing to undo or a newer reload overlaps it.
        """
        started = time.perf_counter()
        with self._lock:
            entry = self._history.target(module, transaction)
            assert entry.undo is not None
            entry.undo.undo(exact=False)
            entry.undo = None
            entry.record.rolled_back = True
            names = list(entry.record.modules)
            for name in names:
                _sync_linecache(_sources.record_for(name))
            tid = self._take_id()
            duration = (time.perf_counter() - started) * 1000
            self._history.add(Entry(TransactionRecord(tid, now_iso(), names, True, duration, kind="rollback")))
            result = RollbackResult(tid, entry.record.id, [(n, self._versions.get(n, 0)) for n in names], duration)
        payload = result.to_json()
        payload.pop("durationMs", None)
        self._notify("didRollback", payload)
        return result

    def _notify(self, kind: str, params: dict[str, Any]) -> None:
        for listener in list(self._listeners):
            try:
                listener(kind, params)
            except BaseException:  # noqa: BLE001 - a listener never breaks a reload
                pass
