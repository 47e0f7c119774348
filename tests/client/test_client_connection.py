"""The client library against a real agent, plus scripted peers for what an agent rarely does."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from clienthost import App, views_source

from reload_agent_client import (
    AuthError,
    Client,
    ConnectError,
    NothingToRollback,
    ReloadFailed,
    RequestTimeout,
    connect,
)
from reload_agent_client.framing import FrameReader, decode_body, encode_frame


def test_typed_helpers_round_trip(app: App):
    with connect(app.host.address, app.host.token, timeout=10) as client:
        assert client.agent["pid"] == app.host.pid
        assert client.server["serverInfo"]["name"]
        assert [m["name"] for m in client.list_modules("app.v*")] == ["app.views"]
        app.write("app/views.py", views_source("'lib v2'"))
        result = client.reload(["app.views"])
        assert result["modules"][0]["version"] == 1
        assert app.get() == "lib v2"
        assert client.history(limit=1)[0]["id"] == result["transaction"]
        assert client.status()["transactions"] >= 1
        back = client.rollback(transaction=result["transaction"])
        assert back["rolledBack"] == result["transaction"]
        assert app.get() == "hello v1"
        with pytest.raises(NothingToRollback):
            client.rollback()


def test_failed_reload_raises_with_structured_data(app: App):
    app.write("app/views.py", "def message(:\n")
    with connect(app.host.address, app.host.token, json=True) as client:
        with pytest.raises(ReloadFailed) as info:
            client.reload(["app.views"])
    assert info.value.code == -32010
    assert info.value.data["phase"] == "compile" and info.value.data["rolledBack"] is True
    assert info.value.data["exception"]["line"] == 1


def test_notifications_reach_other_clients(app: App):
    with connect(app.host.address, app.host.token) as watcher, connect(app.host.address, app.host.token) as actor:
        watcher.status()  # fully registered before the reload happens
        app.write("app/views.py", views_source("'broadcast'"))
        result = actor.reload(["app.views"])
        note = watcher.wait_for("reloadAgent/didReload", timeout=10)
        assert note["transaction"] == result["transaction"] and note["ok"] is True
        actor.rollback()
        seen = []
        watcher.on_notification(seen.append)
        watcher.status()  # reading the answer also dispatches notifications that came first
        deadline = time.monotonic() + 10
        while not any(n.method == "reloadAgent/didRollback" for n in seen) and time.monotonic() < deadline:
            list(watcher.notifications(timeout=0.2))
        assert any(n.method == "reloadAgent/didRollback" for n in seen)


def test_wrong_token_and_nothing_listening(app: App, tmp_path):
    with pytest.raises(AuthError) as info:
        connect(app.host.address, "wrong")
    assert info.value.code == -32001
    with pytest.raises(ConnectError, match="cannot connect"):
        connect(f"unix:{tmp_path / 'none.sock'}")
    with pytest.raises(ConnectError, match="bad address"):
        connect("no-port-here")


class ScriptedPeer:
    """A one-connection socket server that plays a script against the client."""

    def __init__(self, script) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.server.getsockname()[1]}"
        self.received: list[dict] = []
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(script,), daemon=True)
        self._thread.start()

    def _run(self, script) -> None:
        try:
            conn, _ = self.server.accept()
            conn.settimeout(10)
            reader = FrameReader(conn.recv)

            def receive():
                frame = reader.read_frame()
                message = decode_body(frame)
                self.received.append(message)
                return message

            script(conn, receive)
            conn.close()
        except BaseException as exc:  # reported by the test through .error
            self.error = exc

    def close(self) -> None:
        self.server.close()
        self._thread.join(timeout=10)


@pytest.fixture
def peer_factory() -> Iterator:
    peers = []

    def make(script) -> ScriptedPeer:
        peers.append(ScriptedPeer(script))
        return peers[-1]

    yield make
    for peer in peers:
        peer.close()


def answer_initialize(conn, receive) -> None:
    init = receive()
    conn.sendall(encode_frame({"jsonrpc": "2.0", "id": init["id"], "result": {"capabilities": {}}}, msgpack=True))
    receive()  # initialized


def test_agent_requests_are_refused_and_the_answer_still_arrives(peer_factory):
    def script(conn, receive):
        answer_initialize(conn, receive)
        request = receive()
        conn.sendall(encode_frame({"jsonrpc": "2.0", "id": "srv-1", "method": "window/workDoneProgress/create",
                                   "params": {}}))
        conn.sendall(encode_frame({"jsonrpc": "2.0", "method": "window/logMessage", "params": {"message": "hi"}}))
        refusal = receive()
        assert refusal["id"] == "srv-1" and refusal["error"]["code"] == -32601
        conn.sendall(encode_frame({"jsonrpc": "2.0", "id": request["id"], "result": {"pid": 1}}))

    peer = peer_factory(script)
    with connect(peer.address, "t", timeout=10) as client:
        assert client.status() == {"pid": 1}
        [log] = list(client.notifications(timeout=0.01))
        assert (log.method, log.params) == ("window/logMessage", {"message": "hi"})
    peer.close()
    assert peer.error is None
    assert peer.received[0]["params"]["initializationOptions"] == {"token": "t"}


def test_a_silent_agent_times_out_within_the_deadline(peer_factory):
    release = threading.Event()

    def script(conn, receive):
        answer_initialize(conn, receive)
        receive()
        release.wait(10)

    peer = peer_factory(script)
    with connect(peer.address, None, timeout=10) as client:
        started = time.monotonic()
        with pytest.raises(RequestTimeout):
            client.request("reloadAgent/status", {}, timeout=0.3)
        assert 0.25 < time.monotonic() - started < 3
    release.set()


def test_a_dropped_connection_is_a_connect_error(peer_factory):
    def script(conn, receive):
        answer_initialize(conn, receive)
        receive()

    peer = peer_factory(script)
    client: Client = connect(peer.address, None)
    with pytest.raises(ConnectError, match="closed the connection"):
        client.status()
    client.close()


def test_cli_timeout_is_exit_2_with_kind_timeout(peer_factory, capsys):
    import json

    from reload_agent_client import cli

    release = threading.Event()

    def script(conn, receive):
        answer_initialize(conn, receive)
        receive()
        release.wait(10)

    peer = peer_factory(script)
    started = time.monotonic()
    code = cli.main(["--connect", peer.address, "--token", "t", "--timeout", "0.5", "--json", "status"])
    release.set()
    assert code == 2 and time.monotonic() - started < 5
    assert json.loads(capsys.readouterr().out)["error"]["data"]["kind"] == "timeout"
