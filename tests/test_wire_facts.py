"""The shared wire facts and discovery files, used by both the agent and the client."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

from reload_agent_client import discovery, protocol


def test_error_codes_are_distinct():
    codes = [c.value for c in protocol.ErrorCode]
    assert len(codes) == len(set(codes))
    assert protocol.ErrorCode.UNAUTHORIZED == -32001
    assert protocol.ErrorCode.NOT_INITIALIZED == -32002
    assert protocol.ErrorCode.RELOAD_FAILED == -32010
    assert protocol.ErrorCode.NOTHING_TO_ROLLBACK == -32011


def test_connection_file_is_private_and_round_trips(tmp_path):
    run = tmp_path / "run"
    info = discovery.AgentInfo.for_this_process("127.0.0.1:4242", "tok")
    path = discovery.write_connection_file(info, run)
    assert path.name == f"agent-{os.getpid()}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(run.stat().st_mode) == 0o700
    data = json.loads(path.read_text())
    assert set(data) == {"pid", "address", "token", "argv", "cwd", "python", "version", "started"}
    [found] = discovery.live_agents(run)
    assert found == info
    discovery.remove_connection_file(path)
    assert discovery.live_agents(run) == []


def test_dead_agents_are_ignored_and_cleaned(tmp_path):
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(proc.stdout)
    info = discovery.AgentInfo.for_this_process("127.0.0.1:1", "t")
    stale = discovery.write_connection_file(
        discovery.AgentInfo.from_json({**info.to_json(), "pid": dead_pid}), tmp_path
    )
    (tmp_path / "agent-garbage.json").write_text("{not json")
    assert discovery.live_agents(tmp_path) == []
    assert not stale.exists()


def test_runtime_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("RELOAD_AGENT_RUNTIME_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "xdg"))
    assert discovery.runtime_dir() == tmp_path / "explicit"
    monkeypatch.delenv("RELOAD_AGENT_RUNTIME_DIR")
    assert discovery.runtime_dir() == tmp_path / "xdg" / "reload-agent"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    made = discovery.runtime_dir(create=True)
    assert made == tmp_path / "home" / ".cache" / "reload-agent" / "run"
    assert stat.S_IMODE(made.stat().st_mode) == 0o700
