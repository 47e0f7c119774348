"""Watch mode: a watchfiles thread that reports edited ``.py`` files.

The thread polls the Rust notifier with a short ``step`` so an edit is seen
within ~20 ms, and ends promptly on :meth:`Watcher.stop` through watchfiles'
``stop_event``. It reports paths only; deciding what to reload is the caller's.

>>> import tempfile, threading
>>> seen = threading.Event()
>>> w = Watcher([tempfile.mkdtemp()], lambda paths: seen.set())
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
#: Milliseconds to gather a burst of events (a save that writes several files).
DEBOUNCE_MS = 50


class Watcher:
    """Calls ``on_change(paths)`` from its own thread with the ``.py`` files that changed."""

    def __init__(self, paths: Iterable[str], on_change: Callable[[list[str]], None]):
        self._paths = list(paths)
        self._on_change = on_change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reload-agent-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            from watchfiles import watch

            for changes in watch(
                *self._paths,
                watch_filter=lambda _change, path: path.endswith(".py"),
                stop_event=self._stop,
                step=STEP_MS,
                debounce=DEBOUNCE_MS,
                yield_on_timeout=False,
                raise_interrupt=False,
            ):
                # Atomic-save editors produce "added" (rename over), not "modified"; deletions reload nothing.
                paths = sorted({path for change, path in changes if change.name != "deleted"})
                if paths:
                    try:
                        self._on_change(paths)
                    except Exception:
                        log.debug("watch callback failed", exc_info=True)
        except Exception as exc:  # a vanished directory must not take the host down
            log.warning("reload-agent: watching stopped: %s: %s", type(exc).__name__, exc)
