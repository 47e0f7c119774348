"""Discovery from the command line with 0, 1 and 2 real agents, a stale file, --pid and --all."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from clienthost import CLI, App, start_app, views_source

from reload_agent_client import discovery
from tests.support.agents import host_env


@pytest.fixture
def two_apps(tmp_path: Path) -> Iterator[tuple[App, App]]:
    with start_app(tmp_path / "a") as first:
        with start_app(tmp_path / "b", runtime_dir=first.host.runtime_dir) as second:
            yield first, second


def dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_zero_agents(tmp_path: Path):
    env = host_env(tmp_path, tmp_path / "run")
    agents = subprocess.run([*CLI, "agents"], env=env, capture_output=True, text=True, timeout=30)
    assert (agents.returncode, agents.stdout.strip()) == (0, "no running agents")
    assert json.loads(subprocess.run([*CLI, "agents", "--json"], env=env, capture_output=True, text=True,
                                     timeout=30).stdout) == {"agents": []}
    status = subprocess.run([*CLI, "status"], env=env, capture_output=True, text=True, timeout=30)
    assert status.returncode == 2
    assert f"no running agent found in {tmp_path / 'run'}" in status.stderr


def test_one_agent_and_a_stale_connection_file(app: App):
    live = discovery.AgentInfo.from_json(json.loads(app.host.connection_file.read_text()))
    stale = discovery.write_connection_file(
        discovery.AgentInfo.from_json({**live.to_json(), "pid": dead_pid(), "address": "127.0.0.1:1"}),
        app.host.runtime_dir,
    )
    agents = app.cli("agents")
    assert agents.returncode == 0
    rows = agents.stdout.splitlines()
    assert rows[0].split()[:2] == ["PID", "ADDRESS"]
    assert [r.split()[0] for r in rows[1:]] == [str(app.host.pid)]
    assert not stale.exists()
    [entry] = json.loads(app.cli("agents", "--json").stdout)["agents"]
    assert entry["pid"] == app.host.pid and entry["address"] == app.host.address
    assert "token" not in entry  # secrets stay in the 0600 file
    assert json.loads(app.cli("status", "--json").stdout)["pid"] == app.host.pid


def test_two_agents_need_a_choice(two_apps):
    first, second = two_apps
    proc = first.cli("status")
    assert proc.returncode == 2
    assert "2 agents are running" in proc.stderr
    assert f"pid {first.host.pid}" in proc.stderr and f"pid {second.host.pid}" in proc.stderr
    doc = json.loads(first.cli("status", "--json").stdout)
    assert {a["pid"] for a in doc["error"]["data"]["agents"]} == {first.host.pid, second.host.pid}
    assert json.loads(first.cli("status", "--json", "--pid", str(second.host.pid)).stdout)["pid"] == second.host.pid
    missing = first.cli("status", "--pid", "1")
    assert missing.returncode == 2 and "no running agent with pid 1" in missing.stderr


def test_all_reloads_every_agent_and_reports_each(two_apps):
    first, second = two_apps
    for app in two_apps:
        app.write("app/views.py", views_source("'everywhere'"))
    proc = first.cli("--all", "reload", "app.views")
    assert proc.returncode == 0, proc.stderr
    headers = [line for line in proc.stdout.splitlines() if line.startswith("== ")]
    assert headers == [f"== pid {a.host.pid} at {a.host.address} ==" for a in sorted(two_apps, key=lambda a: a.host.pid)]
    assert proc.stdout.count("reloaded app.views") == 2
    assert first.get() == second.get() == "everywhere"


def test_all_exits_1_when_one_agent_fails(two_apps):
    first, second = two_apps
    first.write("app/views.py", views_source("'fine'"))
    second.write("app/views.py", "def message(:\n")
    proc = first.cli("reload", "app.views", "--all", "--json")
    assert proc.returncode == 1
    entries = {e["pid"]: e for e in json.loads(proc.stdout)["agents"]}
    assert entries[first.host.pid]["result"]["modules"][0]["name"] == "app.views"
    assert entries[second.host.pid]["error"]["code"] == -32010
    assert (first.get(), second.get()) == ("fine", "hello v1")

    human = first.cli("history", "--all")
    assert human.returncode == 0 and human.stdout.count("== pid ") == 2


def test_unix_socket_agent_without_token(tmp_path: Path):
    sock = tmp_path / "agent.sock"
    with start_app(tmp_path / "u", options=("--listen", f"unix:{sock}", "--no-token")) as app:
        assert app.host.address == f"unix:{sock}" and app.host.token is None
        assert json.loads(app.cli("status", "--json").stdout)["pid"] == app.host.pid
        app.write("app/views.py", views_source("'over unix'"))
        proc = app.cli("--connect", f"unix:{sock}", "reload", "app.views")
        assert proc.returncode == 0, proc.stderr
        assert app.get() == "over unix"
