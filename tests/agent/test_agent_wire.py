"""The agent's wire against a real host process: auth, framing, encodings, limits, several clients."""

from __future__ import annotations

import socket
import time

import pytest

from reload_agent_client.protocol import (
    CONTENT_TYPE_MSGPACK,
    MAX_HEADER_BYTES,
    METHOD_RELOAD,
    METHOD_STATUS,
    NOTIFY_DID_RELOAD,
    ErrorCode,
)
from tests.support.agents import wait_for
from tests.support.rawclient import frame


def test_requests_before_initialize_are_refused_and_notifications_dropped(embedded, clients):
    host = embedded()
    client = clients(host.address, initialize=False)
    client.notify("initialized", {})
    client.notify(NOTIFY_DID_RELOAD, {})
    response = client.request(METHOD_STATUS)
    assert response["error"]["code"] == ErrorCode.NOT_INITIALIZED
    assert response["id"] == 1
    # Still open, and initialize still works after the refusals.
    assert "result" in client.initialize(host.token)
    assert client.request(METHOD_STATUS)["result"]["pid"] == host.pid


def test_initialize_result_describes_the_host(embedded, clients):
    host = embedded()
    client = clients(host.address, initialize=False)
    result = client.initialize(host.token)["result"]
    assert result["serverInfo"]["name"] == "reload-agent"
    info = result["reloadAgent"]
    assert info["pid"] == host.pid and info["cwd"] == str(host.workdir)
    assert info["argv"][0].endswith("embedded.py") and info["python"] and info["version"]
    assert host.token not in str(result)  # the token is never echoed


@pytest.mark.parametrize("token", ["wrong", None, ""])
def test_wrong_or_missing_token_is_refused_and_the_connection_closed(embedded, clients, token):
    host = embedded()
    client = clients(host.address, initialize=False)
    response = client.initialize(token)
    assert response["error"]["code"] == ErrorCode.UNAUTHORIZED
    client.expect_closed()
    # The agent itself carries on.
    assert clients(host.address, host.token).request(METHOD_STATUS)["result"]["clients"] == 1


def test_token_type_confusion_is_refused(embedded, clients):
    host = embedded()
    client = clients(host.address, initialize=False)
    response = client.request("initialize", {"capabilities": {}, "initializationOptions": {"token": [host.token]}})
    assert response["error"]["code"] == ErrorCode.UNAUTHORIZED
    client.expect_closed()


def test_json_and_msgpack_on_one_connection(embedded, clients):
    host = embedded()
    client = clients(host.address, host.token)
    before = len(client.encodings)
    as_msgpack = client.request(METHOD_STATUS, use_msgpack=True)
    as_json = client.request(METHOD_STATUS)
    again = client.request(METHOD_STATUS, use_msgpack=True)
    assert client.encodings[before:] == [True, False, True]
    assert as_msgpack["result"]["pid"] == as_json["result"]["pid"] == again["result"]["pid"] == host.pid


def test_msgpack_client_gets_notifications_in_msgpack(embedded, clients):
    host = embedded()
    client = clients(host.address, host.token)
    response = client.request(METHOD_RELOAD, {"modules": ["mod_a"]}, use_msgpack=True)
    assert response["result"]["modules"][0]["name"] == "mod_a"
    note = client.wait_notification(NOTIFY_DID_RELOAD)
    assert note["params"]["ok"] is True
    assert client.encodings[-2:] == [True, True]  # the reply and the notification, in whichever order


def test_oversized_message_closes_only_that_connection(embedded, clients):
    host = embedded(max_message_bytes=4096)
    bystander = clients(host.address, host.token)
    client = clients(host.address, host.token)
    client.send({"jsonrpc": "2.0", "id": 9, "method": METHOD_STATUS, "params": {"pad": "x" * 5000}})
    error = client.read_message()
    assert error["id"] is None and error["error"]["code"] == ErrorCode.INVALID_REQUEST
    assert "4096" in error["error"]["message"]
    client.expect_closed()
    assert bystander.request(METHOD_STATUS)["result"]["clients"] == 1
    # Just under the limit is fine.
    small = clients(host.address, host.token)
    assert "result" in small.request(METHOD_STATUS, {"pad": "x" * 3000})


