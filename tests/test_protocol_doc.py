"""docs/protocol.md and the code agree: names, codes, limits and the shape of every worked example.

The wire facts live in ``reload_agent_client.protocol`` and the result shapes in
``reload_agent.engine.results``; the doc is prose about them. These tests fail when one side changes without the
other.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from reload_agent.engine import results
from reload_agent_client import protocol

DOC = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"
TEXT = DOC.read_text(encoding="utf-8")

# LSP methods the doc may show besides the agent's own (they belong to the LSP specification, not protocol.py).
LSP_METHODS = {"textDocument/didSave", "textDocument/publishDiagnostics", "workspace/executeCommand"}


def _constants(prefix: str) -> dict[str, str]:
    return {name: getattr(protocol, name) for name in protocol.__all__ if name.startswith(prefix)}


def _messages() -> list[dict[str, Any]]:
    """Every JSON-RPC message of the doc's ```json blocks, in order (arrows and stage directions removed)."""
    found = []
    for block in re.findall(r"```json\n(.*?)```", TEXT, flags=re.S):
        chunks = re.split(r"^\s*[→←] ", block, flags=re.M)
        for chunk in chunks:
            body = "\n".join(line for line in chunk.splitlines() if not line.strip().startswith("("))
            if body.strip():
                found.append(json.loads(body))
    return found


def _exchanges() -> list[tuple[str, dict[str, Any]]]:
    """(method of the request, response) for every worked request/response pair."""
    pending: dict[Any, str] = {}
    pairs = []
    for msg in _messages():
        if "method" in msg and "id" in msg:
            pending[msg["id"]] = msg["method"]
        elif "id" in msg and msg["id"] in pending:
            pairs.append((pending.pop(msg["id"]), msg))
    return pairs


@pytest.mark.parametrize("prefix", ["METHOD_", "NOTIFY_", "COMMAND_"])
def test_every_name_in_protocol_py_is_documented(prefix):
    names = _constants(prefix)
    assert names, prefix
    for const, value in names.items():
        assert f"`{value}`" in TEXT, f"{const} = {value!r} is not in docs/protocol.md"
        assert const in TEXT, f"the doc should name the constant {const}"


def test_every_error_code_is_documented():
    for code in protocol.ErrorCode:
        row = re.search(rf"^\| {code.value} \| `{code.name}` \|", TEXT, flags=re.M)
        assert row, f"no row for {code.name} ({code.value}) in the errors table"


def test_every_reload_agent_name_in_the_doc_exists():
    known_methods = set(_constants("METHOD_").values()) | set(_constants("NOTIFY_").values())
    for method in set(re.findall(r"reloadAgent/\w+", TEXT)):
        assert method in known_methods, f"docs/protocol.md names {method}, which protocol.py does not define"
    for command in set(re.findall(r"`(reloadAgent\.\w+)`", TEXT)):
        assert command in protocol.COMMANDS, f"docs/protocol.md names command {command}, unknown to protocol.py"


def test_vocabulary_and_limits():
    for word in (*protocol.PHASES, *protocol.MODES):
        assert f"`{word}`" in TEXT, word
    assert protocol.CONTENT_TYPE_JSON in TEXT and protocol.CONTENT_TYPE_MSGPACK in TEXT
    assert f"= {protocol.MAX_HEADER_BYTES // 1024} KiB" in TEXT
    assert f"= {protocol.DEFAULT_MAX_MESSAGE_BYTES // (1024 * 1024)} MiB" in TEXT
    assert f"`PROTOCOL_VERSION = {protocol.PROTOCOL_VERSION}`" in TEXT
    for var in (protocol.ENV_TOKEN, protocol.ENV_ADDRESS, protocol.ENV_RUNTIME_DIR):
        assert var in TEXT, var


def test_framing_example_has_the_right_length():
    length, body = re.search(r"Content-Length: (\d+)\\r\\n\n.*?\\r\\n\n\\r\\n\n(.*?)\n```", TEXT, flags=re.S).groups()
    assert int(length) == len(body.encode())


