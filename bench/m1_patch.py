"""Measure 1: a body edit until the new body runs, project (patch mode) vs importlib.reload,
IPython autoreload and jurigged, interleaved round by round in one run.

Each tool gets its own copy of the same generated module, so no tool sees
another's edits. In-process tools are timed from just after the save to the new
body's first return; jurigged (a watcher) from just before the save.
"""

from __future__ import annotations

import importlib
import itertools
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gen import SITES, module_source, write_in_place, write_module
from harness import BENCH, BENCH_VENV_PYTHON, Check, Child, Config, Measure, Series, Skipped, spawn
from hosts import connect, host

__all__ = ["run"]

_ONE = "one function"
_SEVERAL = f"{SITES} functions"


def _values(round_no: int, several: bool) -> list[int]:
    base = 1000 + round_no
    return [base + k if several or k == 2 else k for k in range(SITES)]


def _expect(values: list[int], several: bool) -> dict[str, int]:
    sites = range(SITES) if several else [2]
    return {f"site_{k}": values[k] for k in sites}


def _project_engine():
    try:
        from reload_agent.engine import Engine, install_import_hook
    except ImportError as exc:
        raise Skipped(f"engine not available: {exc}") from None
    install_import_hook()
    return Engine(history=10)


class _InProcess:
    """A tool that reloads in this process: the floor or the project's engine."""

    def __init__(self, name: str, directory: Path, module: str, reload) -> None:
        self.name, self.path, self.module_name, self.reload = name, directory / f"{module}.py", module, reload
        self.module = importlib.import_module(module)
        self.modes: set[str] = set()

    def edit(self, text: str, expect: dict[str, int]) -> float:
        write_in_place(self.path, text)
        start = time.perf_counter()
        mode = self.reload(self.module)
        got = {site: getattr(self.module, site)() for site in expect}
        elapsed = (time.perf_counter() - start) * 1000
        if got != expect:
            raise AssertionError(f"{self.name}: new body not running: {got} != {expect}")
        if mode:
            self.modes.add(mode)
        return elapsed


def _floor_reload(module) -> None:
    importlib.reload(module)


def _project_reload(engine, mode: str):
    def reload(module) -> str:
        result = engine.reload(modules=[module.__name__], mode=mode)
        return ",".join(sorted({m.mode for m in result.modules}))

    return reload