def test_before_initialize_only_small_messages_are_read(embedded, clients):
    host = embedded()
    stranger = clients(host.address, initialize=False)
    stranger.send_bytes(b"Content-Length: %d\r\n\r\n" % (1024 * 1024))
    error = stranger.read_message()
    assert error["error"]["code"] == ErrorCode.INVALID_REQUEST and "262144" in error["error"]["message"]
    stranger.expect_closed()


def test_a_client_that_sends_without_reading_is_held_back_not_buffered(embedded, clients):
    host = embedded()
    flooder = clients(host.address, host.token)
    flooder.sock.settimeout(2)
    burst = frame({"jsonrpc": "2.0", "id": 1, "method": "reloadAgent/listModules", "params": {}}) * 200
    sent = 0
    with pytest.raises(TimeoutError):  # the agent stops reading: sendall blocks once the socket buffers fill
        for _ in range(500):
            flooder.sock.sendall(burst)
            sent += 200
    assert sent < 100_000
    assert clients(host.address, host.token).request(METHOD_STATUS)["result"]["pid"] == host.pid


BAD_FRAMES = {
    "bad json": (b"Content-Length: 5\r\n\r\n{nope", ErrorCode.PARSE_ERROR, False),
    "bad msgpack": (b"Content-Length: 1\r\nContent-Type: " + CONTENT_TYPE_MSGPACK.encode() + b"\r\n\r\n\xc1",
                    ErrorCode.PARSE_ERROR, False),
    "array body": (frame([1, 2]), ErrorCode.INVALID_REQUEST, False),
    "no jsonrpc": (frame({"id": 3, "method": METHOD_STATUS}), ErrorCode.INVALID_REQUEST, False),
    "object id": (frame({"jsonrpc": "2.0", "id": {}, "method": METHOD_STATUS}), ErrorCode.INVALID_REQUEST, False),
    "notification sent as request": (
        frame({"jsonrpc": "2.0", "id": 4, "method": "textDocument/didSave", "params": {"textDocument": {"uri": "x"}}}),
        ErrorCode.INVALID_REQUEST, False),
    "bad lsp params": (frame({"jsonrpc": "2.0", "id": 5, "method": "workspace/executeCommand", "params": {"x": 1}}),
                       ErrorCode.INVALID_PARAMS, False),
    "missing length": (b"Content-Type: x\r\n\r\n{}", ErrorCode.INVALID_REQUEST, True),
    "bad length": (b"Content-Length: -4\r\n\r\n{}", ErrorCode.INVALID_REQUEST, True),
    "not a header": (b"garbage\r\n\r\n", ErrorCode.INVALID_REQUEST, True),
    "endless headers": (b"X-Pad: " + b"a" * (MAX_HEADER_BYTES + 10), ErrorCode.INVALID_REQUEST, True),
}


@pytest.mark.parametrize("name", sorted(BAD_FRAMES))
def test_malformed_frames_affect_only_their_connection(embedded, clients, name):
    data, code, closes = BAD_FRAMES[name]
    host = embedded()
    bystander = clients(host.address, host.token)
    client = clients(host.address, host.token)
    client.send_bytes(data)
    error = client.read_message()
    assert error["error"]["code"] == code
    if closes:
        client.expect_closed()
    else:
        assert client.request(METHOD_STATUS)["result"]["pid"] == host.pid
    assert bystander.request(METHOD_STATUS)["result"]["pid"] == host.pid


