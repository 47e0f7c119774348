"""Measure 3: `reload-agent-cli reload` end to end vs restarting the app (300 modules), lean and with state.

From the moment the file is saved until an HTTP request returns the new output:
- restart: stop the app, start it again, wait for its port, GET;
- CLI: run ``reload-agent-cli reload webapp.views`` (a new process, as a user or
  an editor task does), then GET from the app that kept running under
  ``python -m reload_agent``.
Rounds of all variants are interleaved. The app "with state" spends 2 s of CPU at
start-up building state, as a cache or model load would.
"""

from __future__ import annotations

import http.client
import subprocess
import sys
import time
from pathlib import Path

from gen import HTTP_VIEWS_MODULE, views_source, write_http_app, write_in_place
from harness import Check, Child, Config, Measure, Series, Skipped, agent_env, spawn
from hosts import require_agent
from reload_agent_client.discovery import live_agents
from reload_agent_client.protocol import METHOD_RELOAD
from wire import WireClient

__all__ = ["run"]

def _get(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/")
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def _port(child: Child, timeout: float = 60) -> int:
    while True:
        line = child.read_line(timeout).split()
        if line and line[0] == "PORT":
            return int(line[1])


def _cli() -> Path:
    cli = Path(sys.executable).parent / "reload-agent-cli"
    if not cli.exists():
        raise Skipped("reload-agent-cli not installed in this environment")
    return cli


class _Restarted:
    """The app run plainly, restarted for every edit."""

    def __init__(self, cfg: Config, root: Path, state_seconds: float) -> None:
        self.root, self.cfg = root, cfg
        self.env = agent_env(cfg.workdir / "run-restart", BENCH_STATE_SECONDS=str(state_seconds))
        self.cm = None
        self.child: Child | None = None

    def start(self) -> int:
        self.cm = spawn([sys.executable, self.root / "app.py"], env=self.env)
        self.child = self.cm.__enter__()
        return _port(self.child)

    def edit(self, version: int) -> float:
        start = time.perf_counter()
        write_in_place(self.root / "webapp" / "views.py", views_source(version))
        self.close()
        body = _get(self.start())
        elapsed = (time.perf_counter() - start) * 1000
        if body != f"version {version}":
            raise AssertionError(f"restarted app answered {body!r}")
        return elapsed

    def close(self) -> None:
        if self.child is not None:
            # What a developer's Ctrl-C does; the app has no shutdown work to do.
            self.child.proc.terminate()
            self.child.proc.wait(timeout=30)
            self.cm.__exit__(None, None, None)
            self.child = None


class _UnderAgent:
    """The app started once under ``python -m reload_agent``, reloaded by the CLI."""

    def __init__(self, cfg: Config, root: Path, state_seconds: float, name: str) -> None:
        runtime = cfg.workdir / f"run-{name}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        self.root = root
        self.env = agent_env(runtime, BENCH_STATE_SECONDS=str(state_seconds))
        self.cm = spawn([sys.executable, "-m", "reload_agent", "--quiet", root / "app.py"], env=self.env, cwd=root)
        self.port = _port(self.cm.__enter__(), timeout=120)

    def edit(self, version: int) -> float:
        start = time.perf_counter()
        write_in_place(self.root / "webapp" / "views.py", views_source(version))
        proc = subprocess.run([str(_cli()), "reload", HTTP_VIEWS_MODULE], env=self.env, capture_output=True,
                              text=True, timeout=60)
        body = _get(self.port)
        elapsed = (time.perf_counter() - start) * 1000
        if proc.returncode != 0 or body != f"version {version}":
            raise AssertionError(f"CLI reload: rc={proc.returncode} {proc.stdout}{proc.stderr} body={body!r}")
        return elapsed

    def close(self) -> None:
        self.cm.__exit__(None, None, None)


class _Persistent:
    """The same kind of app, reloaded from a client that stays connected (an editor, ``cli watch``)."""

    def __init__(self, agent: _UnderAgent, runtime: Path) -> None:
        [found] = live_agents(runtime)
        self.agent = agent
        self.client = WireClient(found.address)
        self.client.initialize(found.token)

    def edit(self, version: int) -> float:
        start = time.perf_counter()
        write_in_place(self.agent.root / "webapp" / "views.py", views_source(version))
        self.client.request(METHOD_RELOAD, {"modules": [HTTP_VIEWS_MODULE]})
        body = _get(self.agent.port)
        elapsed = (time.perf_counter() - start) * 1000
        if body != f"version {version}":
            raise AssertionError(f"persistent client reload: body={body!r}")
        return elapsed

    def close(self) -> None:
        self.client.close()


def run(cfg: Config) -> Measure:
    require_agent()
    _cli()
    modules = cfg.pick(300, 30)
    rounds = cfg.pick(16, 2)
    state_every = 3
    state = cfg.pick(2.0, 0.2)
    measure = Measure("3", f"reload-agent-cli reload end to end vs restarting the app ({modules} modules)",
                      ".venv/bin/python bench/run.py --only 3")
    roots = {}
    for name in ("restart", "agent-lean", "agent-state"):
        roots[name] = cfg.workdir / name
        write_http_app(roots[name], count=modules)
    variants = {
        "restart lean": _Restarted(cfg, roots["restart"], 0),
        "restart with 2 s state": _Restarted(cfg, roots["restart"], state),
    }
    samples: dict[str, list[float]] = {}
    try:
        variants["CLI reload, lean app"] = _UnderAgent(cfg, roots["agent-lean"], 0, "agent-lean")
        variants["CLI reload, app with 2 s state"] = _UnderAgent(cfg, roots["agent-state"], state, "agent-state")
        variants["persistent client reload, lean app"] = _Persistent(variants["CLI reload, lean app"],
                                                                     cfg.workdir / "run-agent-lean")
        version = 0
        for round_no in range(-1, rounds):  # round -1 warms the .pyc files and the page cache
            for name, variant in variants.items():
                if name == "restart with 2 s state" and round_no % state_every:
                    continue
                if isinstance(variant, _Restarted) and variant.child is None:
                    variant.start()
                version += 1
                elapsed = variant.edit(version)
                if isinstance(variant, _Restarted):
                    variant.close()  # only one restarted app alive at a time
                if round_no >= 0:
                    samples.setdefault(name, []).append(elapsed)
    finally:
        for variant in reversed(variants.values()):
            variant.close()
    pairs = (("restart lean", "CLI reload, lean app", 5), ("restart with 2 s state", "CLI reload, app with 2 s state", 50))
    for base, name, _ in pairs:
        measure.series.append(Series(base, samples[base]))
        measure.series.append(Series(name, samples[name], baseline=base))
    measure.series.append(Series("persistent client reload, lean app", samples["persistent client reload, lean app"],
                                 baseline="restart lean"))
    for base, name, factor in pairs:
        speedup = measure.get(base).median / measure.get(name).median
        measure.checks.append(Check(f"CLI >= {factor}x faster than {base}", f"{speedup:.1f}x", speedup >= factor))
    measure.notes.append(
        "Timed from just before the save until the HTTP response shows the new text. The restart includes stopping "
        "the old process (SIGTERM) and waiting for the new one's port; .pyc files are warm. The CLI is a new process "
        "each time (interpreter start, discovery, connect, initialize, reload), as from a shell or an editor task. "
        "The persistent client (bench/wire.py, as an editor or `reload-agent-cli watch` keeps one) reloads the "
        "lean app under the agent; it is shown for the floor of the CLI path, no target."
    )
    return measure
