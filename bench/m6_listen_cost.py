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


def _one(cfg: Config, *flags: str, name: str) -> tuple[float, float]:
    with host(cfg, *flags, name=name) as (_, info):
        with connect(info):
            answered = time.perf_counter()
    return info["listen_ms"], (answered - info["listen_start"]) * 1000


def run(cfg: Config) -> Measure:
    require_agent()
    rounds = cfg.pick(12, 2)
    measure = Measure("6", "Cost of reload_agent.listen() on the host's main thread, and time until the agent answers",
                      ".venv/bin/python bench/run.py --only 6")
    samples: dict[str, list[float]] = {k: [] for k in ("listen", "agent_total", "bare", "bare_total")}
    for _ in range(rounds):
        ms, total = _one(cfg, "--no-hook", name="agent")
        samples["listen"].append(ms)
        samples["agent_total"].append(total)
        ms, total = _one(cfg, "--bare", name="bare")
        samples["bare"].append(ms)
        samples["bare_total"].append(total)
    bare, bare_total = "bare server thread start (main thread)", "bare server: until it answers"
    measure.series += [
        Series(bare, samples["bare"]),
        Series("import reload_agent + listen() (main thread)", samples["listen"], baseline=bare),
        Series(bare_total, samples["bare_total"]),
        Series("agent: until it answers initialize", samples["agent_total"], baseline=bare_total),
    ]
    median = measure.get("import reload_agent + listen() (main thread)").median
    measure.checks.append(Check("listen() <= 5 ms on the main thread", f"{median:.2f} ms (p50)", median <= 5))
    measure.notes.append(f"{rounds} fresh processes per variant. The agent's time to answer is dominated by "
                         "importing pygls/lsprotocol on the agent thread (see shared notes: ~0.5 s).")
    return measure