def test_a_lone_surrogate_id_is_answered_with_the_same_id(embedded, clients):
    host = embedded()
    client = clients(host.address, host.token)
    body = b'{"jsonrpc":"2.0","id":"\\ud800x","method":"%s"}' % METHOD_STATUS.encode()
    client.send_bytes(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    assert client.wait_response("\ud800x")["result"]["pid"] == host.pid


def test_unknown_method_and_bad_params(embedded, clients):
    host = embedded()
    client = clients(host.address, host.token)
    assert client.request("reloadAgent/nope")["error"]["code"] == ErrorCode.METHOD_NOT_FOUND
    assert client.request(METHOD_RELOAD, {"modules": "mod_a"})["error"]["code"] == ErrorCode.INVALID_PARAMS
    assert client.request(METHOD_RELOAD, {"modules": ["mod_a"], "mode": "sideways"})["error"]["code"] == \
        ErrorCode.INVALID_PARAMS
    assert client.request(METHOD_RELOAD, [1])["error"]["code"] == ErrorCode.INVALID_PARAMS


def test_three_clients_two_tcp_one_unix_each_get_replies_and_all_get_broadcasts(embedded, clients):
    host = embedded(listen=["127.0.0.1:0", "unix:{workdir}/agent.sock"])
    unix_address = f"unix:{host.workdir}/agent.sock"
    a = clients(host.address, host.token)
    b = clients(host.address, host.token)
    c = clients(unix_address, host.token)
    assert a.request(METHOD_STATUS)["result"]["clients"] == 3
    (host.workdir / "mod_a.py").write_text("def value():\n    return 2\n")
    result = b.request(METHOD_RELOAD, {"modules": ["mod_a"]})["result"]
    assert [m["name"] for m in result["modules"]] == ["mod_a"]
    for client in (a, b, c):
        note = client.wait_notification(NOTIFY_DID_RELOAD)
        assert note["params"]["transaction"] == result["transaction"]
        assert note["params"]["ok"] is True
    # Interleaved requests on the three connections each get their own answer.
    for client in (c, a, b):
        client.send({"jsonrpc": "2.0", "id": 77, "method": METHOD_STATUS})
    for client in (a, b, c):
        assert client.wait_response(77)["result"]["pid"] == host.pid


def test_reply_after_a_notification_is_not_held_back(embedded, clients):
    """The agent's sockets have Nagle off: a didReload then the reply must not wait for the client's delayed ACK."""
    host = embedded()
    client = clients(host.address, host.token)
    client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)  # a plain client, as editors have
    times = []
    for _ in range(15):
        started = time.perf_counter()
        assert "result" in client.request(METHOD_RELOAD, {"modules": ["mod_a"]})
        times.append(time.perf_counter() - started)
    median = sorted(times)[len(times) // 2]
    assert median < 0.025, f"median reload round trip {median * 1000:.1f} ms (a ~40 ms delayed-ACK stall?)"


def test_failed_reload_is_broadcast_and_answered_with_error_data(embedded, clients):
    host = embedded()
    a = clients(host.address, host.token)
    b = clients(host.address, host.token)
    (host.workdir / "mod_a.py").write_text("def value():\n    return 2\nraise ValueError('boom')\n")
    error = a.request(METHOD_RELOAD, {"modules": ["mod_a"], "mode": "full"})["error"]
    assert error["code"] == ErrorCode.RELOAD_FAILED
    assert error["data"]["rolledBack"] is True
    assert error["data"]["exception"]["type"] == "ValueError"
    assert error["data"]["exception"]["line"] == 3
    note = b.wait_notification(NOTIFY_DID_RELOAD)
    assert note["params"]["ok"] is False


def test_shutdown_and_exit_end_only_that_connection(embedded, clients):
    host = embedded()
    other = clients(host.address, host.token)
    client = clients(host.address, host.token)
    assert client.request("shutdown") == {"jsonrpc": "2.0", "id": 2, "result": None}
    assert client.request(METHOD_STATUS)["error"]["code"] == ErrorCode.INVALID_REQUEST  # refused, not ignored
    client.notify("exit")
    client.expect_closed()
    assert host.proc.poll() is None
    assert other.request(METHOD_STATUS)["result"]["clients"] == 1


SLOW = """\
import pathlib, time
pathlib.Path("slow-started").write_text("")
time.sleep({delay})

def value():
    return {value}
"""


def test_a_slow_reload_does_not_stall_other_connections(embedded, clients):
    host = embedded(files={"slow.py": SLOW.format(delay=0, value=1)}, imports=["mod_a", "slow"])
    a = clients(host.address, host.token)
    b = clients(host.address, host.token)
    (host.workdir / "slow.py").write_text(SLOW.format(delay=1.5, value=2))
    (host.workdir / "slow-started").unlink()
    started = time.monotonic()
    a.send({"jsonrpc": "2.0", "id": 50, "method": METHOD_RELOAD, "params": {"modules": ["slow"], "mode": "full"}})
    wait_for(lambda: (host.workdir / "slow-started").exists(), what="the slow reload to start")
    t0 = time.monotonic()
    assert b.request(METHOD_STATUS)["result"]["pid"] == host.pid
    assert b.request("reloadAgent/listModules", {"pattern": "mod_*"})["result"]["modules"]
    quick = time.monotonic() - t0
    assert a.wait_response(50)["result"]["modules"][0]["name"] == "slow"
    assert time.monotonic() - started >= 1.5
    assert quick < 0.5, f"status took {quick:.3f}s while a reload was running"


def test_no_token_unix_agent_accepts_any_initialize_but_not_pushed_sources(embedded, clients):
    host = embedded(listen="unix:{workdir}/a.sock", token=False)
    assert host.token is None
    client = clients(host.address, None)
    pushed = client.request(METHOD_RELOAD, {"modules": ["mod_a"], "sources": {"mod_a": "def value():\n    return 9\n"}})
    assert pushed["error"]["code"] == ErrorCode.UNAUTHORIZED
    assert "result" in client.request(METHOD_RELOAD, {"modules": ["mod_a"]})  # code on disk is fine


def test_pushed_sources_are_reloaded_with_a_token(embedded, clients):
    host = embedded()
    client = clients(host.address, host.token)
    result = client.request(METHOD_RELOAD, {"modules": ["mod_a"], "sources": {"mod_a": "def value():\n    return 9\n"}})
    assert result["result"]["modules"][0]["patched"]["functions"] == ["value"]


def test_a_cancelled_reload_is_answered_as_cancelled_and_still_runs(embedded, clients):
    host = embedded(files={"slow.py": SLOW.format(delay=0, value=1)}, imports=["mod_a", "slow"])
    client = clients(host.address, host.token)
    (host.workdir / "slow.py").write_text(SLOW.format(delay=0.5, value=2))
    (host.workdir / "slow-started").unlink()
    client.send({"jsonrpc": "2.0", "id": "r", "method": METHOD_RELOAD, "params": {"modules": ["slow"], "mode": "full"}})
    wait_for(lambda: (host.workdir / "slow-started").exists(), what="the slow reload to start")
    client.notify("$/cancelRequest", {"id": "r"})
    assert client.wait_response("r")["error"]["code"] == -32800  # LSP's RequestCancelled
    # Once accepted, a reload is not torn in half: it finishes and is broadcast.
    assert client.wait_notification(NOTIFY_DID_RELOAD)["params"]["ok"] is True
    assert client.request(METHOD_STATUS)["result"]["pid"] == host.pid


def test_an_agent_request_sent_as_a_notification_runs_unanswered(embedded, clients):
    host = embedded()
    client = clients(host.address, host.token)
    (host.workdir / "mod_a.py").write_text("def value():\n    return 2\n")
    client.notify(METHOD_RELOAD, {"modules": ["mod_a"]})
    assert client.wait_notification(NOTIFY_DID_RELOAD)["params"]["ok"] is True
    client.send({"jsonrpc": "2.0", "id": "after", "method": METHOD_STATUS})
    answer = client.read_message()
    while "method" in answer:  # notifications may come first; the first answer must be the status one
        answer = client.read_message()
    assert answer["id"] == "after"
