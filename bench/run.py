"""Run the benchmarks and write bench/RESULTS.md (``make bench``).

Each measure runs in a fresh child process (no state leaks between measures)
and writes its :class:`harness.Measure` as JSON; this script gathers them and
renders one Markdown report. ``--quick`` is the seconds-long smoke
configuration used by ``tests/test_bench_smoke.py``.

    .venv/bin/python bench/run.py                 # everything, a few minutes on 2 cores
    .venv/bin/python bench/run.py --only 1 9      # some measures
    .venv/bin/python bench/run.py --quick --out /tmp/R.md
"""

from __future__ import annotations

import argparse
import ast
import compileall
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchvenv import ensure_bench_venv  # noqa: E402
from harness import BENCH, Config, Skipped, machine_facts  # noqa: E402
from report import render  # noqa: E402

__all__ = ["MEASURES", "main"]

#: measure key -> module implementing ``run(cfg) -> Measure``
MEASURES = {
    "1": "m1_patch",
    "2": "m2_agent_reload",
    "3": "m3_cli_vs_restart",
    "4": "m4_stale_scan",
    "5": "m5_list_modules",
    "6": "m6_listen_cost",
    "7": "m7_idle",
    "8": "m8_memory",
    "9": "m9_round_trips",
}


def _title(key: str) -> str:
    """A measure's title from its module docstring, for reports of measures that failed."""
    doc = ast.get_docstring(ast.parse((BENCH / f"{MEASURES[key]}.py").read_text())) or ""
    return doc.split("\n")[0].split(": ", 1)[-1]


def _run_one(key: str, quick: bool, external: bool, workdir: Path, timeout: float) -> dict:
    out = workdir / f"measure-{key}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", key, "--json", str(out), "--workdir",
           str(workdir)]
    if quick:
        cmd.append("--quick")
    if external:
        cmd.append("--external")
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"key": key, "title": _title(key), "error": f"timed out after {timeout:.0f}s"}
    if proc.returncode != 0 or not out.exists():
        return {"key": key, "title": _title(key), "error": (proc.stderr or proc.stdout)[-3000:]}
    data = json.loads(out.read_text())
    data["seconds"] = time.monotonic() - started
    return data


def _measure_child(key: str, cfg: Config, out: Path) -> None:
    module = importlib.import_module(MEASURES[key])
    try:
        data = module.run(cfg).to_json()
    except Skipped as exc:
        data = {"key": key, "title": _title(key), "skipped": str(exc)}
    out.write_text(json.dumps(data, indent=1))


def _bytecode_policy() -> None:
    """No .pyc for the generated code, fresh .pyc for the project's own.

    The measures edit generated modules and import them again within the same
    second at the same size, and a .pyc's source check has 1 s resolution: a
    written .pyc would be served for the next version (the floor would time a
    cache hit and see the old body). So no child writes any; the project's own
    packages are compiled once here so their start-up is not charged for it.
    """
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    root = BENCH.parent
    for package in (root / "reload_agent", root / "client"):
        compileall.compile_dir(package, quiet=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=sorted(MEASURES), help="measures to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and few repetitions (smoke test)")
    parser.add_argument("--no-external", action="store_true", help="skip the IPython/jurigged baselines")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--external", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.measure:
        _measure_child(args.measure, Config(args.quick, args.workdir, args.external), args.json)
        return 0

    _bytecode_policy()
    external = not args.no_external and ensure_bench_venv(log=lambda msg: print(msg, file=sys.stderr))
    facts = machine_facts()
    keys = args.only or list(MEASURES)
    results = []
    failed = False
    with tempfile.TemporaryDirectory(prefix="reload-agent-bench-") as tmp:
        for key in keys:
            print(f"measure {key} ({MEASURES[key]}) ...", file=sys.stderr, flush=True)
            workdir = Path(tmp) / f"m{key}"
            workdir.mkdir()
            data = _run_one(key, args.quick, external, workdir, timeout=120 if args.quick else 600)
            failed |= "error" in data
            if "error" in data:
                print(f"  measure {key} failed:\n{data['error']}", file=sys.stderr)
            else:
                print(f"  done in {data['seconds']:.1f}s", file=sys.stderr)
            results.append(data)
    facts["loadavg_end"] = machine_facts()["loadavg"]
    limits = BENCH / "limits.md"
    analysis = limits.read_text() if limits.exists() and not args.quick else ""
    args.out.write_text(render(facts, results, quick=args.quick, analysis=analysis))
    print(f"wrote {args.out}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