def run(cfg: Config) -> Measure:
    sizes = cfg.pick([1000, 5000], [300])
    rounds = cfg.pick({1000: 25, 5000: 12}, {300: 3})
    measure = Measure(
        "1",
        "Body edit until the new body runs (patch mode) vs importlib.reload, IPython autoreload, jurigged",
        ".venv/bin/python bench/run.py --only 1",
    )
    measure.notes.append(
        "Each tool edits its own copy of the same generated module; one unrecorded warm-up edit per tool and kind. "
        "In-process tools (floor, project, IPython's pre_run_cell hook) are timed from after the save until the new "
        "bodies return; jurigged from before the save until its watcher thread has swapped the code (its default "
        "50 ms debounce included, as users get it); the project's own watcher (an agent host started with "
        "watch=[dir]) the same way, for a like-for-like comparison with jurigged. importlib.reload writes a .pyc "
        "each time, as it does for users.")
    directory = cfg.workdir / "m1"
    directory.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(directory))
    try:
        engine = _project_engine()
    except Skipped as exc:
        engine = None
        measure.notes.append(f"project side skipped: {exc}")
    if not cfg.external:
        measure.notes.append("IPython and jurigged skipped: .bench-venv unavailable")

    for size in sizes:
        names = {tool: f"m1_{tool}_{size}" for tool in ("floor", "project", "ipython", "jurigged", "watch")}
        for name in names.values():
            write_module(directory, name, size, _values(0, False))
        tools = [_InProcess("floor", directory, names["floor"], _floor_reload)]
        if engine is not None:
            tools.append(_InProcess("project", directory, names["project"], _project_reload(engine, "patch")))
        samples: dict[tuple[str, bool], list[float]] = {}
        with _worker("ipython", cfg, directory, names["ipython"]) as ipy, \
                _worker("jurigged", cfg, directory, names["jurigged"]) as jur, \
                _watching_agent(cfg, engine is not None, directory, names["watch"]) as watcher:
            notes: set[str] = set()
            # Round -1 of each kind is a warm-up for every tool, not recorded.
            for several, round_no in itertools.product((False, True), range(-1, rounds[size])):
                values = _values(round_no + (500 if several else 2), several)
                text = module_source(size, values)
                expect = _expect(values, several)
                record = samples.setdefault
                for tool in tools:
                    elapsed = tool.edit(text, expect)
                    if round_no >= 0:
                        record((tool.name, several), []).append(elapsed)
                if ipy is not None:
                    reply = ipy.request({"module": names["ipython"], "text": text, "expect": expect}, 60)
                    if not reply["ok"]:
                        raise AssertionError(f"IPython autoreload did not apply the edit: {reply}")
                    if not reply["deduper"]:
                        notes.add(f"IPython fell back from deduperreload to superreload (round {round_no})")
                    if round_no >= 0:
                        record(("ipython", several), []).append(reply["ms"])
                for kind, child, request in (("jurigged", jur, {}), ("watch", watcher, {"op": "expect"})):
                    if child is None:
                        continue
                    ready = child.request({**request, "module": names[kind], "expect": expect}, 30)
                    assert ready.get("ready"), ready
                    start = time.perf_counter()
                    write_in_place(directory / f"{names[kind]}.py", text)
                    seen = child.read_json(60)["seen"]
                    if seen is None:
                        raise AssertionError(f"{kind} never ran the new body")
                    if round_no >= 0:
                        record((kind, several), []).append((seen - start) * 1000)
            measure.notes.extend(sorted(notes))
        for several in (False, True):
            kind = _SEVERAL if several else _ONE
            floor = f"importlib.reload, {size} lines, {kind}"
            labels = {"floor": floor, "project": f"project patch, {size} lines, {kind}",
                      "ipython": f"IPython %autoreload 2, {size} lines, {kind}",
                      "jurigged": f"jurigged save-to-running, {size} lines, {kind}",
                      "watch": f"project agent --watch save-to-running, {size} lines, {kind}"}
            for tool in ("floor", "project", "ipython", "jurigged", "watch"):
                if (tool, several) in samples:
                    # A watcher is compared with the other watcher when there is one: like for like.
                    base = labels["jurigged"] if tool == "watch" and ("jurigged", several) in samples else floor
                    measure.series.append(Series(labels[tool], samples[(tool, several)],
                                                 baseline=None if tool == "floor" else base))
            if engine is not None:
                ratio = measure.get(labels["project"]).ratio_to(measure.get(floor))
                limit = 0.5 if several else 0.1
                measure.checks.append(Check(f"{size} lines, {kind}: project <= {limit}x floor",
                                            f"{ratio:.3f}x", ratio <= limit))
        if engine is not None:
            measure.notes.append(f"{size} lines: engine reported modes {sorted(tools[1].modes)}")
    return measure


@contextmanager
def _watching_agent(cfg: Config, available: bool, directory: Path, module: str) -> Iterator[Child | None]:
    """The project's own watcher, comparable with jurigged: an agent host with ``watch=[directory]``."""
    if not available:
        yield None
        return
    with host(cfg, "--path", directory, "--import", module, "--watch", directory, name="watch") as (child, info):
        connect(info).close()  # the agent thread is up (pygls imported, watcher started) before the first edit
        yield child


@contextmanager
def _worker(kind: str, cfg: Config, directory: Path, module: str) -> Iterator[Child | None]:
    """A baseline worker (``bench/workers/<kind>_worker.py``) in .bench-venv, or None when unavailable."""
    if not cfg.external:
        yield None
        return
    with spawn([BENCH_VENV_PYTHON, BENCH / "workers" / f"{kind}_worker.py", directory, module]) as child:
        child.read_json(120)
        yield child
