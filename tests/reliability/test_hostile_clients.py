"""Slow and hostile clients: stalled frames, floods that are never read, clients that vanish mid-reload.

Each test watches the host from the outside (``/proc``) and from a second, well
behaved client that must keep getting prompt answers.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reload_agent_client import protocol
from tests.support.agents import AgentHost, wait_for
from tests.support.rawclient import RawClient, frame

from .kit import Probe, assert_no_thread_leak, call, launch_host, proc_fds, proc_rss_kb, session

#: What "prompt" means for the well-behaved client while another one misbehaves.
PROMPT_S = 5.0
#: RSS growth allowed for one misbehaving client: the agent's 64 MiB write-buffer cap plus headroom.
LIMIT_MB = 128


@pytest.fixture
def host(tmp_path: Path) -> Iterator[AgentHost]:
    app = tmp_path / "app"
    app.mkdir()
    (app / "hc_mod.py").write_text('def probe():\n    return "v0"\n')
    with launch_host(tmp_path, "fault_host.py", [str(app), "hc_mod"]) as started:
        with session(started.address, started.token) as warm:  # first-use threads and imports
            call(warm, protocol.METHOD_RELOAD, {"modules": ["hc_mod"], "dryRun": True})
            call(warm, protocol.METHOD_LIST_MODULES)
        yield started


def prompt_answer(host: AgentHost) -> None:
    """A fresh client connects, authenticates, and gets status and a module list within PROMPT_S."""
    started = time.monotonic()
    with session(host.address, host.token, timeout=PROMPT_S) as client:
        assert call(client, protocol.METHOD_STATUS)["pid"] == host.pid
        assert call(client, protocol.METHOD_LIST_MODULES, {"pattern": "hc_*"})["modules"]
    assert time.monotonic() - started < PROMPT_S


STALLS = [
    b"",                                            # connected, silent
    b"Content-Len",                                 # half a header line
    b"Content-Length: 120\r\n",                     # header block never ends
    b"Content-Length: 120\r\n\r\n",                 # body never starts
    b'Content-Length: 120\r\n\r\n{"jsonrpc": "2.0", "id": 1, "meth',  # body half sent
    b"Content-Length: 16000000\r\n\r\n" + b" " * 65536,                # a huge body, trickling
]


def test_stalled_clients_do_not_block_others(host: AgentHost, tmp_path: Path) -> None:
    probe = Probe(tmp_path / "app")
    baseline_threads = probe.get("snapshot")["threads"]
    fds_before = proc_fds(host.pid)
    stalled: list[RawClient] = []
    try:
        for data in STALLS * 10:
            client = RawClient(host.address)
            client.send_bytes(data)
            stalled.append(client)
        for data in STALLS:  # the same after authenticating
            client = RawClient(host.address)
            assert "result" in client.initialize(host.token)
            client.send_bytes(data)
            stalled.append(client)
        prompt_answer(host)
        with session(host.address, host.token, timeout=PROMPT_S) as client:
            reply = call(client, protocol.METHOD_RELOAD, {"modules": ["hc_mod"], "sources": {
                "hc_mod": 'def probe():\n    return "v1"\n'}})
            assert reply["modules"][0]["version"] == 1
    finally:
        for client in stalled:
            client.close()
    wait_for(lambda: proc_fds(host.pid) <= fds_before, 10, what="the stalled connections' fds to be released")
    assert_no_thread_leak(probe, baseline_threads)
    assert probe.get("snapshot", mods="hc_mod")["modules"]["hc_mod"]["behaviour"] == repr("v1")


def flood_without_reading(host: AgentHost, requests: int, method: str) -> tuple[RawClient, int, str]:
    """Send ``requests`` copies of one request and never read a reply.

    Returns the still-open client (the caller closes it: a client that stays connected but
    never reads is the point), how many requests went out, and how the sending ended."""
    client = RawClient(host.address)
    assert "result" in client.initialize(host.token)
    client.sock.settimeout(PROMPT_S)
    data = frame({"jsonrpc": "2.0", "id": 1, "method": method, "params": {}}) * 100
    sent, ended = 0, "all sent"
    try:
        while sent < requests:
            client.sock.sendall(data)
            sent += 100
    except socket.timeout:
        ended = "the agent stopped reading (back-pressure)"
    except OSError as exc:
        ended = f"the agent closed the connection ({exc.strerror})"
    return client, sent, ended


class RssPeak:
    """Samples a process's RSS every 10 ms on a thread, keeping the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.base = self.peak = proc_rss_kb(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            try:
                self.peak = max(self.peak, proc_rss_kb(self.pid))
            except (OSError, RuntimeError):
                return  # the process is gone: the test will say so

    def growth_mb(self) -> float:
        self._stop.set()
        self._thread.join(5)
        return (self.peak - self.base) / 1024


