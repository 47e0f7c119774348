"""The engine facade: reload modules as transactions, roll them back, report what happened.

>>> engine = Engine()
>>> engine.reload().modules      # nothing selected: nothing happens
[]
"""

from __future__ import annotations

import fnmatch
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
from .plan import FullPlan, PatchPlan
from .results import (
    ExceptionInfo,
    ModuleInfo,
    ModuleResult,
    ReloadError,
    ReloadResult,
    RollbackResult,
    TransactionRecord,
)
from .transaction import Failure, Planned, apply, call_hook, prepare, refusal, sync_linecache
from .undo import UndoLog

__all__ = ["Engine"]

Listener = Callable[[str, dict[str, Any]], None]


def _first(item: tuple[str, Any]) -> str:
    return item[0]


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
        #: stale scan entries, valid while sys.modules' size and the source records are unchanged
        self._scan_cache: list[tuple[str, int, int, int, str]] = []
        self._scan_key: tuple[int, int] | None = None

    # ---------------------------------------------------------------- queries
    def list_modules(self, pattern: str | None = None, stale: bool = False) -> list[ModuleInfo]:
        """Loaded modules (``pattern``: fnmatch glob on the name); ``stale``: only those whose file changed."""
        match = re.compile(fnmatch.translate(pattern)).match if pattern else None
        stale_names = set(self.stale_modules())  # one tight scan; the rest is bookkeeping
        out = []
        versions = self._versions
        for name, module in sorted(sys.modules.items(), key=_first):
            if module is None or (match is not None and not match(name)):
                continue
            is_stale = name in stale_names
            if stale and not is_stale:
                continue
            raw = getattr(module, "__file__", None)
            file = raw if isinstance(raw, str) else None
            out.append(ModuleInfo(name, file, is_stale, versions.get(name, 0), self._reloadable(name, module, file)))
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
            entries = self._scan_entries({n: sys.modules.get(n) for f in files for n in modules_for_file(f)})
        else:
            key = (len(sys.modules), _sources.generation())
            if self._scan_key != key:
                self._scan_cache = self._scan_entries(dict(sys.modules))
                # taken again, not `key`: the scan records baselines for modules seen the first time,
                # which moves the generation, and the next scan would redo this one for nothing
                self._scan_key = (len(sys.modules), _sources.generation())
            entries = self._scan_cache
        stat = os.stat
        out = []
        # The tight loop: a full scan of 10,000 modules costs little more than their os.stat calls.
        for file, mtime, size, ino, name in entries:
            try:
                st = stat(file)
            except OSError:
                continue
            if st.st_mtime_ns == mtime and st.st_size == size and st.st_ino == ino:
                continue  # unchanged since loaded or last reloaded
            found = getattr(sys.modules.get(name), "__file__", None)
            if found is not file and not (isinstance(found, str) and found == file):
                continue  # no longer the module this file was read for (removed, or replaced in sys.modules)
            if _sources.is_stale(name, file):  # stat changed: compare content hashes (cached per stat)
                out.append(name)
        return sorted(out)

    def _scan_entries(self, modules: dict[str, ModuleType | None]) -> list[_sources.ScanEntry]:
        """(file, mtime_ns, size, inode, name) per reloadable module (-1: always look closer).

        Modules whose source was read take the entry kept with their record, without a look at
        the module (its ``__file__`` is checked in :meth:`stale_modules` when its stat changed):
        touching 10,000 module objects costs as much as half their stat calls.
        """
        kept = _sources.scan_entries()
        if len(modules) < len(kept):  # named files: no set operation over all the kept entries
            entries = [kept[name] for name in modules if name in kept]
            others = [name for name in modules if name not in kept]
        else:
            entries = list(kept.values()) if kept.keys() <= modules.keys() else [
                entry for name, entry in kept.items() if name in modules
            ]
            others = list(modules.keys() - kept.keys())
        for name in others:
            module = modules[name]
            file = getattr(module, "__file__", None)
            if module is None or not isinstance(file, str) or not self._reloadable(name, module, file):
                continue
            rec = _sources.record_for(name)
            if rec is None or rec.file != file or rec.stat is None:
                _sources.is_stale(name, file)  # records a baseline on first sight
                rec = _sources.record_for(name)
            key = rec.stat if rec is not None and rec.file == file and rec.stat is not None else (-1, -1, -1)
            entries.append((file, *key, name))
        return entries

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
                                                "modules": [{"name": n} for n in err.modules], "error": err.to_json(),
                                                "durationMs": round((time.perf_counter() - started) * 1000, 3)})
                    raise
                if result.transaction:
                    notice = ("didReload", {"transaction": result.transaction, "ok": True,
                                            "modules": [m.to_json() for m in result.modules],
                                            "durationMs": round(result.duration_ms, 3)})
                return result
        finally:
            if notice is not None:
                self._notify(*notice)

    def _take_id(self) -> int:
        self._last_id += 1
        return self._last_id

    def _fail(self, failure: Failure, names: list[str], started: float, record: bool) -> ReloadError:
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
                raise refusal("resolve", None, "ValueError", f"unknown mode {mode!r} (expected one of {', '.join(MODES)})")
            names, cycles, importers = self._resolve(modules, files, stale, dependents, sources)
            if not names:
                return ReloadResult(0, [], (time.perf_counter() - started) * 1000, dry_run=dry_run)
            planned: list[Planned] = []
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
        except Failure as failure:
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
                call_hook(p.module, "__reload_verify__", "verify", p.plan.record.file)
        except Failure as failure:
            undo.undo(exact=True)
            for p in planned:
                sync_linecache(_sources.record_for(p.name))
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
                raise refusal("resolve", name, "ModuleNotFoundError", f"module {name!r} is not loaded in this process")
            blocker = reload_blocker(module)
            if blocker is not None:
                raise refusal("resolve", name, "ValueError", f"module {name!r} cannot be reloaded: {blocker}")
            chosen[name] = None
        for path in files:
            found = [n for n in modules_for_file(path) if reload_blocker(sys.modules[n]) is None]
            if not found:
                raise Failure("resolve", None, ExceptionInfo(
                    "FileNotFoundError" if not os.path.exists(path) else "LookupError",
                    f"no loaded module comes from {path}", path))
            chosen.update(dict.fromkeys(found))
        if stale:
            chosen.update(dict.fromkeys(self.stale_modules()))
        importers: set[str] = set()
        if dependents and chosen:
            importers = {n for n in self._graph.dependents(chosen) if reload_blocker(sys.modules[n]) is None}
            chosen.update(dict.fromkeys(sorted(importers)))
        names = list(chosen)
        if len(names) < 2:
            return names, [], importers
        ordered, cycles = self._graph.order(names, texts=sources)
        return ordered, cycles, importers

    def _plan(self, name: str, mode: str, sources: dict[str, str], rerun_reason: str | None = None) -> Planned:
        module = sys.modules.get(name)
        main = module is not None and (name == "__main__" or module is self._main)
        return prepare(name, module, mode, sources.get(name), main=main, rerun_reason=rerun_reason)

    def _dry_result(self, p: Planned) -> ModuleResult:
        version = self._versions.get(p.name, 0) + 1
        if isinstance(p.plan, PatchPlan):
            return ModuleResult(p.name, "patch", version, list(p.plan.functions))
        return ModuleResult(p.name, "full", version, reason=p.plan.reason)

    def _apply(self, p: Planned, undo: UndoLog) -> ModuleResult:
        result = apply(p, undo)
        previous_record = _sources.record_for(p.name)
        previous_version = self._versions.get(p.name, 0)
        _sources.set_record(p.name, p.plan.record)
        self._versions[p.name] = result.version = previous_version + 1

        def restore() -> None:
            _sources.set_record(p.name, previous_record)
            self._versions[p.name] = previous_version

        undo.call(restore)
        sync_linecache(p.plan.record)
        return result

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
                sync_linecache(_sources.record_for(name))
            tid = self._take_id()
            duration = (time.perf_counter() - started) * 1000
            self._history.add(Entry(TransactionRecord(tid, now_iso(), names, True, duration, kind="rollback")))
            result = RollbackResult(tid, entry.record.id, [(n, self._versions.get(n, 0)) for n in names], duration)
        self._notify("didRollback", result.to_json())
        return result

    def _notify(self, kind: str, params: dict[str, Any]) -> None:
        for listener in list(self._listeners):
            try:
                listener(kind, params)
            except BaseException:  # noqa: BLE001 - a listener never breaks a reload
                pass
