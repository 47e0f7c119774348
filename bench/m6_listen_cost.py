"""Measure 6: what ``reload_agent.listen()`` costs the host's main thread, and how soon the agent answers.

Fresh host processes, alternating: ``import reload_agent; reload_agent.listen()``
(embedding, cold) vs the bare baseline that binds a socket and serves the
~60-line JSON-RPC server on a thread. "Until it answers" runs from just before
the call (in the host) to the ``initialize`` answer arriving at a client that
connected as soon as the address was printed (CLOCK_MONOTONIC on both sides).
"""

from __future__ import annotations

import time

from harness import Check, Config, Measure, Series
from hosts import connect, host, require_agent

__all__ = ["run"]


def _one(cfg: Config, *flags: str, name: str) -> tuple[float, float, float, float]:
    with host(cfg, *flags, name=name) as (_, info):
        with connect(info):
            answered = time.perf_counter()
    return (info["package_import_ms"], info["listen_ms"], info["listen_cpu_ms"],
            (answered - info["listen_start"]) * 1000)


def run(cfg: Config) -> Measure:
    require_agent()
    rounds = cfg.pick(12, 1)
    measure = Measure("6", "Cost of reload_agent.listen() on the host's main thread, and time until the agent answers",
                      ".venv/bin/python bench/run.py --only 6")
    samples: dict[str, list[float]] = {}
    for _ in range(rounds):
        for variant, flags in (("agent", ("--no-hook",)), ("bare", ("--bare",))):
            for kind, value in zip(("import", "start", "cpu", "total"), _one(cfg, *flags, name=variant)):
                samples.setdefault(f"{variant} {kind}", []).append(value)
    labels = {
        "bare import": "bare: import the server module (asyncio)",
        "agent import": "agent: import reload_agent",
        "bare start": "bare: bind + start the server thread (main thread)",
        "agent start": "agent: listen() (main thread, wall)",
        "bare cpu": "bare: bind + start, CPU time of the main thread",
        "agent cpu": "agent: listen(), CPU time of the main thread",
        "bare total": "bare: from import until it answers",
        "agent total": "agent: from import until it answers initialize",
    }
    for kind in ("import", "start", "cpu", "total"):
        measure.series.append(Series(labels[f"bare {kind}"], samples[f"bare {kind}"]))
        measure.series.append(Series(labels[f"agent {kind}"], samples[f"agent {kind}"], baseline=labels[f"bare {kind}"]))
    listen = measure.get(labels["agent start"]).median
    cpu = measure.get(labels["agent cpu"]).median
    measure.checks.append(Check("listen() <= 5 ms on the main thread (wall)", f"{listen:.2f} ms (p50)", listen <= 5))
    measure.checks.append(Check("listen() <= 5 ms on the main thread (its CPU time)", f"{cpu:.2f} ms (p50)",
                                cpu <= 5))
    measure.notes.append(f"{rounds} fresh processes per variant, cold: nothing of the project imported before. "
                         "listen() includes what it imports on the calling thread (the engine's import hook, the wire "
                         "facts); wall time also includes waiting for the GIL while the agent thread starts. The "
                         "time to answer is dominated by importing pygls/lsprotocol on the agent thread.")
    return measure
