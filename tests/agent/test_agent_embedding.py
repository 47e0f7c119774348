"""Embedding: listen() cost and imports, stop() cleanup, apply modes, a host with its own asyncio loop."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reload_agent_client.protocol import METHOD_RELOAD, METHOD_STATUS, ErrorCode
from tests.support.agents import host_env, wait_for

WHERE = """\
import threading, pathlib
pathlib.Path("where.txt").write_text(threading.current_thread().name)
"""


def run_python(tmp_path: Path, code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (agents are per process) with a private runtime dir."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path, env=host_env(tmp_path, runtime, env),
        capture_output=True, text=True, timeout=60,
    )


def run_snippet(tmp_path: Path, code: str) -> dict:
    """Run ``code`` (see :func:`run_python`) and return the JSON it prints last."""
    proc = run_python(tmp_path, code)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_listen_is_fast_and_leaves_pygls_to_the_agent_thread(tmp_path):
    report = run_snippet(tmp_path, """
        import json, sys, time
        t0 = time.perf_counter()
        import reload_agent
        t1 = time.perf_counter()
        heavy = ("pygls", "lsprotocol", "cattrs", "asyncio")
        after_import = [m for m in heavy if m in sys.modules]
        # The wire facts are another package with its own import cost; what is measured here is what the agent
        # itself adds to the host's thread (the engine's import hook is installed on the agent thread).
        import reload_agent_client.protocol
        t1, c1 = time.perf_counter(), time.thread_time()
        agent = reload_agent.listen()
        t2, c2 = time.perf_counter(), time.thread_time()
        after_listen = [m for m in heavy[:3] if m in sys.modules]
        again = reload_agent.listen() is agent
        agent.ready.wait(60)
        later = [m for m in heavy[:3] if m in sys.modules]
        hooked = any(type(f).__name__ == "_CapturingFinder" for f in sys.meta_path)
        agent.stop()
        print(json.dumps({"import_ms": (t1 - t0) * 1e3, "listen_ms": (t2 - t1) * 1e3,
                          "listen_cpu_ms": (c2 - c1) * 1e3, "after_import": after_import,
                          "after_listen": after_listen, "again": again, "later": later,
                          "hooked": hooked}))
    """)
    assert report["after_import"] == []
    assert report["after_listen"] == []
    assert report["later"] == ["pygls", "lsprotocol", "cattrs"]
    assert report["again"] is True
    assert report["hooked"] is True
    # Measured ~2.5 ms (wall and CPU) on a 2-core VM. CPU time of the calling thread is what the host pays and does
    # not grow when other processes load the machine, so that is what is bounded.
    assert report["listen_cpu_ms"] < 8, report


def test_stop_leaves_no_thread_socket_or_file(tmp_path):
    sock = tmp_path / "agent.sock"
    report = run_snippet(tmp_path, f"""
        import json, os, socket, threading
        import reload_agent
        agent = reload_agent.listen(["127.0.0.1:0", "unix:{sock}"])
        agent.ready.wait(60)
        port = int(agent.address.rpartition(":")[2])
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
        before = {{"file": os.path.exists(agent.connection_file), "sock": os.path.exists("{sock}"),
                  "mode": oct(os.stat("{sock}").st_mode & 0o777), "file_mode": oct(os.stat(agent.connection_file).st_mode & 0o777)}}
        agent.stop()
        client.settimeout(5)
        eof = client.recv(1) == b""
        probe = socket.socket()
        refused = probe.connect_ex(("127.0.0.1", port)) != 0
        after = {{"file": os.path.exists(agent.connection_file), "sock": os.path.exists("{sock}"),
                 "threads": sorted(t.name for t in threading.enumerate()), "refused": refused, "eof": eof}}
        second = reload_agent.listen()
        new = second is not agent and second.address != agent.address
        second.stop()
        print(json.dumps({{"before": before, "after": after, "new": new}}))
    """)
    assert report["before"] == {"file": True, "sock": True, "mode": "0o600", "file_mode": "0o600"}
    assert report["after"] == {"file": False, "sock": False, "threads": ["MainThread"], "refused": True, "eof": True}
    assert report["new"] is True


def test_exit_without_stop_removes_the_connection_file(tmp_path):
    report = run_snippet(tmp_path, """
        import json, reload_agent
        agent = reload_agent.listen()
        print(json.dumps({"file": agent.connection_file}))
    """)
    assert not Path(report["file"]).exists()


@pytest.mark.parametrize(("apply", "thread"), [("thread", "reload-agent-apply"), ("main", "MainThread")])
def test_apply_modes_run_reloads_where_asked(embedded, clients, apply, thread):
    host = embedded(apply=apply, files={"where.py": WHERE}, imports=["where"])
    client = clients(host.address, host.token)
    response = client.request(METHOD_RELOAD, {"modules": ["where"], "mode": "full"})
    assert "result" in response, response
    assert (host.workdir / "where.txt").read_text() == thread


def test_host_asyncio_loop_runs_undisturbed_and_loop_apply_runs_on_it(embedded, clients):
    host = embedded(apply="loop", files={"where.py": WHERE}, imports=["mod_a", "where"])
    client = clients(host.address, host.token)
    for n in range(5):
        (host.workdir / "mod_a.py").write_text(f"def value():\n    return {n}\n")
        assert "result" in client.request(METHOD_RELOAD, {"modules": ["mod_a"]})
        assert "result" in client.request(METHOD_STATUS)
    assert "result" in client.request(METHOD_RELOAD, {"modules": ["where"], "mode": "full"})
    assert (host.workdir / "where.txt").read_text() == "MainThread"
    (host.workdir / "stop").write_text("")
    assert host.wait(30) == 0
    stats = json.loads((host.workdir / "stats.json").read_text())
    assert stats["errors"] == []
    assert stats["ticks"] > 10
    # The loop kept ticking every ~5 ms; pygls importing on the agent thread may cost it a few GIL slices.
    assert stats["max_gap_ms"] < 500, stats


def test_reloaded_code_raising_system_exit_does_not_take_the_host_down(embedded, clients):
    host = embedded()
    client = clients(host.address, host.token)
    (host.workdir / "mod_a.py").write_text("raise SystemExit(3)\n")
    error = client.request(METHOD_RELOAD, {"modules": ["mod_a"], "mode": "full"})["error"]
    assert error["code"] == ErrorCode.RELOAD_FAILED
    assert error["data"]["exception"]["type"] == "SystemExit"
    assert client.request(METHOD_STATUS)["result"]["pid"] == host.pid
    assert host.proc.poll() is None


@pytest.mark.parametrize(("call", "warning"), [
    ("reload_agent.listen('0.0.0.0:0')", "non-loopback address 0.0.0.0"),
    ("reload_agent.listen(token=False)", "without a token"),
])
def test_risky_settings_warn_on_stderr(tmp_path, call, warning):
    proc = run_python(tmp_path, f"import reload_agent; {call}.stop()")
    assert proc.returncode == 0, proc.stderr
    assert warning in proc.stderr and "code in this process" in proc.stderr


def test_env_listen_and_token_are_honoured(tmp_path):
    env = {"RELOAD_AGENT_LISTEN": f"unix:{tmp_path}/e.sock", "RELOAD_AGENT_TOKEN": "s3"}
    proc = run_python(tmp_path, "import reload_agent; a = reload_agent.listen(); print(a.address, a.token); a.stop()",
                      env)
    assert proc.stdout.split() == [f"unix:{tmp_path}/e.sock", "s3"], proc.stderr




def test_a_socket_file_left_by_a_dead_agent_is_replaced_but_a_live_one_is_not(tmp_path):
    path = tmp_path / "agent.sock"
    report = run_snippet(tmp_path, f"""
        import json, socket, reload_agent
        dead = socket.socket(socket.AF_UNIX)
        dead.bind("{path}")
        dead.close()  # the file stays, nobody listens: what a killed agent leaves behind
        agent = reload_agent.listen("unix:{path}", token=False)
        try:
            from reload_agent.agent import Agent, parse_addresses
            try:
                Agent(parse_addresses("unix:{path}"), None).start()
                second = "started"
            except OSError as exc:
                second = str(exc)
        finally:
            agent.stop()
        print(json.dumps({{"address": agent.address, "second": second}}))
    """)
    assert report["address"] == f"unix:{path}"
    assert "another process is listening" in report["second"]


def test_a_queued_reload_still_runs_when_its_client_disconnects(embedded, clients):
    host = embedded(apply="main", gated=True)
    watcher = clients(host.address, host.token)
    leaver = clients(host.address, host.token)
    (host.workdir / "mod_a.py").write_text("def value():\n    return 2\n")
    leaver.send({"jsonrpc": "2.0", "id": 1, "method": METHOD_RELOAD, "params": {"modules": ["mod_a"]}})
    leaver.close()
    wait_for(lambda: watcher.request(METHOD_STATUS)["result"]["clients"] == 1, what="the agent to see the leaver go")
    (host.workdir / "go").write_text("")  # only now does the host reach a checkpoint
    note = watcher.wait_notification("reloadAgent/didReload")
    assert note["params"]["ok"] is True and note["params"]["modules"][0]["name"] == "mod_a"
