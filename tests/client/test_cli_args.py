"""The argparse-free reading of everyday command lines agrees with argparse wherever it answers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reload_agent_client import cli, cliargs
from reload_agent_client.errors import UsageError

FLAGS = sorted({o.flag for o in cliargs.GLOBAL_OPTIONS} | {o.flag for c in cliargs.COMMANDS.values() for o in c.options})
WORDS = ["app.views", "x.py", "3", "0.5", "-1", "patch", "full", "weird", "", "a b", "app.*", "reload", "list"]
ODD = ["--", "-", "-h", "--help", "--version", "--js", "--mode=patch", "--timeout=2", "--pid=x", "--json=1", "--file=a.py"]
TOKENS = st.sampled_from([*cliargs.COMMANDS, *FLAGS, *WORDS, *ODD])


def argparse_vars(argv: list[str]) -> dict[str, object] | None:
    try:
        return vars(cli.build_parser().parse_args(argv))
    except (UsageError, SystemExit):
        return None


@settings(max_examples=1500, deadline=None)
@given(st.lists(TOKENS, max_size=7))
def test_whenever_the_fast_reading_answers_argparse_agrees(argv):
    fast = cliargs.parse_common(argv)
    if fast is not None:
        assert vars(fast) == argparse_vars(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["reload", "webapp.views"],
        ["reload", "a.b", "c.d", "--mode", "patch", "--json"],
        ["--json", "--pid", "12", "--timeout", "3", "reload", "a.b", "--mode", "patch"],
        ["--json", "reload", "--pid", "12", "a.b", "--mode=patch", "--timeout=3"],
        ["reload", "--file", "app/views.py", "--file=app/models.py", "--dependents"],
        ["reload", "--stale", "--dry-run", "--verify", "pytest -q", "--verify-timeout", "5"],
        ["--connect", "127.0.0.1:1234", "--token", "abc", "status"],
        ["list", "app.*", "--stale"],
        ["rollback", "app.views", "--transaction", "4"],
        ["history", "--limit", "5"],
        ["agents", "--all"],
        ["watch", "app", "--mode", "full"],
        ["lsp"],
    ],
)
def test_everyday_command_lines_skip_argparse_and_mean_the_same(argv):
    fast = cliargs.parse_common(argv)
    assert fast is not None
    assert vars(fast) == argparse_vars(argv)


@pytest.mark.parametrize(
    "argv",
    [[], ["--help"], ["reload", "-h"], ["--version"], ["frobnicate"], ["reload", "a", "--json", "b"],
     ["list", "a", "b"], ["watch"], ["history", "--limit", "x"], ["reload", "--mode", "weird"], ["--js", "status"],
     ["reload", "--timeout", "-1", "a"], ["--stale", "reload", "a"]],
)
def test_help_errors_and_odd_spellings_are_left_to_argparse(argv):
    assert cliargs.parse_common(argv) is None
