"""Threads: readers during reloads, executors, one lock for transactions."""

from __future__ import annotations

import asyncio
import threading

import pytest

from reload_agent.engine import ReloadError, make_executor
from reload_agent.engine.executor import APPLY_THREAD_NAME, LoopExecutor, MainThreadExecutor, ThreadExecutor

TEMPLATE = """
class Greeter:
    def hello(self):
        return {value!r}

def compute(x):
    return x + {value}
"""


@pytest.mark.parametrize("mode", ["auto", "full"])
def test_reader_thread_sees_only_old_or_new_results(mods, engine, mode):
    m = mods.load("m_conc", TEMPLATE.format(value=0))
    g = m.Greeter()
    compute = m.compute
    stop = threading.Event()
    errors: list[BaseException] = []
    seen: set[int] = set()

    def reader() -> None:
        while not stop.is_set():
            try:
                r = compute(0)
                assert g.hello() in (0, 1)
                assert m.compute(0) in (0, 1)
                seen.add(r)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
                return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(200):
            mods.write("m_conc", TEMPLATE.format(value=(i + 1) % 2))
            engine.reload(["m_conc"], mode=mode)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert errors == []
    assert seen <= {0, 1}
    assert compute(0) == 0  # 200 reloads: back to value 0


def test_concurrent_reload_calls_are_serialised(mods, engine):
    mods.load("m_ser", TEMPLATE.format(value=0))
    results: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for _ in range(10):
            try:
                tid = engine.reload(["m_ser"], mode="full").transaction
            except ReloadError:
                continue
            with lock:
                results.append(tid)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == list(range(1, 41))
    assert engine.list_modules("m_ser")[0].version == 40


def test_thread_executor_runs_on_named_thread():
    ex = make_executor("thread")
    assert isinstance(ex, ThreadExecutor)
    try:
        assert ex.submit(lambda: threading.current_thread().name).result(timeout=5) == APPLY_THREAD_NAME
        fut = ex.submit(lambda: (_ for _ in ()).throw(SystemExit(2)))
        with pytest.raises(SystemExit):
            fut.result(timeout=5)
        assert ex.submit(lambda: 7).result(timeout=5) == 7  # worker survived
    finally:
        ex.close()
    assert not any(t.name == APPLY_THREAD_NAME and t.is_alive() for t in threading.enumerate())
    with pytest.raises(RuntimeError):
        ex.submit(lambda: 1)


def test_main_executor_runs_at_checkpoint():
    ex = make_executor("main")
    assert isinstance(ex, MainThreadExecutor)
    assert ex.checkpoint() == 0
    fut = ex.submit(threading.current_thread)
    assert not fut.done()
    timer = threading.Timer(0.05, lambda: ex.submit(int))
    timer.start()
    try:
        assert ex.checkpoint() == 1
        assert fut.result(timeout=1) is threading.current_thread()
        assert ex.checkpoint(timeout=5) == 1  # waits for the job the timer submits
    finally:
        timer.join(timeout=5)
    pending = ex.submit(int)
    ex.close()
    assert pending.cancelled()


def test_loop_executor_runs_on_the_loop():
    loop = asyncio.new_event_loop()
    ex = make_executor(loop)
    assert isinstance(ex, LoopExecutor)
    thread = threading.Thread(target=loop.run_forever)
    thread.start()
    try:
        fut = ex.submit(lambda: asyncio.get_running_loop())
        assert fut.result(timeout=5) is loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
        ex.close()
    with pytest.raises(ValueError):
        make_executor("nowhere")
