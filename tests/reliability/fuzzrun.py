"""Drive one fuzz case at a time against a live agent and check its obligations.

Shared by ``test_fuzz_protocol.py`` (a short, derandomized hypothesis run in
``make test``) and ``fuzz_long.py`` (``make fuzz``). A :class:`FuzzTarget` owns
a host process with a sacrificial module, a monitor connection that must keep
answering after every case, and the host's resource readings at the start.

Per case: open a connection (authenticated or not), send the bytes; if they hold
a well-framed request, its answer must arrive (matching id); if the framing is
intact, a follow-up request must be answered unless the agent closed the
connection; then the monitor must answer ``status``. Hangs surface as
``TimeoutError``, a dead agent as ``Closed`` / ``ConnectionError``.
"""

from __future__ import annotations

import collections
import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reload_agent_client import protocol
from tests.support.agents import AgentHost, wait_for
from tests.support.rawclient import Closed, RawClient

from .frames import TARGET_MODULE, Case
from .kit import Probe, assert_no_thread_leak, launch_host, proc_fds, proc_rss_kb, proc_threads, session

__all__ = ["FuzzTarget", "fuzz_target"]

ROOT = Path(__file__).resolve().parents[2]
#: Frame kinds whose framing is intact, so the agent stays in step and must answer a follow-up.
_IN_STEP = {"json", "msgpack", "bad-body", "bad-msgpack-utf8"}
#: A conforming agent answers in milliseconds; this only bounds how long a hang takes to show.
_ANSWER_TIMEOUT = 5.0


class FuzzTarget:
    """A fuzzed agent plus the evidence needed to judge it."""

    def __init__(self, host: AgentHost, app: Path) -> None:
        self.host = host
        self.probe = Probe(app)
        self.monitor = session(host.address, host.token, timeout=_ANSWER_TIMEOUT)
        self.sent = collections.Counter[str]()
        self.answered = 0
        # Settle the lazily created pieces (the apply thread, worker threads, imports) before
        # taking the baseline: they appear once, on first use, and are not leaks.
        for method, params in [(protocol.METHOD_RELOAD, {"modules": [TARGET_MODULE], "dryRun": True}),
                               (protocol.METHOD_RELOAD, {"modules": [TARGET_MODULE], "sources": {
                                   TARGET_MODULE: "def probe(:\n"}}),
                               (protocol.METHOD_LIST_MODULES, {}), (protocol.METHOD_HISTORY, {})]:
            self.monitor.request(method, params)
        for _ in range(3):
            self.run(Case(b"", None, "warm-up"), authenticate=True)
        self.sent.clear()
        self.baseline = self.resources()
        self.baseline_threads = self.probe.get("snapshot")["threads"]

    def resources(self) -> dict[str, int]:
        pid = self.host.pid
        return {"fds": proc_fds(pid), "threads": proc_threads(pid), "rssKb": proc_rss_kb(pid)}

    def run(self, case: Case, *, authenticate: bool) -> None:
        """:meth:`exercise` then :meth:`check_alive`."""
        self.exercise(case, authenticate=authenticate)
        self.check_alive()

    def exercise(self, case: Case, *, authenticate: bool) -> None:
        """Send ``case`` on a fresh connection and check what the agent owes for it."""
        client = RawClient(self.host.address, timeout=_ANSWER_TIMEOUT)
        try:
            if authenticate:
                assert "result" in client.initialize(self.host.token)
            client.send_bytes(case.data)
            self.sent[case.kind] += 1
            if case.expects_answer:
                try:
                    reply = client.wait_response(case.answer_id)
                except Closed as exc:
                    raise AssertionError(f"closed without answering request id {case.answer_id!r}") from exc
                assert ("result" in reply) != ("error" in reply), reply
                self.answered += 1
            if case.kind in _IN_STEP:
                try:
                    reply = client.request(protocol.METHOD_STATUS, {})
                    assert "result" in reply or "error" in reply, reply
                except Closed:
                    pass  # allowed: the case may have ended the connection (exit, failed auth)
                except TimeoutError as exc:
                    raise AssertionError("a follow-up request after the case got no answer") from exc
        finally:
            client.close()

    def check_alive(self) -> None:
        """The long-lived monitor connection still gets answers: the agent neither died nor hung."""
        status = self.monitor.request(protocol.METHOD_STATUS, {})
        assert status.get("result", {}).get("pid") == self.host.pid, status

    def check_health(self, *, rss_growth_kb: int) -> dict[str, Any]:
        """After a run: host alive, nothing leaked, memory bounded. Returns the readings."""
        assert self.host.proc.poll() is None, self.host.stderr()
        base = self.baseline
        # Connections close asynchronously on the agent side: wait for the count to come back.
        wait_for(lambda: proc_fds(self.host.pid) <= base["fds"], 15, what="file descriptors back to baseline")
        assert_no_thread_leak(self.probe, self.baseline_threads)
        now = self.resources()
        assert now["rssKb"] - base["rssKb"] < rss_growth_kb, (base, now)
        errors = self.probe.get("snapshot", mods=TARGET_MODULE)["errors"]
        assert errors == [], errors
        return {"baseline": base, "after": now}

    def close(self) -> None:
        self.monitor.close()


@contextlib.contextmanager
def fuzz_target(workdir: Path) -> Iterator[FuzzTarget]:
    """A host importing the sacrificial module, ready to be fuzzed.

    The host runs a private copy of the agent's packages: fuzzed ``stale: true`` reloads
    must not pick up edits made to the working tree while a long run goes on (that
    hazard has its own test, ``test_faults.test_the_agent_never_reloads_its_own_code``).
    """
    app = workdir / "app"
    app.mkdir(parents=True, exist_ok=True)
    (app / f"{TARGET_MODULE}.py").write_text('def probe():\n    return "v0"\n')
    site = workdir / "site"
    for package in ("reload_agent", "client/reload_agent_client"):
        shutil.copytree(ROOT / package, site / Path(package).name, ignore=shutil.ignore_patterns("__pycache__"))
    with launch_host(workdir, "fault_host.py", [str(app), TARGET_MODULE], env={"PYTHONPATH": str(site)}) as host:
        target = FuzzTarget(host, app)
        try:
            yield target
        finally:
            target.close()
