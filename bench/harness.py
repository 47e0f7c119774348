"""Shared benchmark machinery: timing statistics, child processes, machine facts.

Every measure module builds :class:`Measure` objects out of :class:`Series`
(repeated samples of one variant) and compares each series with a baseline
series measured in the same run, so the ratio survives a noisy shared machine.

>>> s = Series("floor", [10.0, 12.0, 11.0])
>>> s.median
11.0
>>> Series("x", [5.5, 6.0, 5.0]).ratio_to(s)
0.5
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import platform
import queue
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = [
    "ROOT",
    "BENCH",
    "BENCH_VENV_PYTHON",
    "Config",
    "Series",
    "Check",
    "Measure",
    "Skipped",
    "percentile",
    "machine_facts",
    "Child",
    "spawn",
    "stop",
    "agent_env",
    "cpu_seconds",
    "context_switches",
]

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BENCH_VENV_PYTHON = ROOT / ".bench-venv" / "bin" / "python"


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (``q`` in 0..100) of ``values``.

    >>> percentile([1, 2, 3, 4], 50)
    2.5
    """
    if not values:
        raise ValueError("no samples")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclasses.dataclass
class Series:
    """Repeated samples of one variant, in ``unit`` (lower is better unless ``higher_is_better``)."""

    name: str
    samples: list[float]
    unit: str = "ms"
    baseline: str | None = None
    higher_is_better: bool = False
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        """The bad tail: 95th percentile of times, 5th percentile of rates (``higher_is_better``)."""
        return percentile(self.samples, 5 if self.higher_is_better else 95)

    def ratio_to(self, other: Series) -> float | None:
        """Median of this series over the median of ``other`` (None when that is 0)."""
        return self.median / other.median if other.median else None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "baseline": self.baseline,
            "higher_is_better": self.higher_is_better,
            "note": self.note,
            "n": len(self.samples),
            "median": self.median,
            "p95": self.p95,
            "samples": self.samples,
        }


@dataclasses.dataclass
class Check:
    """One target of the issue and whether this run met it."""

    target: str
    measured: str
    ok: bool

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Measure:
    """The outcome of one numbered measure, ready for RESULTS.md."""

    key: str
    title: str
    command: str
    series: list[Series] = dataclasses.field(default_factory=list)
    checks: list[Check] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    def get(self, name: str) -> Series:
        return next(s for s in self.series if s.name == name)

    def has(self, name: str) -> bool:
        return any(s.name == name for s in self.series)

    def to_json(self) -> dict[str, Any]:
        by_name = {s.name: s for s in self.series}
        rows = []
        for s in self.series:
            row = s.to_json()
            base = by_name.get(s.baseline or "")
            if base is not None:
                row["ratio_median"] = s.ratio_to(base)
                row["ratio_p95"] = s.p95 / base.p95 if base.p95 else None
            rows.append(row)
        return {
            "key": self.key,
            "title": self.title,
            "command": self.command,
            "series": rows,
            "checks": [c.to_json() for c in self.checks],
            "notes": self.notes,
        }


@dataclasses.dataclass(frozen=True)
class Config:
    """How big a run is: ``quick`` is the seconds-long smoke configuration."""

    quick: bool
    workdir: Path
    external: bool  # the .bench-venv baselines (IPython, jurigged) are available

    def pick(self, full: Any, quick: Any) -> Any:
        return quick if self.quick else full


class Skipped(Exception):
    """A variant cannot run here (a piece of the project or a baseline is missing)."""


def machine_facts() -> dict[str, Any]:
    """Cores, CPU model, Python, load: what a reader needs to weigh the numbers."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "reload_agent", "client"], cwd=ROOT, capture_output=True,
            text=True, timeout=10,
        ).stdout.strip()
        if dirty:
            commit += " + uncommitted changes to the product"
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "loadavg": os.getloadavg(),
        "commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


class Child:
    """A running child process whose stdout lines are read by a thread into a queue.

    A reader thread (not ``select`` on the pipe) because a text pipe buffers
    lines that ``select`` can no longer see.
    """

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.pid = proc.pid
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=60)
        self._threads = [
            threading.Thread(target=self._pump, args=(proc.stdout, self._lines.put), daemon=True),
            threading.Thread(target=self._pump, args=(proc.stderr, self._stderr.append), daemon=True),
        ]
        for t in self._threads:
            t.start()

    @staticmethod
    def _pump(stream: IO[str] | None, sink: Any) -> None:
        if stream is None:
            return
        for line in stream:
            sink(line)
        sink(None)

    def stderr_tail(self) -> str:
        return "".join(line for line in self._stderr if line)[-3000:]

    def read_line(self, timeout: float) -> str:
        """The next stdout line, or RuntimeError after ``timeout`` seconds or at EOF."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"pid {self.pid}: no output within {timeout}s; stderr:\n{self.stderr_tail()}") from None
        if line is None:
            self._lines.put(None)
            self.proc.wait(timeout=10)
            raise RuntimeError(f"pid {self.pid} closed its output (rc={self.proc.returncode}); stderr:\n{self.stderr_tail()}")
        return line

    def read_json(self, timeout: float) -> dict[str, Any]:
        """Skip non-JSON chatter and return the next ``{...}`` line."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.read_line(max(deadline - time.monotonic(), 0.001)).strip()
            if line.startswith("{"):
                return json.loads(line)

    def send(self, obj: Any) -> None:
        """One JSON line to the child's stdin."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()

    def request(self, obj: Any, timeout: float) -> dict[str, Any]:
        """Send one JSON line and return the JSON line answered."""
        self.send(obj)
        return self.read_json(timeout)


@contextmanager
def spawn(
    args: Sequence[str | os.PathLike[str]],
    *,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> Iterator[Child]:
    """Start a child with line-buffered text pipes; always kill and reap it (and its group) on exit."""
    proc = subprocess.Popen(
        [str(a) for a in args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    child = Child(proc)
    try:
        yield child
    finally:
        stop(child)


def stop(child: Child) -> None:
    """Kill ``child`` and its process group if still running, and reap it."""
    proc = child.proc
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=10)
    if proc.stdin is not None:
        try:
            proc.stdin.close()
        except OSError:
            pass


def agent_env(runtime_dir: str | os.PathLike[str], **extra: str) -> dict[str, str]:
    """Environment for a child agent: private runtime dir, project importable, quiet."""
    env = dict(os.environ)
    for key in ("RELOAD_AGENT_LISTEN", "RELOAD_AGENT_TOKEN", "RELOAD_AGENT_ADDRESS"):
        env.pop(key, None)
    env["RELOAD_AGENT_RUNTIME_DIR"] = str(runtime_dir)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(BENCH), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of every thread of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def context_switches(pid: int) -> int:
    """Voluntary + involuntary context switches summed over the live threads of ``pid``."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "status").read_text()
        except OSError:
            continue  # the thread ended between listing and reading
        for line in text.splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                total += int(line.split()[1])
    return total


if __name__ == "__main__":  # pragma: no cover
    json.dump(machine_facts(), sys.stdout, indent=2)
