"""Profile what limits a measure, with py-spy (from .bench-venv) sampling a real process.

    .venv/bin/python bench/profile_agent.py roundtrip   # the agent answering status requests (measure 9)
    .venv/bin/python bench/profile_agent.py patch       # patch reloads, one function of a 5,000-line module (measure 1)
    .venv/bin/python bench/profile_agent.py patch5      # patch reloads, five functions of a 5,000-line module (measure 1)
    .venv/bin/python bench/profile_agent.py full        # agent full reloads (measure 2)

Prints the functions with the most samples, by own time and including callees
(collapsed stacks, so a recursive frame counts once per sample).
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchvenv import ensure_bench_venv  # noqa: E402
from gen import SITES, module_source, write_in_place, write_module  # noqa: E402
from harness import BENCH_VENV_PYTHON, Config  # noqa: E402
from hosts import connect, host  # noqa: E402

__all__ = ["summarize", "main"]

PY_SPY = BENCH_VENV_PYTHON.parent / "py-spy"


def summarize(collapsed: str, top: int = 25) -> str:
    """Top frames by own and inclusive samples from py-spy's ``--format raw`` output."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    out = [f"{total} samples", "", "own time:"]
    out += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    out += ["", "including callees:"]
    out += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(out)


def _record(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(PY_SPY), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "500",
                             "--format", "raw", "--output", str(out), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _load(cfg: Config, seconds: float, scenario: str, out: Path) -> None:
    directory = cfg.workdir / "mods"
    lines = 5000 if scenario.startswith("patch") else 1000
    write_module(directory, "prof_mod", lines, list(range(SITES)))
    with host(cfg, "--path", directory, "--import", "prof_mod", name="prof") as (_, info):
        with connect(info) as client:
            client.request("reloadAgent/status")
            spy = _record(info["pid"], seconds, out)
            time.sleep(1.0)  # py-spy attaches asynchronously; nothing to wait on
            deadline = time.monotonic() + seconds
            i = 0
            while time.monotonic() < deadline:
                i += 1
                if scenario == "roundtrip":
                    client.request("reloadAgent/status")
                    continue
                several = scenario != "patch"
                values = [i + k if several or k == 2 else k for k in range(SITES)]
                write_in_place(directory / "prof_mod.py", module_source(lines, values))
                client.request("reloadAgent/reload", {"modules": ["prof_mod"],
                                                      "mode": "full" if scenario == "full" else "patch"})
            _, err = spy.communicate(timeout=60)
            if spy.returncode:
                raise SystemExit(f"py-spy failed: {err.decode()[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=("roundtrip", "patch", "patch5", "full"))
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    if not ensure_bench_venv():
        raise SystemExit("py-spy needs .bench-venv")
    with tempfile.TemporaryDirectory(prefix="reload-agent-profile-") as tmp:
        out = Path(tmp) / "profile.txt"
        _load(Config(False, Path(tmp), True), args.seconds, args.scenario, out)
        print(summarize(out.read_text()))


if __name__ == "__main__":
    main()
