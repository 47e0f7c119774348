"""Who gets in: tokens, the pre-initialize gate, replayed connection files, TCP without a token, permissions."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from reload_agent_client import discovery, protocol
from tests.support.agents import AgentHost, spawn_host
from tests.support.rawclient import RawClient

from .kit import Probe, call, launch_host, session


def refused(address: str, params: dict) -> None:
    """``initialize`` with ``params`` gets -32001 and the connection is closed."""
    with RawClient(address) as client:
        reply = client.request(protocol.METHOD_INITIALIZE, {"capabilities": {}, **params})
        assert reply.get("error", {}).get("code") == protocol.ErrorCode.UNAUTHORIZED, reply
        client.expect_closed(timeout=5)


@pytest.fixture
def idle(tmp_path: Path):
    with launch_host(tmp_path, "idle.py") as host:
        yield host


def test_missing_or_wrong_tokens_are_refused_and_the_connection_closed(idle: AgentHost) -> None:
    token = idle.token
    assert token and len(token) >= 32
    near_miss = token[:-1] + ("A" if token[-1] != "A" else "B")
    for params in [
        {},
        {"initializationOptions": {}},
        {"initializationOptions": None},
        {"initializationOptions": {"token": None}},
        {"initializationOptions": {"token": ""}},
        {"initializationOptions": {"token": near_miss}},
        {"initializationOptions": {"token": token[:-1]}},
        {"initializationOptions": {"token": token + "x"}},
        {"initializationOptions": {"token": token.upper() if token.upper() != token else token.lower()}},
        {"initializationOptions": {"token": [token]}},
        {"initializationOptions": {"token": {"token": token}}},
        {"initializationOptions": {"token": 0}},
        {"initializationOptions": {"token": "x" * 100_000}},
        {"initializationOptions": token},
        {"token": token},  # right secret, wrong place
    ]:
        refused(idle.address, params)
    with RawClient(idle.address) as client:  # the right one still works, and is never echoed back
        answers = [client.initialize(token)]
        answers += [client.request(m, {}) for m in (
            protocol.METHOD_STATUS, protocol.METHOD_LIST_MODULES, protocol.METHOD_HISTORY)]
        assert answers[1]["result"]["pid"] == idle.pid
        assert all("result" in a for a in answers), answers
        assert token not in json.dumps(answers)


def test_nothing_but_initialize_gets_through_before_it(tmp_path: Path) -> None:
    """Requests get -32002 (the connection stays usable); notifications, didSave included, are dropped;
    a token presented anywhere but ``initialize`` opens nothing; the real ``initialize`` then works."""
    app = tmp_path / "app"
    app.mkdir()
    module = app / "au_mod.py"
    module.write_text('def probe():\n    return "v0"\n')
    with launch_host(tmp_path, "fault_host.py", [str(app), "au_mod"]) as host:
        probe = Probe(app)
        module.write_text('def probe():\n    return "v1"\n')
        with RawClient(host.address) as client:
            for method, params in [
                (protocol.METHOD_STATUS, {}),
                (protocol.METHOD_STATUS, {"token": host.token}),
                (protocol.METHOD_LIST_MODULES, {"initializationOptions": {"token": host.token}}),
                (protocol.METHOD_RELOAD, {"modules": ["au_mod"], "token": host.token}),
                (protocol.METHOD_RELOAD, {"modules": ["au_mod"], "sources": {"au_mod": "import os; os._exit(9)"}}),
                ("workspace/executeCommand", {"command": protocol.COMMAND_RELOAD, "arguments": ["au_mod"]}),
                (protocol.METHOD_SHUTDOWN, None),
            ]:
                reply = client.request(method, params)
                assert reply.get("error", {}).get("code") == protocol.ErrorCode.NOT_INITIALIZED, (method, reply)
            client.notify("textDocument/didSave", {"textDocument": {"uri": module.as_uri()}})
            client.notify(protocol.METHOD_EXIT)
            # The gate never passed: the notifications above did nothing, the host runs v0.
            assert probe.get("snapshot", mods="au_mod")["modules"]["au_mod"]["behaviour"] == repr("v0")
            assert "result" in client.initialize(host.token)
            status = call(client, protocol.METHOD_STATUS)
            assert status["transactions"] == 0, "a notification sent before initialize started a reload"
            assert not [n for n in client.notifications if n.get("method") == protocol.NOTIFY_DID_RELOAD]
        assert host.proc.poll() is None


def test_a_dead_agents_connection_file_opens_nothing(tmp_path: Path) -> None:
    """A killed agent leaves its file behind; its token must not open the next agent, and
    discovery must ignore (and remove) it."""
    with launch_host(tmp_path, "idle.py") as first:
        stale_file = first.connection_file
        stale = json.loads(stale_file.read_text())
        first.proc.send_signal(signal.SIGKILL)  # no atexit: the file stays, as after a crash
        first.proc.wait(10)
    assert stale_file.exists()
    with launch_host(tmp_path, "idle.py") as second:
        assert second.token != stale["token"]
        refused(second.address, {"initializationOptions": {"token": stale["token"]}})
        if stale["address"] != second.address:
            with pytest.raises(OSError):
                RawClient(stale["address"], timeout=2).close()
        live = discovery.live_agents(second.runtime_dir)
        assert [a.pid for a in live] == [second.pid]
        assert not stale_file.exists(), "discovery kept the dead agent's file"


def test_tcp_always_has_a_token_unless_explicitly_disabled(tmp_path: Path) -> None:
    # An empty RELOAD_AGENT_TOKEN is not an opt-out.
    with launch_host(tmp_path / "a", "idle.py", env={protocol.ENV_TOKEN: ""}) as host:
        assert host.token, "an empty RELOAD_AGENT_TOKEN turned authentication off"
        refused(host.address, {})
    # Only the explicit flag turns it off on TCP, and the agent says so on stderr.
    (tmp_path / "b").mkdir()
    with launch_host(tmp_path / "b", "idle.py", options=["--listen", "127.0.0.1:0", "--no-token"]) as host:
        assert host.token is None
        with session(host.address, None) as client:
            assert call(client, protocol.METHOD_STATUS)["pid"] == host.pid
        assert "token" in host.stderr().lower(), host.stderr()


def test_a_non_loopback_bind_warns_and_still_wants_the_token(tmp_path: Path) -> None:
    with launch_host(tmp_path, "idle.py", options=["--listen", "0.0.0.0:0"]) as host:
        assert host.token
        assert "non-loopback" in host.stderr(), host.stderr()  # --quiet silences the banner, not this
        refused(f"127.0.0.1:{host.address.rpartition(':')[2]}", {})


def test_files_and_sockets_are_private_even_under_a_permissive_umask(tmp_path: Path) -> None:
    """Runtime dir 0700, connection file 0600, Unix socket 0600, with the host started under umask 000."""
    public = Path(tempfile.mkdtemp(prefix="reload-agent-perm-"))
    try:
        os.chmod(public, 0o755)  # world-traversable, so only the socket's own mode protects it
        sock_path = public / "agent.sock"
        argv = ["/bin/sh", "-c", 'umask 000 && exec "$0" "$@"', sys.executable, "-m", "reload_agent", "--quiet",
                "--listen", f"unix:{sock_path}", str(Path(__file__).parent / "hosts" / "idle.py")]
        with spawn_host(argv, tmp_path) as host:
            assert stat.S_IMODE(host.runtime_dir.stat().st_mode) == 0o700
            assert stat.S_IMODE(host.connection_file.stat().st_mode) == 0o600
            assert stat.S_ISSOCK(sock_path.stat().st_mode)
            assert stat.S_IMODE(sock_path.stat().st_mode) == 0o600
            assert host.token, "a Unix socket agent still has a token by default"
            plain_python = shutil.which("python3", path="/usr/bin:/bin")
            if os.geteuid() == 0 and plain_python:
                # Root ignores modes, so try as an unprivileged user (with a system Python it may
                # execute): the socket and the connection file must both be refused by the kernel.
                probe = ("import socket, sys\n"
                         "s = socket.socket(socket.AF_UNIX)\n"
                         "try:\n    s.connect(sys.argv[1]); print('connected')\n"
                         "except PermissionError: print('refused')\n"
                         "try:\n    open(sys.argv[2]).read(); print('read')\n"
                         "except PermissionError: print('refused')\n")
                out = subprocess.run([plain_python, "-c", probe, str(sock_path), str(host.connection_file)],
                                     capture_output=True, text=True, timeout=30,
                                     preexec_fn=lambda: (os.setgid(65534), os.setuid(65534)))
                assert out.stdout.split() == ["refused", "refused"], (out.stdout, out.stderr)
    finally:
        for leftover in public.iterdir():
            leftover.unlink()
        public.rmdir()


def test_sources_need_a_token_even_when_the_socket_does_not(tmp_path: Path) -> None:
    """``sources`` runs code the client sends: an agent started with --no-token (a Unix socket
    protected by file modes) must still refuse it, as docs/security.md promises."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "au_src.py").write_text('def probe():\n    return "v0"\n')
    sock_path = tmp_path / "s" / "agent.sock"
    with launch_host(tmp_path, "fault_host.py", [str(app), "au_src"],
                     options=["--listen", f"unix:{sock_path}", "--no-token"]) as host:
        probe = Probe(app)
        with session(host.address, None) as client:
            reply = client.request(protocol.METHOD_RELOAD, {
                "modules": ["au_src"], "sources": {"au_src": 'def probe():\n    return "pushed"\n'}})
            assert "error" in reply, reply
        assert probe.get("snapshot", mods="au_src")["modules"]["au_src"]["behaviour"] == repr("v0")


