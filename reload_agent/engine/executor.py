"""Where a transaction runs: a dedicated thread, the host's main thread, or an asyncio loop.

Reloading code that another thread is executing is safe for the engine (one lock
serialises transactions), but some programs want reloads to happen only at known
points: ``"main"`` queues jobs until the host calls ``checkpoint()``; an asyncio
loop runs them between its callbacks.

>>> ex = make_executor("main")
>>> fut = ex.submit(lambda a, b: a + b, 2, 3)
>>> ex.checkpoint()
1
>>> fut.result(timeout=1)
5
>>> ex.close()
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Callable, Protocol, runtime_checkable

if TYPE_CHECKING:  # asyncio costs ~20 ms to import; the launcher must not pay it
    import asyncio

__all__ = ["Executor", "ThreadExecutor", "MainThreadExecutor", "LoopExecutor", "make_executor", "APPLY_THREAD_NAME"]

APPLY_THREAD_NAME = "reload-agent-apply"


@runtime_checkable
class Executor(Protocol):
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]: ...

    def close(self) -> None: ...


def _run(future: Future[Any], fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        result = fn(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - a job's SystemExit must not end the worker
        future.set_exception(exc)
    else:
        future.set_result(result)


_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class ThreadExecutor:
    """One dedicated daemon thread named ``reload-agent-apply``, started on first use."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("executor is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=APPLY_THREAD_NAME, daemon=True)
                self._thread.start()
            self._queue.put((future, fn, args, kwargs))
        return future

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            _run(*job)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            self._queue.put(None)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)


class MainThreadExecutor:
    """Jobs wait in a queue until the host calls :meth:`checkpoint` (from whichever thread it likes)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self._closed:
            raise RuntimeError("executor is closed")
        future: Future[Any] = Future()
        self._queue.put((future, fn, args, kwargs))
        return future

    def checkpoint(self, timeout: float | None = 0) -> int:
        """Run the queued jobs here; wait up to ``timeout`` seconds (None: forever) for the first one.

        Returns how many jobs ran.
        """
        ran = 0
        try:
            job = self._queue.get(timeout=timeout) if timeout != 0 else self._queue.get_nowait()
        except queue.Empty:
            return 0
        while True:
            _run(*job)
            ran += 1
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return ran

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                future, *_ = self._queue.get_nowait()
            except queue.Empty:
                return
            future.cancel()


class LoopExecutor:
    """Jobs run on an asyncio loop (``loop.call_soon_threadsafe``), between its other callbacks."""

    def __init__(self, loop: "asyncio.AbstractEventLoop") -> None:
        self._loop = loop
        self._closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self._closed:
            raise RuntimeError("executor is closed")
        future: Future[Any] = Future()
        self._loop.call_soon_threadsafe(_run, future, fn, args, kwargs)
        return future

    def close(self) -> None:
        self._closed = True


def make_executor(apply: "str | asyncio.AbstractEventLoop") -> ThreadExecutor | MainThreadExecutor | LoopExecutor:
    """``"thread"``, ``"main"`` or an asyncio loop -> the matching executor."""
    if not isinstance(apply, str) and callable(getattr(apply, "call_soon_threadsafe", None)):
        return LoopExecutor(apply)
    if apply == "thread":
        return ThreadExecutor()
    if apply == "main":
        return MainThreadExecutor()
    raise ValueError(f"apply must be 'thread', 'main' or an asyncio event loop, not {apply!r}")
