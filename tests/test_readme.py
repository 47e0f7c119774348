"""README.md: every command it shows runs, against a real program, and does what the page says.

The exception is ``make test``: it is the command running this test. The commands
in docs/cli.md and docs/vscode.md are tested beside those pages' own tests.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support.agents import host_env, spawn_host, wait_for, write_files

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

# The client tests' small HTTP app (server.py answering app.views.message()) is the "your program" of the README.
sys.path.insert(0, str(ROOT / "tests" / "client"))
from clienthost import FILES, SERVER, views_source  # noqa: E402


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(), flags=re.S | re.M)


def commands(block: str) -> list[str]:
    """The commands of a shell block, without their trailing comments."""
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def venv_path() -> str:
    # `python` and `reload-agent-cli` in the README are this checkout's interpreter and console script.
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def test_the_two_commands_are_shown_and_make_demo_runs():
    [first, *_] = blocks("sh")
    assert commands(first) == ["make demo", "make test"]
    proc = subprocess.run(["make", "-s", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "rolled back" in proc.stdout


def test_quick_start_and_command_line_against_a_real_program(tmp_path: Path):
    _, start, quick, cli = blocks("sh")
    [launcher] = commands(start)
    work = tmp_path / "prog"
    write_files(work, {**FILES, "server.py": SERVER})
    env = {"PATH": venv_path()}
    with spawn_host(shlex.split(launcher), work, env=env) as host:
        port_file = work / f"port-{host.pid}"
        wait_for(port_file.exists, 15, what="the program's port file")

        def answer() -> str:
            with urllib.request.urlopen(f"http://127.0.0.1:{port_file.read_text()}/", timeout=5) as response:
                return response.read().decode()

        def run(block: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block], cwd=work,
                                  env=host_env(work, host.runtime_dir, env), capture_output=True, text=True,
                                  timeout=120)

        assert answer() == "hello v1"
        (work / "app" / "views.py").write_text(views_source("'edited live'"))
        proc = run(quick)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "reloaded app.views (patch: 1 function)" in proc.stdout
        assert answer() == "hello v1"  # the block ends with a rollback

        (work / "app" / "views.py").write_text(views_source("'checked'"))
        proc = run(cli)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert answer() == "checked"  # the smoke check passed, so the reload stayed


@pytest.mark.parametrize("index", range(2))
def test_python_examples_run(tmp_path: Path, index: int):
    example = blocks("python")[index]
    proc = subprocess.run([sys.executable, "-c", example], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env=host_env(tmp_path, tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr
    assert not list((tmp_path / "run").glob("agent-*.json"))  # stop() removed the connection file


def test_make_vsix_builds_the_extension():
    if not (ROOT / "vscode-extension" / "node_modules").is_dir():
        if os.environ.get("CI"):
            pytest.fail("make test installs the extension's node_modules before the Python tests")
        pytest.skip("vscode-extension/node_modules missing (run `make test-extension` first)")
    assert "`make vsix`" in README.read_text()
    proc = subprocess.run(["make", "-s", "vsix"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (ROOT / "vscode-extension" / "reload-agent.vsix").stat().st_size > 10_000
