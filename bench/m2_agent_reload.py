"""Measure 2: a full reload through the agent from a persistent client vs importlib.reload (the floor).

The agent runs in its own host process and reloads its copy of a generated
1,000-line module (``mode: "full"``); the floor is ``importlib.reload`` of an
identical copy in this process. Each round edits both files and times both,
alternating which goes first.
"""

from __future__ import annotations

import importlib
import sys
import time

from gen import SITES, module_source, write_in_place, write_module
from harness import Check, Config, Measure, Series
from hosts import connect, host, require_agent
from reload_agent_client.protocol import METHOD_RELOAD

__all__ = ["run"]


def run(cfg: Config) -> Measure:
    require_agent()
    size, rounds = cfg.pick((1000, 200), (300, 10))
    measure = Measure("2", f"Full reload through the agent from a persistent client vs importlib.reload ({size} lines)",
                      ".venv/bin/python bench/run.py --only 2")
    directory = cfg.workdir / "m2"
    names = {"floor": "m2_floor", "agent": "m2_agent"}
    for name in names.values():
        write_module(directory, name, size, list(range(SITES)))
    sys.path.insert(0, str(directory))
    floor_module = importlib.import_module(names["floor"])
    floor: list[float] = []
    through_agent: list[float] = []
    reported: list[float] = []
    with host(cfg, "--path", directory, "--import", names["agent"], name="agent") as (child, info):
        with connect(info) as client:
            for round_no in range(-1, rounds):  # round -1: warm-up, not recorded
                text = module_source(size, [round_no + 10 + k for k in range(SITES)])
                for which in (("floor", "agent") if round_no % 2 else ("agent", "floor")):
                    write_in_place(directory / f"{names[which]}.py", text)
                    start = time.perf_counter()
                    if which == "floor":
                        importlib.reload(floor_module)
                    else:
                        result = client.request(METHOD_RELOAD, {"modules": [names["agent"]], "mode": "full"})
                    elapsed = (time.perf_counter() - start) * 1000
                    if round_no < 0:
                        continue
                    if which == "floor":
                        floor.append(elapsed)
                    else:
                        through_agent.append(elapsed)
                        reported.append(result["durationMs"])
            value = child.request({"op": "call", "module": names["agent"], "function": "site_2"}, 30)["value"]
            if value != rounds - 1 + 10 + 2:
                raise AssertionError(f"the agent's host does not run the last edit: site_2() == {value}")
            if result["modules"][0]["mode"] != "full":
                raise AssertionError(f"asked for full, got {result['modules'][0]}")
    floor_name = "importlib.reload in-process (floor)"
    measure.series += [
        Series(floor_name, floor),
        Series("agent full reload, client round trip", through_agent, baseline=floor_name),
        Series("agent full reload, durationMs reported by the agent", reported, baseline=floor_name),
    ]
    agent_series, floor_series = measure.get("agent full reload, client round trip"), measure.get(floor_name)
    for label, got, base in (("p50", agent_series.median, floor_series.median), ("p95", agent_series.p95, floor_series.p95)):
        limit = 1.3 * base + 1
        measure.checks.append(Check(f"{label} <= 1.3x floor + 1 ms", f"{got:.2f} ms vs limit {limit:.2f} ms",
                                    got <= limit))
    measure.notes.append(f"{rounds} reloads each, plus one warm-up; the agent's host main thread is idle (blocked "
                         "on stdin). The client is bench/wire.py (JSON); a new body is verified in the host at the end.")
    return measure
