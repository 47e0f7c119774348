"""What the engine returns and raises, shaped once for the wire.

The engine is pure Python; these types are its public vocabulary. Each has a
``to_json()`` that produces exactly the structure ``docs/protocol.md`` defines,
so the agent layer never re-shapes results by hand.

>>> r = ModuleResult(name="app.views", mode="patch", version=1, functions=["index"])
>>> r.to_json()["patched"]
{'functions': ['index'], 'classes': []}
"""

from __future__ import annotations

import ast
import dataclasses
import os
import traceback
from typing import Any, Literal, Sequence

__all__ = [
    "Phase",
    "Mode",
    "Frame",
    "ExceptionInfo",
    "Replaced",
    "ModuleResult",
    "ReloadResult",
    "RollbackResult",
    "ModuleInfo",
    "TransactionRecord",
    "ReloadError",
    "RollbackError",
]

Phase = Literal["resolve", "compile", "execute", "patch", "hook", "verify"]
Mode = Literal["patch", "full"]


@dataclasses.dataclass(frozen=True)
class Frame:
    file: str
    line: int
    function: str

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "function": self.function}


# The engine's own frames (and ast.parse, which raises the syntax errors it reports) say nothing about the user's
# code: a traceback shows only the frames of the code being reloaded and what it called.
_INTERNAL_PREFIXES = (os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep, ast.__file__)


@dataclasses.dataclass(frozen=True)
class ExceptionInfo:
    """An exception raised by module code, reduced to plain data.

    ``file``/``line``/``column`` point at the most useful place: the syntax error's
    position, else the innermost traceback frame inside the reloaded module's
    file when there is one, else the innermost frame. ``line`` is 1-based and
    ``column`` 0-based (``None`` when unknown).
    """

    type: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    traceback: tuple[Frame, ...] = ()

    @classmethod
    def from_exception(cls, exc: BaseException, prefer_file: str | None = None) -> ExceptionInfo:
        frames = tuple(
            Frame(fs.filename, fs.lineno or 0, fs.name)
            for fs in traceback.extract_tb(exc.__traceback__)
            if not fs.filename.startswith(_INTERNAL_PREFIXES)
        )
        file = line = column = None
        if isinstance(exc, SyntaxError):
            file, line = exc.filename, exc.lineno
            column = None if exc.offset is None else max(exc.offset - 1, 0)
            message = exc.msg
        else:
            message = str(exc)
            chosen = None
            if prefer_file is not None:
                chosen = next((f for f in reversed(frames) if f.file == prefer_file), None)
            if chosen is None and frames:
                chosen = frames[-1]
            if chosen is not None:
                file, line = chosen.file, chosen.line
        return cls(type(exc).__name__, message, file, line, column, frames)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "traceback": [f.to_json() for f in self.traceback],
        }


@dataclasses.dataclass(frozen=True)
class Replaced:
    """An object that could not be patched in place: the new one replaced it."""

    name: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "reason": self.reason}


@dataclasses.dataclass
class ModuleResult:
    """What one transaction did to one module."""

    name: str
    mode: Mode
    version: int
    functions: list[str] = dataclasses.field(default_factory=list)
    classes: list[str] = dataclasses.field(default_factory=list)
    replaced: list[Replaced] = dataclasses.field(default_factory=list)
    #: Why ``auto`` chose ``full`` (or why ``patch`` fell back), when it did.
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "mode": self.mode,
            "version": self.version,
            "patched": {"functions": list(self.functions), "classes": list(self.classes)},
            "replaced": [r.to_json() for r in self.replaced],
        }
        if self.reason is not None:
            data["reason"] = self.reason
        return data


@dataclasses.dataclass
class ReloadResult:
    transaction: int
    modules: list[ModuleResult]
    duration_ms: float
    dry_run: bool = False
    #: Import cycles among the reloaded modules (each reloaded together, in source order).
    cycles: list[list[str]] = dataclasses.field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "transaction": self.transaction,
            "modules": [m.to_json() for m in self.modules],
            "durationMs": round(self.duration_ms, 3),
        }
        if self.dry_run:
            data["dryRun"] = True
        if self.cycles:
            data["cycles"] = [list(c) for c in self.cycles]
        return data


@dataclasses.dataclass
class RollbackResult:
    transaction: int
    rolled_back: int
    #: (module name, version after the rollback)
    modules: list[tuple[str, int]]
    duration_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "transaction": self.transaction,
            "rolledBack": self.rolled_back,
            "modules": [{"name": n, "version": v} for n, v in self.modules],
            "durationMs": round(self.duration_ms, 3),
        }


@dataclasses.dataclass(slots=True)
class ModuleInfo:
    name: str
    file: str | None
    stale: bool
    version: int
    reloadable: bool

    def to_json(self) -> dict[str, Any]:
        # explicit, not dataclasses.asdict (a deep copy): listModules serialises 10,000 of these
        return {
            "name": self.name,
            "file": self.file,
            "stale": self.stale,
            "version": self.version,
            "reloadable": self.reloadable,
        }


@dataclasses.dataclass
class TransactionRecord:
    """One entry of the history: a reload or a rollback, successful or not."""

    id: int
    time: str
    modules: list[str]
    ok: bool
    duration_ms: float
    kind: Literal["reload", "rollback"] = "reload"
    rolled_back: bool = False
    error: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "time": self.time,
            "kind": self.kind,
            "modules": list(self.modules),
            "ok": self.ok,
            "durationMs": round(self.duration_ms, 3),
            "rolledBack": self.rolled_back,
        }
        if self.error is not None:
            data["error"] = self.error
        return data


class ReloadError(Exception):
    """A transaction failed; the process was put back as it was (``rolled_back``)."""

    def __init__(
        self,
        phase: Phase,
        module: str | None,
        exception: ExceptionInfo,
        *,
        transaction: int | None = None,
        rolled_back: bool = True,
        modules: Sequence[str] = (),
    ) -> None:
        super().__init__(f"{phase} failed in {module or '?'}: {exception.type}: {exception.message}")
        #: The modules the transaction was reloading (none of them changed).
        self.modules = list(modules)
        self.phase = phase
        self.module = module
        self.exception = exception
        self.transaction = transaction
        self.rolled_back = rolled_back

    def to_json(self) -> dict[str, Any]:
        """The ``data`` of the -32010 JSON-RPC error."""
        return {
            "transaction": self.transaction,
            "phase": self.phase,
            "module": self.module,
            "exception": self.exception.to_json(),
            "rolledBack": self.rolled_back,
        }


class RollbackError(Exception):
    """Nothing to roll back, or the rollback was refused (the message says why)."""

    def __init__(self, message: str, *, blocking_transaction: int | None = None) -> None:
        super().__init__(message)
        self.blocking_transaction = blocking_transaction

    def to_json(self) -> dict[str, Any]:
        return {"blockingTransaction": self.blocking_transaction}
