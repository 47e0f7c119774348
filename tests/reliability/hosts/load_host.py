"""Host for the load test: threads call a two-module call chain in a tight loop.

Usage: ``python -m reload_agent --quiet [--apply main] load_host.py WORKDIR THREADS [main]``

``chain_a.entry()`` returns ``(tag_a, chain_b.step())`` and ``chain_b.pair()``
returns ``(tag, inner())`` where ``inner`` is a closure compiled with ``pair``;
every reload the test sends gives all of them one new tag. A call chain whose tags differ is a *mix*: it
ran part old and part new code. With ``main`` as last argument the main thread
runs the chain too and calls ``reload_agent.checkpoint()`` between chains (the
launcher must then use ``--apply main``), which is the contract's way to make a
reload land between two call chains and never inside one.

``GET /stats`` returns, per calling thread, calls, mixes, exceptions and tags seen.
"""

from __future__ import annotations

import sys
import threading

import probe

workdir, n_threads = sys.argv[1], int(sys.argv[2])
on_main = sys.argv[3:] == ["main"]
sys.path.insert(0, workdir)

import chain_a  # noqa: E402 - importable only once workdir is on sys.path
import chain_b  # noqa: E402

_stats: dict[str, dict[str, object]] = {}


def _new_stats(name: str) -> dict[str, object]:
    st: dict[str, object] = {"calls": 0, "chainMixes": 0, "pairMixes": 0, "errors": 0, "tags": set()}
    _stats[name] = st
    return st


def one_round(st: dict[str, object]) -> None:
    try:
        tag_a, tag_b = chain_a.entry()
        left, right = chain_b.pair()
    except BaseException as exc:
        st["errors"] += 1  # type: ignore[operator]
        probe.record_error("load chain", exc)
        return
    st["calls"] += 1  # type: ignore[operator]
    if tag_a != tag_b:
        st["chainMixes"] += 1  # type: ignore[operator]
    if left != right:
        st["pairMixes"] += 1  # type: ignore[operator]
    st["tags"].update((tag_a, tag_b, left))  # type: ignore[attr-defined]


def worker(name: str) -> None:
    st = _new_stats(name)
    while True:
        one_round(st)


def stats(_args: dict[str, str]) -> dict[str, object]:
    snap = {name: {**st, "tags": sorted(st["tags"])} for name, st in list(_stats.items())}  # type: ignore[call-overload]
    return {"threads": snap, "errors": list(probe.ERRORS)}


for i in range(n_threads):
    threading.Thread(target=worker, args=(f"worker-{i}",), name=f"worker-{i}", daemon=True).start()
probe.serve(workdir, {"stats": stats})

if on_main:
    import reload_agent

    st = _new_stats("main")
    while True:
        one_round(st)
        reload_agent.checkpoint()
else:
    threading.Event().wait()
