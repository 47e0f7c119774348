"""The benchmark harness in its tiny configuration, so bench/ cannot rot unnoticed.

Runs ``bench/run.py --quick`` (seconds, tiny sizes) and checks that every measure
either produced its table or was skipped because a piece of the project is not
there; a measure that fails makes the test fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH_VENV_READY = (ROOT / ".bench-venv" / ".bench-installed").exists()


def _run_bench(tmp_path: Path, *args: str) -> str:
    out = tmp_path / "RESULTS.md"
    env = dict(os.environ, RELOAD_AGENT_RUNTIME_DIR=str(tmp_path / "run"), HOME=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--out", str(out), *args],
        capture_output=True, text=True, timeout=240, env=env, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out.read_text()


@pytest.mark.timeout(300)
def test_every_measure_runs_in_quick_mode(tmp_path: Path) -> None:
    text = _run_bench(tmp_path, "--no-external")
    assert "**Machine**:" in text and "## Targets" in text
    for key in range(1, 10):
        assert f"\n## {key}. " in text, f"measure {key} missing"
    assert "Failed in this run" not in text
    sections = text.split("\n## ")[2:]
    assert len(sections) == 9
    for section in sections:
        assert "| variant |" in section or "Skipped:" in section, section[:400]


@pytest.mark.timeout(300)
@pytest.mark.skipif(not BENCH_VENV_READY, reason=".bench-venv not created (make bench creates it)")
def test_external_baselines_run_in_quick_mode(tmp_path: Path) -> None:
    text = _run_bench(tmp_path, "--only", "1")
    assert "IPython %autoreload 2" in text and "jurigged save-to-running" in text
