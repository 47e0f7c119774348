"""Protocol fuzzing in ``make test``: a short, reproducible hypothesis run against a live agent.

Random and mutated frames, broken/huge/negative ``Content-Length``, bad JSON
and msgpack, wrong param types, unknown methods, and requests before
``initialize``; see ``frames.py`` for the inputs and ``fuzzrun.py`` for what is
checked after each one. ``make fuzz`` runs the same thing for minutes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from .frames import cases
from .fuzzrun import FuzzTarget, fuzz_target

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
    target.check_health(rss_growth_kb=64 * 1024)
