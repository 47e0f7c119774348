"""docs/cli.md: every shell block runs against a real program, in order, and exits 0.

The long-running commands (`watch`, `lsp`) are mirrored: test_cli_watch.py and
tests/e2e/test_neovim.py run exactly the command and init.lua shown, and this
file checks the page still shows those.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from clienthost import App, views_source
from test_cli_watch import WATCH_ARGS

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
LONG_RUNNING = ("reload-agent-cli watch", "reload-agent-cli lsp")


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", DOC.read_text(), flags=re.S | re.M)


def doc_env(app: App) -> dict[str, str]:
    env = app.env()
    # The page says `reload-agent-cli`: make that this checkout's console script.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_every_shell_block_runs_and_exits_0(app: App):
    shell = blocks("sh")
    assert len(shell) >= 8
    ran = 0
    for number, block in enumerate(shell):
        if block.lstrip().startswith(LONG_RUNNING):
            continue
        # Each block starts from an edited file, as the page's reader would have.
        app.write("app/views.py", views_source(f"'doc step {number}'"))
        proc = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", block], cwd=app.root, env=doc_env(app),
            capture_output=True, text=True, timeout=120,
        )
        assert proc.returncode == 0, f"block {number} failed:\n{block}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        ran += 1
    assert ran == len(shell) - 1  # all but `watch`


def test_the_python_example_runs(app: App):
    [example] = blocks("python")
    app.write("app/views.py", views_source("'from python'"))
    proc = subprocess.run([sys.executable, "-c", example], cwd=app.root, env=doc_env(app), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("transaction ")
    assert app.get() == "from python"


def test_sample_output_matches_the_real_formats(app: App):
    success, failure = blocks("text")
    app.write("app/views.py", views_source("'v2'"))
    real = app.cli("reload", "app.views").stdout.strip()
    assert re.sub(r"[\d.]+ ms", "N ms", real) == re.sub(r"[\d.]+ ms", "N ms", success.strip())
    path = app.write("app/views.py", "from app import models\n\n\ndef message():\n    return models.GREETING +\n")
    real_lines = app.cli("reload", "app.views").stderr.strip().splitlines()
    sample = failure.strip().splitlines()
    assert real_lines[0].split(":")[0] == sample[0].split(":")[0]
    assert real_lines[1] == f"  at {path}:5" and sample[1].startswith("  at ") and sample[1].endswith("views.py:5")
    assert real_lines[2:] == sample[2:]


def test_the_long_running_commands_shown_are_the_tested_ones():
    text = DOC.read_text()
    assert f"reload-agent-cli {' '.join(WATCH_ARGS)}" in text
    assert 'cmd = { "reload-agent-cli", "lsp" }' in blocks("lua")[0]


def test_global_options_before_and_after_as_the_page_says(app: App):
    assert "`reload-agent-cli --json reload app.views` and\n`reload-agent-cli reload app.views --json`" in DOC.read_text()
    app.write("app/views.py", views_source("'placement'"))
    before = app.cli("--json", "reload", "app.views")
    after = app.cli("reload", "app.views", "--json")
    assert before.returncode == after.returncode == 0
    first, second = json.loads(before.stdout), json.loads(after.stdout)
    assert set(first) == set(second) and second["transaction"] == first["transaction"] + 1
