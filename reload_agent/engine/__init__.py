"""The reload engine: pure Python, no sockets, no pygls.

``Engine`` reloads modules as transactions (patching live functions and classes in
place, all or nothing), keeps a history that can be rolled back, and reports stale
modules. ``make_executor`` chooses where transactions run; ``install_import_hook``
records the source of modules as they are imported, which patch mode needs.
"""

from __future__ import annotations

from .engine import Engine
from .executor import Executor, LoopExecutor, MainThreadExecutor, ThreadExecutor, make_executor
from .results import (
    ExceptionInfo,
    Frame,
    Mode,
    ModuleInfo,
    ModuleResult,
    Phase,
    ReloadError,
    ReloadResult,
    Replaced,
    RollbackError,
    RollbackResult,
    TransactionRecord,
)
from .sources import install_import_hook

__all__ = [
    "Engine",
    "Executor",
    "ThreadExecutor",
    "MainThreadExecutor",
    "LoopExecutor",
    "make_executor",
    "install_import_hook",
    "ExceptionInfo",
    "Frame",
    "Mode",
    "ModuleInfo",
    "ModuleResult",
    "Phase",
    "ReloadError",
    "ReloadResult",
    "Replaced",
    "RollbackError",
    "RollbackResult",
    "TransactionRecord",
]