def test_a_client_that_never_reads_cannot_grow_memory_without_bound(host: AgentHost) -> None:
    """40,000 module listings (~45 KB each) requested and never read: the agent must stop reading,
    cut the client off, or drop work, but not hold gigabytes for it."""
    rss = RssPeak(host.pid)
    flood, sent, ended = flood_without_reading(host, 40_000, protocol.METHOD_LIST_MODULES)
    try:
        # Until the agent has worked through what it accepted (a status request queued behind the
        # flood gets its answer), the peak must stay under the bound; over it, fail at once.
        with RawClient(host.address) as client:
            # No waiting for initialize's answer: behind the flood, it may take a while.
            client.send({"jsonrpc": "2.0", "id": "init", "method": protocol.METHOD_INITIALIZE, "params": {
                "capabilities": {}, "initializationOptions": {"token": host.token}}})
            client.send({"jsonrpc": "2.0", "id": "after-flood", "method": protocol.METHOD_STATUS})
            deadline = time.monotonic() + 180
            while True:
                assert rss.peak - rss.base < LIMIT_MB * 1024, (
                    f"RSS grew by more than {LIMIT_MB} MB after {sent} unread requests ({ended})")
                try:
                    client.wait_response("after-flood", timeout=0.1)
                    break
                except TimeoutError:
                    assert time.monotonic() < deadline, "the agent never got through the flood"
        growth = rss.growth_mb()
    finally:
        flood.close()
    assert host.proc.poll() is None, host.stderr()
    assert growth < LIMIT_MB, f"RSS grew by {growth:.0f} MB after {sent} unread requests ({ended})"


def test_a_flooding_client_does_not_starve_the_others(host: AgentHost) -> None:
    flood, _, _ = flood_without_reading(host, 5_000, protocol.METHOD_LIST_MODULES)
    try:
        prompt_answer(host)
    finally:
        flood.close()


def test_a_client_that_vanishes_mid_reload(host: AgentHost, tmp_path: Path) -> None:
    """The reload completes, every other client hears about it, the agent carries on."""
    marker, release = tmp_path / "started", tmp_path / "release"
    source = (f'import os, time\nopen({str(marker)!r}, "w").close()\n'
              f"_end = time.monotonic() + 30\n"
              f"while not os.path.exists({str(release)!r}) and time.monotonic() < _end:\n    time.sleep(0.005)\n"
              'def probe():\n    return "v2"\n')
    with session(host.address, host.token) as watcher:
        leaver = RawClient(host.address)
        assert "result" in leaver.initialize(host.token)
        leaver.send({"jsonrpc": "2.0", "id": 9, "method": protocol.METHOD_RELOAD,
                     "params": {"modules": ["hc_mod"], "sources": {"hc_mod": source}}})
        wait_for(marker.exists, 20, what="the reload to start")
        # Gone with a reset, not a polite close: SO_LINGER 0.
        leaver.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        leaver.close()
        release.touch()
        note = watcher.wait_notification(protocol.NOTIFY_DID_RELOAD, timeout=30)
        assert note["params"]["ok"] is True, note
        listed = call(watcher, protocol.METHOD_LIST_MODULES, {"pattern": "hc_mod"})["modules"]
        assert listed[0]["version"] == 1
    prompt_answer(host)


def test_unauthenticated_clients_cannot_make_the_agent_hold_big_bodies(host: AgentHost) -> None:
    """Before ``initialize`` a peer may be anyone on the machine (TCP): it must not be able to
    park up to 16 MiB per connection in the host's memory by announcing a big body and
    sending all but its last byte. ``initialize`` is a few hundred bytes."""
    body_len = protocol.DEFAULT_MAX_MESSAGE_BYTES - 1024
    chunk = b" " * (1024 * 1024)
    rss = RssPeak(host.pid)
    clients = []
    try:
        for _ in range(8):
            client = RawClient(host.address)
            clients.append(client)
            client.sock.settimeout(PROMPT_S)
            try:
                client.send_bytes(b"Content-Length: %d\r\n\r\n" % body_len)
                for _ in range(body_len // len(chunk)):
                    client.send_bytes(chunk)
            except OSError:
                continue  # refused or cut off early: exactly what should happen
        prompt_answer(host)
        growth = rss.growth_mb()
    finally:
        for client in clients:
            client.close()
    assert growth < LIMIT_MB / 2, f"8 unauthenticated half-sent bodies held {growth:.0f} MB of the host's memory"
