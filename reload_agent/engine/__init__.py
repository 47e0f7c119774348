"""The reload engine: pure Python, no sockets, no pygls.

``Engine`` reloads modules as transactions (patching live functions and classes in
place, all or nothing), keeps a history that can be rolled back, and reports stale
modules. ``make_executor`` chooses where transactions run; ``install_import_hook``
records the source of modules as they are imported, which patch mode needs.

Names are imported on first use, so ``from reload_agent.engine import
install_import_hook`` (done by ``listen()`` on the host's thread) stays cheap.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False

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

_HOMES = {
    "Engine": ".engine",
    "Executor": ".executor",
    "ThreadExecutor": ".executor",
    "MainThreadExecutor": ".executor",
    "LoopExecutor": ".executor",
    "make_executor": ".executor",
    "install_import_hook": ".sources",
}

if TYPE_CHECKING:  # typing costs an import (~2 ms); the hook is installed from the agent's thread
    from typing import Any

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


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES.get(name, ".results"), __name__), name)
    globals()[name] = value
    return value
