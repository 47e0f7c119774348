"""`make demo` end to end: the narrated demo runs against a real shop and a real agent, and cleans up after itself.

The demo checks every claim it narrates and exits 1 when one does not hold, so running it is a test of the whole
product (launcher, agent, engine, CLI). These tests add what the demo cannot see from inside: its exit code, its key
lines, that the repository's example files are untouched, and that the shop process is gone, also after Ctrl-C.
"""

from __future__ import annotations

import hashlib
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo.py"
DEMO_TIMEOUT_S = 90


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELOAD_AGENT_")}
    env.update(HOME=str(tmp_path), RELOAD_AGENT_RUNTIME_DIR=str(tmp_path / "run"), NO_COLOR="1")
    return env


def _shop_pid(output: str) -> int:
    match = re.search(r"shop pid (\d+)", output)
    assert match, output
    return int(match.group(1))


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_demo_runs_every_step_and_cleans_up(tmp_path):
    before = _tree_digest(ROOT / "examples")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(DEMO)], cwd=ROOT, env=_env(tmp_path), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=DEMO_TIMEOUT_S,
    )
    elapsed = time.monotonic() - started
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    headlines = re.findall(r"^(\d+)\. ", done.stdout, flags=re.M)
    assert headlines == [str(n) for n in range(1, 10)], output
    for key in ("Welcome to the tea shop, now reloaded live!", "patch", "full", "views.py:", "happy visitors: 5",
                "visits: 6", "customers also bought: honey, matcha, teapot", "Done in"):
        assert key in done.stdout, f"{key!r} missing from the demo's output:\n{output}"
    assert "DEMO FAILED" not in output
    assert _gone(_shop_pid(done.stdout))
    assert _tree_digest(ROOT / "examples") == before
    assert elapsed < 60, f"the demo took {elapsed:.1f} s"


def test_ctrl_c_stops_the_shop_and_leaves_the_examples_alone(tmp_path):
    before = _tree_digest(ROOT / "examples")
    proc = subprocess.Popen(
        [sys.executable, str(DEMO)], cwd=ROOT, env=_env(tmp_path), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    seen = ""
    try:
        # Interrupt right after the first live edit: the copy is modified and the shop is serving.
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + DEMO_TIMEOUT_S
            while not re.search(r"^3\. ", seen, flags=re.M):
                assert time.monotonic() < deadline, seen
                if not sel.select(timeout=deadline - time.monotonic()):
                    continue
                line = proc.stdout.readline()
                assert line, f"the demo ended early:\n{seen}"
                seen += line
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 130, seen + rest
    assert _gone(_shop_pid(seen))
    assert _tree_digest(ROOT / "examples") == before


def test_the_demo_notices_when_the_shop_does_not_behave(tmp_path):
    # Without its reload hooks, a full reload of shop.stats starts the counter from zero: step 6 must say so.
    shop = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "shop", shop, ignore=shutil.ignore_patterns("__pycache__"))
    stats = shop / "stats.py"
    text = stats.read_text()
    stats.write_text(text[: text.index("def __reload_dispose__")])
    done = subprocess.run(
        [sys.executable, str(DEMO), "--shop", str(shop)], cwd=ROOT, env=_env(tmp_path), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=DEMO_TIMEOUT_S,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "DEMO FAILED at step 6: the hooks did not carry the counter" in done.stderr, done.stderr
    assert "happy visitors: 1" in done.stdout
    assert _gone(_shop_pid(done.stdout))


@pytest.mark.parametrize("module", ["model", "stats", "views"])
def test_shop_doctests(module):
    # The shop is example code that people read: its documented examples must stay true.
    done = subprocess.run(
        [sys.executable, "-m", "doctest", "-v", f"shop/{module}.py"], cwd=ROOT / "examples",
        env={**os.environ, "PYTHONPATH": str(ROOT / "examples")}, capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 failed" in done.stdout
