"""Host for the fault matrix: imports the named modules and keeps calling them.

Usage: ``python -m reload_agent --quiet fault_host.py WORKDIR MODULE...``

The main thread calls every module's ``probe()`` in a loop for as long as the
process lives, so a fault that wedges or kills the host shows up as a loop
counter that stops moving; what the loop sees go wrong lands in ``probe.ERRORS``.
``GET /snapshot?mods=a,b`` returns :func:`probe.module_snapshot` plus the counter.
"""

from __future__ import annotations

import importlib
import sys
import time

import probe

workdir, names = sys.argv[1], sys.argv[2:]
sys.path.insert(0, workdir)
for name in names:
    importlib.import_module(name)

loops = 0


def snapshot(args: dict[str, str]) -> dict[str, object]:
    mods = [m for m in args.get("mods", "").split(",") if m]
    return {**probe.module_snapshot(mods), "loops": loops}


probe.serve(workdir, {"snapshot": snapshot})

while True:
    for name in names:
        module = sys.modules.get(name)
        try:
            if module is not None and hasattr(module, "probe"):
                module.probe()
        except BaseException as exc:
            probe.record_error(f"main loop calling {name}.probe", exc)
    loops += 1
    # Yield the GIL now and then: the loop proves liveness, it is not a load test.
    time.sleep(0.001)