def test_examples_are_valid_json_rpc():
    messages = _messages()
    assert len(messages) >= 20
    known = {*_constants("METHOD_").values(), *_constants("NOTIFY_").values(), *LSP_METHODS}
    codes = {c.value for c in protocol.ErrorCode}
    for msg in messages:
        if "pid" in msg and "address" in msg:  # the connection file example
            continue
        assert msg["jsonrpc"] == "2.0"
        if "method" in msg:
            assert msg["method"] in known, msg["method"]
        if "error" in msg:
            assert msg["error"]["code"] in codes


def test_every_request_method_has_a_worked_example():
    shown = {m["method"] for m in _messages() if "method" in m}
    requests = set(_constants("METHOD_").values()) | set(_constants("NOTIFY_").values())
    assert requests <= shown, f"no worked example for {sorted(requests - shown)}"


# One instance of each engine result type, so the examples are compared with what to_json() really produces.
_EXC = results.ExceptionInfo("SyntaxError", "bad", "/x.py", 1, 0, (results.Frame("/x.py", 1, "<module>"),))
_MODULE = results.ModuleResult("m", "full", 1, ["f"], ["C"], [results.Replaced("D", "r")], reason="why")
_SHAPES = {
    "reload": set(results.ReloadResult(1, [_MODULE], 1.0).to_json()),
    "module": set(_MODULE.to_json()),
    "rollback": set(results.RollbackResult(2, 1, [("m", 0)], 1.0).to_json()),
    "info": set(results.ModuleInfo("m", "/m.py", False, 0, True).to_json()),
    "record": set(results.TransactionRecord(1, "t", ["m"], False, 1.0, error={}).to_json()),
    "error": set(results.ReloadError("compile", "m", _EXC, transaction=1).to_json()),
    "exception": set(_EXC.to_json()),
    "blocking": set(results.RollbackError("no").to_json()),
}
_OPTIONAL = {"module": {"reason"}, "record": {"error"}, "reload": {"dryRun"}}


def _check(kind: str, obj: dict[str, Any]) -> None:
    expected = _SHAPES[kind]
    assert set(obj) <= expected, f"{kind} example has unknown fields {set(obj) - expected}"
    missing = expected - set(obj) - _OPTIONAL.get(kind, set())
    assert not missing, f"{kind} example lacks {missing}"


def _check_error_data(data: dict[str, Any]) -> None:
    _check("error", data)
    _check("exception", data["exception"])


def test_worked_results_have_the_engine_shapes():
    pairs = _exchanges()
    seen = set()
    for method, response in pairs:
        if "error" in response:
            error = response["error"]
            if error["code"] == protocol.ErrorCode.RELOAD_FAILED:
                _check_error_data(error["data"])
            elif error["code"] == protocol.ErrorCode.NOTHING_TO_ROLLBACK:
                _check("blocking", error["data"])
            continue
        result = response["result"]
        seen.add(method)
        if method == protocol.METHOD_RELOAD:
            _check("reload", result)
            for module in result["modules"]:
                _check("module", module)
        elif method == protocol.METHOD_ROLLBACK:
            _check("rollback", result)
        elif method == protocol.METHOD_LIST_MODULES:
            for info in result["modules"]:
                _check("info", info)
        elif method == protocol.METHOD_HISTORY:
            for record in result["transactions"]:
                _check("record", record)
                if "error" in record:
                    _check_error_data(record["error"])
        elif method == protocol.METHOD_STATUS:
            assert set(result) == {"pid", "version", "uptimeS", "modules", "transactions", "clients", "watching"}
    assert {protocol.METHOD_RELOAD, protocol.METHOD_ROLLBACK, protocol.METHOD_HISTORY} <= seen


def test_notification_examples_match_the_results():
    for msg in _messages():
        if msg.get("method") == protocol.NOTIFY_DID_RELOAD:
            params = msg["params"]
            for module in params["modules"]:
                if params["ok"]:
                    _check("module", module)
                else:  # a failed transaction names the modules it tried
                    assert set(module) == {"name"}, module
            assert ("error" in params) == (not params["ok"]), params
            if "error" in params:
                _check_error_data(params["error"])
        elif msg.get("method") == protocol.NOTIFY_DID_ROLLBACK:
            assert set(msg["params"]) <= _SHAPES["rollback"]
