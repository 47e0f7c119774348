"""The command line itself: global options anywhere, usage errors, exit code 2, --json on errors."""

from __future__ import annotations

import json

import pytest

from reload_agent_client import cli


@pytest.mark.parametrize(
    "argv",
    [
        ["--json", "--pid", "12", "--timeout", "3", "reload", "a.b", "--mode", "patch"],
        ["reload", "a.b", "--json", "--pid", "12", "--mode", "patch", "--timeout", "3"],
        ["--json", "reload", "--pid", "12", "a.b", "--mode=patch", "--timeout=3"],
    ],
)
def test_global_options_work_before_and_after_the_subcommand(argv):
    args = cli.build_parser().parse_args(argv)
    assert (args.json_, args.pid, args.timeout, args.modules, args.mode) == (True, 12, 3.0, ["a.b"], "patch")


def test_defaults_when_no_global_option_is_given():
    args = cli.build_parser().parse_args(["status"])
    assert (args.connect, args.token, args.pid, args.all_, args.json_) == (None, None, None, False, False)


@pytest.mark.parametrize(
    "argv",
    [[], ["frobnicate"], ["reload"], ["reload", "--stale", "--push"], ["reload", "m", "--mode", "weird"], ["lsp", "--all"], ["history", "--limit", "x"]],
)
def test_usage_errors_exit_2_and_json_reports_them(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("RELOAD_AGENT_RUNTIME_DIR", str(tmp_path))
    assert cli.main(argv) == 2
    assert cli.main([*argv, "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["error"]["code"] is None and doc["error"]["data"]["kind"] == "usage"


def test_no_agent_is_exit_2_with_the_runtime_dir_named(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("RELOAD_AGENT_RUNTIME_DIR", str(tmp_path))
    monkeypatch.delenv("RELOAD_AGENT_ADDRESS", raising=False)
    assert cli.main(["status"]) == 2
    assert str(tmp_path) in capsys.readouterr().err
    assert cli.main(["--json", "list"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["error"]["data"] == {"kind": "selection", "agents": []}


def test_nothing_listening_is_a_connect_error(capsys, tmp_path):
    sock_path = tmp_path / "nobody.sock"
    assert cli.main(["--connect", f"unix:{sock_path}", "status"]) == 2
    assert "cannot connect" in capsys.readouterr().err
    assert cli.main(["--connect", f"unix:{sock_path}", "--json", "status"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["data"]["kind"] == "connect"
