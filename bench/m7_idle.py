"""Measure 7: idle cost of a started agent (no watch) over 10 s: CPU time and wake-ups.

Four hosts idle side by side in the same 10 s window, sampled once a second from
/proc: the agent after its first client left, the agent with one connected idle
client, the same host without an agent (main thread blocked on stdin), and the
bare asyncio server on a thread. Wake-ups are counted as context switches of all
the process's threads.
"""

from __future__ import annotations

import contextlib
import time

from harness import Check, Config, Measure, Series, context_switches, cpu_seconds
from hosts import connect, host, require_agent

__all__ = ["run"]


def run(cfg: Config) -> Measure:
    require_agent()
    seconds = cfg.pick(10, 1)
    measure = Measure("7", f"Idle cost over {seconds} s without watch: CPU time and wake-ups",
                      ".venv/bin/python bench/run.py --only 7")
    with contextlib.ExitStack() as stack:
        hosts = {
            "host without agent": stack.enter_context(host(cfg, "--no-agent", name="plain"))[1],
            "bare asyncio server thread": stack.enter_context(host(cfg, "--bare", name="bare"))[1],
            "agent, no client": stack.enter_context(host(cfg, name="agent"))[1],
            "agent, one idle client": stack.enter_context(host(cfg, name="agent-client"))[1],
        }
        # Both agents have answered once (pygls imported, loop running) before the window opens.
        with connect(hosts["agent, no client"]):
            pass
        stack.enter_context(connect(hosts["agent, one idle client"]))
        time.sleep(0.5)  # let the first client's disconnect settle
        cpu = {name: [] for name in hosts}
        wakeups = {name: [] for name in hosts}
        last = {name: (cpu_seconds(i["pid"]), context_switches(i["pid"])) for name, i in hosts.items()}
        for _ in range(seconds):
            time.sleep(1.0)  # the sampling period itself: nothing to wait for
            for name, info in hosts.items():
                now = (cpu_seconds(info["pid"]), context_switches(info["pid"]))
                cpu[name].append((now[0] - last[name][0]) * 1000)
                wakeups[name].append(float(now[1] - last[name][1]))
                last[name] = now
    base = "host without agent"
    for kind, table, unit in (("CPU", cpu, "ms/s"), ("wake-ups", wakeups, "/s")):
        for name in hosts:
            measure.series.append(Series(f"{name}: {kind}", table[name], unit=unit,
                                         baseline=None if name == base else f"{base}: {kind}"))
    for name in ("agent, no client", "agent, one idle client"):
        total_cpu, total_wake = sum(cpu[name]), sum(wakeups[name])
        measure.checks.append(Check(f"{name}: idle ~0",
                                    f"{total_cpu:.0f} ms CPU, {total_wake:.0f} wake-ups in {seconds} s",
                                    total_cpu <= 1.0 * seconds and total_wake <= 5 * seconds))
    measure.notes.append("CPU in clock ticks of 10 ms, so single samples are 0 or 10; a ratio against a baseline of 0 "
                         "shows as inf. 'Idle ~0' is checked as <= 1 ms CPU per second and <= 5 wake-ups per second.")
    return measure
