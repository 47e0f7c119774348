"""Measure 9: round trips per second on one connection, agent vs a bare asyncio JSON-RPC server.

The same minimal client (bench/wire.py, JSON bodies) talks to both; blocks of
``status`` requests alternate between the two servers so both see the same load.
"""

from __future__ import annotations

import time

from harness import Check, Config, Measure, Series
from hosts import connect, host, require_agent
from reload_agent_client.protocol import METHOD_STATUS

__all__ = ["run"]


def _block(client, count: int, latencies: list[float]) -> float:
    start = time.perf_counter()
    for _ in range(count):
        t0 = time.perf_counter()
        client.request(METHOD_STATUS)
        latencies.append((time.perf_counter() - t0) * 1e6)
    return count / (time.perf_counter() - start)


def run(cfg: Config) -> Measure:
    require_agent()
    blocks, per_block = cfg.pick((10, 400), (2, 30))
    measure = Measure("9", "Round trips per second on one connection: agent vs bare asyncio JSON-RPC server",
                      ".venv/bin/python bench/run.py --only 9")
    rates: dict[str, list[float]] = {"agent": [], "bare": []}
    latencies: dict[str, list[float]] = {"agent": [], "bare": []}
    with host(cfg, name="agent") as (_, agent_info), host(cfg, "--bare", name="bare") as (_, bare_info):
        with connect(agent_info) as agent, connect(bare_info) as bare:
            clients = {"agent": agent, "bare": bare}
            for name, client in clients.items():  # warm-up
                _block(client, per_block // 4 + 1, [])
            for i in range(blocks):
                order = ("agent", "bare") if i % 2 == 0 else ("bare", "agent")
                for name in order:
                    rates[name].append(_block(clients[name], per_block, latencies[name]))
    bare_rate = "bare asyncio JSON-RPC, req/s"
    measure.series += [
        Series(bare_rate, rates["bare"], unit="req/s", higher_is_better=True),
        Series("agent (reloadAgent/status), req/s", rates["agent"], unit="req/s", baseline=bare_rate,
               higher_is_better=True),
        Series("bare asyncio JSON-RPC, latency", latencies["bare"], unit="us"),
        Series("agent (reloadAgent/status), latency", latencies["agent"], unit="us",
               baseline="bare asyncio JSON-RPC, latency"),
    ]
    ratio = measure.get("agent (reloadAgent/status), req/s").ratio_to(measure.get(bare_rate))
    measure.checks.append(Check("round trips >= 80% of bare", f"{ratio:.0%}", ratio >= 0.8))
    measure.notes.append(f"{blocks} blocks of {per_block} sequential requests per server, alternating; "
                         "both servers are separate processes (the agent inside bench/agent_host.py, idle main thread), "
                         "loopback TCP, JSON bodies.")
    return measure
