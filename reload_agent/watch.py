"""Watch mode: a thread on watchfiles' notifier that reports edited ``.py`` files.

The notifier is polled with a short ``step`` so an edit is seen within ~20 ms,
and the thread ends promptly on :meth:`Watcher.stop` through the notifier's
stop event. :meth:`Watcher.start` returns once the watches are in place, so an
edit made after it is never missed. It reports paths only; deciding what to
reload is the caller's.

>>> import tempfile
>>> w = Watcher([tempfile.mkdtemp()], print)
>>> w.start(); w.stop(); w.alive
False
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

__all__ = ["Watcher"]

log = logging.getLogger("reload_agent")

#: Milliseconds between checks of the notifier; latency is about two steps.
STEP_MS = 10
#: Longest time a burst of events (a save that writes several files) is gathered into one report.
DEBOUNCE_MS = 50
#: How long one wait for events lasts before the loop goes round (and sees a stop request).
IDLE_MS = 1000


class Watcher:
    """Calls ``on_change(paths)`` from its own thread with the ``.py`` files that changed."""

    def __init__(self, paths: Iterable[str], on_change: Callable[[list[str]], None]):
        self._paths = [str(p) for p in paths]
        self._on_change = on_change
        self._stop = threading.Event()
        self._watching = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reload-agent-watch", daemon=True)

    def start(self, timeout: float = 5.0) -> None:
        """Start watching; returns once the watches are in place (edits from then on are seen)."""
        self._thread.start()
        self._watching.wait(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            # watchfiles.watch() gives no signal once its watches exist; its notifier (typed, documented) does.
            from watchfiles import Change
            from watchfiles._rust_notify import RustNotify

            with RustNotify(self._paths, False, False, 300, True, False) as notifier:
                self._watching.set()
                while True:
                    raw = notifier.watch(DEBOUNCE_MS, STEP_MS, IDLE_MS, self._stop)
                    if raw == "stop":
                        return
                    if isinstance(raw, str):  # "timeout" or "signal": nothing changed
                        continue
                    # Atomic-save editors produce "added" (rename over), not "modified"; deletions reload nothing.
                    paths = sorted({p for c, p in raw if p.endswith(".py") and c != Change.deleted})
                    if paths:
                        try:
                            self._on_change(paths)
                        except Exception:
                            log.debug("watch callback failed", exc_info=True)
        except Exception as exc:  # a vanished directory must not take the host down
            log.warning("reload-agent: watching stopped: %s: %s", type(exc).__name__, exc)
        finally:
            self._watching.set()  # never leave start() waiting
