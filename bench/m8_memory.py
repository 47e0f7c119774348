"""Measure 8: RSS of the agent's host after 1,000 reloads with history depth 10 vs after the first 10.

Reloads alternate a body edit in ``auto`` mode (patched) and a ``full`` reload of
a generated module, through the agent. The baseline is the same host without an
agent doing ``importlib.reload`` of the same edits. RSS is read after a full
garbage collection in the host.
"""

from __future__ import annotations

from gen import SITES, module_source, write_in_place, write_module
from harness import Check, Config, Measure, Series
from hosts import connect, host, require_agent
from reload_agent_client.protocol import METHOD_RELOAD

__all__ = ["run"]

_MB = 1024 * 1024


def run(cfg: Config) -> Measure:
    require_agent()
    size, total, every = cfg.pick((300, 1000, 100), (100, 30, 10))
    measure = Measure("8", f"RSS after {total:,} reloads (history 10) vs after the first 10",
                      ".venv/bin/python bench/run.py --only 8")
    directory = cfg.workdir / "m8"
    curves: dict[str, list[tuple[int, float]]] = {}
    for variant, flags in (("agent", ()), ("importlib.reload", ("--no-agent",))):
        name = "m8_" + ("agent" if variant == "agent" else "floor")
        write_module(directory, name, size, list(range(SITES)))
        with host(cfg, "--path", directory, "--import", name, "--history", "10", *flags, name=variant) as (child, info):
            client = connect(info) if variant == "agent" else None
            curve = curves[variant] = []
            for i in range(1, total + 1):
                write_in_place(directory / f"{name}.py", module_source(size, [i + k for k in range(SITES)]))
                if client is None:
                    child.request({"op": "reload", "module": name}, 60)
                else:
                    client.request(METHOD_RELOAD, {"modules": [name], "mode": "auto" if i % 2 else "full"})
                if i == 10 or i % every == 0:
                    curve.append((i, child.request({"op": "rss"}, 60)["rss"] / _MB))
            if client is not None:
                client.close()
            value = child.request({"op": "call", "module": name, "function": "site_0"}, 30)["value"]
            if value != total:
                raise AssertionError(f"{variant}: the last edit is not running (site_0() == {value})")
    for variant, curve in curves.items():
        after_10 = curve[0][1]
        growth = [rss - after_10 for _, rss in curve[1:]]
        measure.series.append(Series(f"{variant}: RSS growth since reload 10, sampled every {every}", growth,
                                     unit="MB", baseline=None if variant == "importlib.reload" else
                                     f"importlib.reload: RSS growth since reload 10, sampled every {every}"))
        measure.notes.append(f"{variant}: RSS " + ", ".join(f"{rss:.1f} MB after {i}" for i, rss in curve))
    final_growth = curves["agent"][-1][1] - curves["agent"][0][1]
    measure.checks.append(Check(f"agent RSS growth from reload 10 to {total:,} <= 5 MB", f"{final_growth:+.1f} MB",
                                final_growth <= 5))
    return measure
