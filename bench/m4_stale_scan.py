"""Measure 4: stale scan of 10,000 project modules vs a bare ``os.stat`` loop over the same files.

Runs in-process on the engine (the agent's listModules/reload ``stale`` use the
same call): the modules are imported with the engine's import hook installed,
as under the launcher. One file is really edited first, so the scan must find it.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path

from gen import write_in_place, write_tree
from harness import Check, Config, Measure, Series
from hosts import require_agent

__all__ = ["run"]


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return (time.perf_counter() - start) * 1000, value


def run(cfg: Config) -> Measure:
    require_agent()
    from reload_agent.engine import Engine, install_import_hook

    count, rounds = cfg.pick((10_000, 15), (300, 3))
    measure = Measure("4", f"Stale scan of {count:,} project modules vs a bare os.stat loop",
                      ".venv/bin/python bench/run.py --only 4")
    root = cfg.workdir / "tree"
    names = write_tree(root, "staletree", count)
    install_import_hook()
    sys.path.insert(0, str(root))
    import_ms, _ = _timed(lambda: [importlib.import_module(n) for n in names])
    engine = Engine(history=10)
    files = [m.__file__ for n, m in list(sys.modules.items()) if n.startswith("staletree") and m.__file__]
    edited = sys.modules[names[len(names) // 2]]
    edited_path = Path(edited.__file__)
    write_in_place(edited_path, edited_path.read_text() + "\n# edited\n")

    def stat_loop() -> list[str]:
        changed = []
        for path in files:
            st = os.stat(path)
            if st.st_mtime_ns < 0:  # never: the loop must use the result like a real scan would
                changed.append(path)
        return changed

    cold_ms, stale = _timed(lambda: engine.stale_modules())
    stale_names = [getattr(s, "name", s) for s in stale]
    if edited.__name__ not in stale_names:
        raise AssertionError(f"the edited module {edited.__name__} was not reported stale: {stale_names[:5]}")
    full, loop = [], []
    for i in range(rounds):
        for which in (("engine", "loop") if i % 2 else ("loop", "engine")):
            if which == "engine":
                full.append(_timed(lambda: engine.stale_modules())[0])
            else:
                loop.append(_timed(stat_loop)[0])
    named_files = [edited.__file__, files[0], files[-1]]
    named = [_timed(lambda: engine.stale_modules(files=named_files))[0] for _ in range(rounds * 2)]
    base = f"bare os.stat loop, {len(files):,} files"
    measure.series += [
        Series(base, loop),
        Series("engine.stale_modules(), first scan (cold)", [cold_ms], baseline=base),
        Series("engine.stale_modules(), full scan", full, baseline=base),
        Series("engine.stale_modules(files=[3 named files])", named),
    ]
    ratio = cold_ms / measure.get(base).median
    measure.checks.append(Check("full scan <= 1.2x the stat loop, cold", f"{ratio:.2f}x", ratio <= 1.2))
    ratio = measure.get("engine.stale_modules(), full scan").ratio_to(measure.get(base))
    measure.checks.append(Check("full scan <= 1.2x the stat loop, repeated", f"{ratio:.2f}x", ratio <= 1.2))
    named_median = measure.get("engine.stale_modules(files=[3 named files])").median
    measure.checks.append(Check("named files <= 5 ms", f"{named_median:.3f} ms", named_median <= 5))
    measure.notes.append(f"{count:,} generated modules imported in {import_ms:.0f} ms with the import hook installed; "
                         "one of them edited on disk before the scans (found stale). 'Cold' is the engine's first "
                         "scan after the imports (one sample; file metadata is in the OS cache for both sides).")
    return measure
