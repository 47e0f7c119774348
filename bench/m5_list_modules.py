"""Measure 5: ``reloadAgent/listModules`` round trip with 10,000 generated modules loaded.

The host imports the modules (import hook first, as the launcher does), then
starts the agent; one client times listModules, alternating with ``status`` on
the same connection as the reference for the fixed cost of a round trip.
"""

from __future__ import annotations

import time

from gen import write_tree
from harness import Check, Config, Measure, Series
from hosts import connect, host, require_agent
from reload_agent_client.protocol import METHOD_LIST_MODULES, METHOD_STATUS

__all__ = ["run"]


def run(cfg: Config) -> Measure:
    require_agent()
    count, rounds = cfg.pick((10_000, 30), (300, 3))
    measure = Measure("5", f"listModules round trip with {count:,} generated modules loaded",
                      ".venv/bin/python bench/run.py --only 5")
    root = cfg.workdir / "tree"
    write_tree(root, "listtree", count)
    listing: list[float] = []
    status: list[float] = []
    with host(cfg, "--tree", root, "listtree", str(count), name="list", timeout=300) as (_, info):
        with connect(info) as client:
            client.request(METHOD_LIST_MODULES, {})  # warm-up
            for _ in range(rounds):
                start = time.perf_counter()
                modules = client.request(METHOD_LIST_MODULES, {})["modules"]
                listing.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                client.request(METHOD_STATUS)
                status.append((time.perf_counter() - start) * 1000)
    listed = sum(1 for m in modules if m["name"].startswith("listtree."))
    if listed < count:
        raise AssertionError(f"listModules returned {listed} of the {count} generated modules")
    measure.series += [
        Series("status round trip (reference)", status),
        Series(f"listModules round trip, {len(modules):,} modules listed", listing,
               baseline="status round trip (reference)"),
    ]
    median = measure.get(measure.series[1].name).median
    measure.checks.append(Check("listModules <= 100 ms round trip", f"{median:.1f} ms (p50)", median <= 100))
    measure.notes.append(f"Host imported {count:,} modules in {info['import_ms']:.0f} ms before listen(). "
                         "The client (bench/wire.py) decodes the JSON answer: that cost is included.")
    return measure
