"""The separate environment holding the other projects we compare with (never project dependencies).

``.bench-venv/`` (gitignored) gets IPython >= 9, jurigged and the profilers on
first use; a stamp file makes later runs skip pip entirely.
"""

from __future__ import annotations

import subprocess
import sys

from harness import BENCH_VENV_PYTHON, ROOT

__all__ = ["REQUIREMENTS", "ensure_bench_venv"]

REQUIREMENTS = ("ipython>=9", "jurigged>=0.6", "pyinstrument>=5", "py-spy>=0.3")
_STAMP = ROOT / ".bench-venv" / ".bench-installed"


def ensure_bench_venv(log=print) -> bool:
    """Create/refresh ``.bench-venv``; False (with the reason logged) when it cannot be had."""
    wanted = "\n".join(REQUIREMENTS)
    if BENCH_VENV_PYTHON.exists() and _STAMP.exists() and _STAMP.read_text() == wanted:
        return True
    try:
        if not BENCH_VENV_PYTHON.exists():
            log("creating .bench-venv (baselines: IPython, jurigged, profilers)")
            subprocess.run([sys.executable, "-m", "venv", str(ROOT / ".bench-venv")], check=True, timeout=300)
        subprocess.run(
            [str(BENCH_VENV_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *REQUIREMENTS],
            check=True,
            timeout=900,
            capture_output=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log(f"bench venv unavailable ({exc}); IPython and jurigged baselines will be skipped")
        return False
    _STAMP.write_text(wanted)
    return True
