"""Protocol fuzzing in ``make test``: a short, reproducible hypothesis run against a live agent.

Random and mutated frames, broken/huge/negative ``Content-Length``, bad JSON
and msgpack, wrong param types, unknown methods, and requests before
``initialize``; see ``frames.py`` for the inputs and ``fuzzrun.py`` for what is
checked after each one. ``make fuzz`` runs the same thing for minutes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from reload_agent_client import protocol

from .frames import Case, cases
from .fuzzrun import FuzzTarget, fuzz_target
from .kit import session

EXAMPLES = int(os.environ.get("RELIABILITY_FUZZ_EXAMPLES", "300"))


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    with fuzz_target(tmp_path_factory.mktemp("fuzz")) as fuzzed:
        yield fuzzed


# Derandomized: the same inputs on every run, so a failure in CI reproduces locally. No
# shrinking: a failing case costs a full answer timeout, and the raw frame is readable anyway.
@pytest.mark.timeout(900)
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, report_multiple_bugs=False,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=cases, authenticate=st.booleans())
def test_hostile_frames_never_kill_or_hang_the_agent(target: FuzzTarget, case, authenticate: bool) -> None:
    target.run(case, authenticate=authenticate)


def test_after_fuzzing_nothing_leaked(target: FuzzTarget) -> None:
    """Runs after the fuzz test (same module-scoped host): fds, threads, memory, host errors."""
    if not target.sent:
        pytest.skip("meaningful only after test_hostile_frames_never_kill_or_hang_the_agent")
    assert target.answered > 0, "no well-framed request among the examples: the strategies are broken"
    target.check_health(rss_growth_kb=64 * 1024)


@pytest.mark.parametrize("method", ["textDocument/didSave", "initialized", "textDocument/didClose"])
def test_a_notification_method_sent_as_a_request_is_answered(target: FuzzTarget, method: str) -> None:
    """Found by the fuzzer: a well-formed request naming a notification method got no answer at all,
    so a client waiting on it hung. JSON-RPC wants an answer to every request (an error is fine)."""
    params = {"textDocument": {"uri": "file:///nonexistent.py"}} if method.startswith("textDocument") else {}
    body = json.dumps({"jsonrpc": "2.0", "id": 41, "method": method, "params": params}).encode()
    target.run(Case(b"Content-Length: %d\r\n\r\n%s" % (len(body), body), 41, "json"), authenticate=True)


@pytest.mark.parametrize("use_msgpack", [False, True])
def test_a_request_after_shutdown_is_answered(target: FuzzTarget, use_msgpack: bool) -> None:
    """Found by the long fuzz run: after ``shutdown``, pygls dropped further requests without a word."""
    with session(target.host.address, target.host.token) as client:
        assert client.request(protocol.METHOD_SHUTDOWN, None, use_msgpack=use_msgpack)["result"] is None
        reply = client.request(protocol.METHOD_STATUS, {}, use_msgpack=use_msgpack)
        assert reply["error"]["code"] == protocol.ErrorCode.INVALID_REQUEST, reply


def test_a_request_id_with_a_lone_surrogate_is_answered(target: FuzzTarget) -> None:
    """JSON can escape a lone surrogate (``"\\ud800"``) although UTF-8 cannot encode it: the
    answer must still go out (JSON's own escape works), not vanish in an encoding error."""
    body = b'{"jsonrpc": "2.0", "id": "a\\udfffb", "method": "reloadAgent/status"}'
    target.run(Case(b"Content-Length: %d\r\n\r\n%s" % (len(body), body), "a\udfffb", "json"), authenticate=True)
