"""Hypothesis strategies for hostile protocol traffic, and what each frame obliges the agent to do.

Each strategy yields a :class:`Case`: the bytes to send and, when the bytes hold
one well-framed JSON-RPC request, the id the agent must answer. The same
strategies drive the quick run in ``make test`` and the long run of
``make fuzz`` (``fuzz_long.py``).

>>> case = Case(b"x", None, "raw")
>>> case.expects_answer
False
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import msgpack
from hypothesis import strategies as st

from reload_agent_client import protocol

__all__ = ["Case", "KNOWN_METHODS", "TARGET_MODULE", "cases", "json_values", "requests"]

#: The only module fuzzed reloads may touch: the fuzz host imports it and nothing depends on it.
TARGET_MODULE = "fuzz_target"

#: Methods the agent knows or LSP defines; the fuzz also sends made-up ones.
KNOWN_METHODS = [
    protocol.METHOD_INITIALIZE, protocol.METHOD_INITIALIZED, protocol.METHOD_SHUTDOWN, protocol.METHOD_EXIT,
    protocol.METHOD_LIST_MODULES, protocol.METHOD_RELOAD, protocol.METHOD_ROLLBACK, protocol.METHOD_HISTORY,
    protocol.METHOD_STATUS, "textDocument/didSave", "textDocument/didOpen", "textDocument/didChange",
    "workspace/executeCommand", "textDocument/hover", "$/cancelRequest", "$/setTrace", "",
]


@dataclasses.dataclass(frozen=True)
class Case:
    """One fuzz input: raw bytes, and the request id the agent owes an answer to (if any)."""

    data: bytes
    answer_id: int | str | None
    kind: str

    @property
    def expects_answer(self) -> bool:
        return self.answer_id is not None


json_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20) | st.floats(
    allow_nan=False, allow_infinity=False)
#: Any JSON document (NaN/Infinity excluded: they are not JSON).
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)

_module_names = st.sampled_from([TARGET_MODULE, "no.such.module", "", "sys", "__main__"]) | st.text(max_size=12)
_paths = st.sampled_from(["/nonexistent.py", "", "/", "../../etc/passwd"]) | st.text(max_size=30)


def _maybe_wrong(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the right type, sometimes anything: wrong param types are half the point."""
    return st.one_of(good, good, json_values)


# Params shaped like the real ones, with wrong types mixed in. Module names stay within a
# sacrificial set so a fuzzed reload can never re-run a library the host depends on.
_reload_params = st.fixed_dictionaries({}, optional={
    "modules": _maybe_wrong(st.lists(_module_names, max_size=3)),
    "files": _maybe_wrong(st.lists(_paths, max_size=2)),
    "stale": _maybe_wrong(st.booleans()),
    "dependents": _maybe_wrong(st.booleans()),
    "mode": _maybe_wrong(st.sampled_from(["auto", "patch", "full", "fast"])),
    "sources": _maybe_wrong(st.dictionaries(st.just(TARGET_MODULE), st.text(max_size=40), max_size=1)),
    "dryRun": _maybe_wrong(st.booleans()),
})
_param_shapes: dict[str, st.SearchStrategy[Any]] = {
    protocol.METHOD_RELOAD: _reload_params,
    protocol.METHOD_LIST_MODULES: st.fixed_dictionaries({}, optional={
        "pattern": _maybe_wrong(st.text(max_size=10)), "stale": _maybe_wrong(st.booleans())}),
    protocol.METHOD_ROLLBACK: st.fixed_dictionaries({}, optional={
        "module": _maybe_wrong(_module_names), "transaction": _maybe_wrong(st.integers(-3, 10**12))}),
    protocol.METHOD_HISTORY: st.fixed_dictionaries({}, optional={"limit": _maybe_wrong(st.integers(-5, 10**9))}),
    "workspace/executeCommand": st.fixed_dictionaries({
        "command": _maybe_wrong(st.sampled_from(list(protocol.COMMANDS) + ["nope"])),
        "arguments": _maybe_wrong(st.lists(_module_names, max_size=2))}),
    "textDocument/didSave": st.fixed_dictionaries({"textDocument": _maybe_wrong(st.fixed_dictionaries({
        "uri": _maybe_wrong(st.sampled_from(["file:///nonexistent.py", "untitled:1", "", "file://"]))}))}),
    protocol.METHOD_INITIALIZE: st.fixed_dictionaries({}, optional={
        "capabilities": json_values, "processId": json_values,
        "initializationOptions": _maybe_wrong(st.fixed_dictionaries({}, optional={"token": json_values}))}),
}

# Hypothesis text never holds lone surrogates, but JSON can carry them ("\\ud800"): add a few by hand.
_ids = st.integers(-(2**31), 2**31) | st.text(max_size=8) | st.sampled_from(["\ud800", "a\udfffb"])
_methods = st.sampled_from(KNOWN_METHODS) | st.text(max_size=30)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """A JSON-RPC-ish message: mostly valid envelopes, with every field sometimes wrong or missing."""
    method = draw(_methods)
    message: dict[str, Any] = {}
    if draw(st.integers(0, 9)):
        message["jsonrpc"] = "2.0"
    else:
        message["jsonrpc"] = draw(json_values)
    if draw(st.integers(0, 9)):
        message["method"] = method
    else:
        message["method"] = draw(json_values)
    if draw(st.integers(0, 4)):
        message["id"] = draw(_ids)
    elif draw(st.booleans()):
        message["id"] = draw(json_values)
    if draw(st.integers(0, 5)):
        shape = _param_shapes.get(method)
        message["params"] = draw(shape) if shape is not None and draw(st.integers(0, 3)) else draw(json_values)
    return message


def _answer_id(message: Any) -> int | str | None:
    """The id a conforming agent must answer, if ``message`` is a well-formed JSON-RPC request."""
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return None
    if not isinstance(message.get("method"), str) or message.get("method") == protocol.METHOD_EXIT:
        return None
    ident = message.get("id")
    if isinstance(ident, bool) or not isinstance(ident, (int, str)):
        return None
    return ident


def _frame(body: bytes, content_type: str | None = None) -> bytes:
    head = b"Content-Length: %d\r\n" % len(body)
    if content_type is not None:
        head += b"Content-Type: %s\r\n" % content_type.encode()
    return head + b"\r\n" + body


@st.composite
def _good_json_frame(draw: st.DrawFn) -> Case:
    message = draw(requests())
    body = json.dumps(message).encode()
    ctype = draw(st.sampled_from([None, protocol.CONTENT_TYPE_JSON]))
    return Case(_frame(body, ctype), _answer_id(message), "json")


@st.composite
def _good_msgpack_frame(draw: st.DrawFn) -> Case:
    message = draw(requests())
    try:
        body = msgpack.packb(message, use_bin_type=True)
    except UnicodeEncodeError:
        # Lone surrogates are not UTF-8: send them anyway, as the broken msgpack str they make.
        body = msgpack.packb(message, use_bin_type=True, unicode_errors="surrogatepass")
        return Case(_frame(body, protocol.CONTENT_TYPE_MSGPACK), None, "bad-msgpack-utf8")
    return Case(_frame(body, protocol.CONTENT_TYPE_MSGPACK), _answer_id(message), "msgpack")


@st.composite
def _bad_body_frame(draw: st.DrawFn) -> Case:
    """Correct framing around a body that is not a valid document in its declared encoding."""
    ctype = draw(st.sampled_from([None, protocol.CONTENT_TYPE_JSON, protocol.CONTENT_TYPE_MSGPACK]))
    body = draw(st.one_of(
        st.binary(max_size=64),
        st.sampled_from([b"{", b"[]", b"null", b"1", b'"x"', b"\xc1", b"\x92\x01", b"{}", b"[{}]", b"\xff\xfe"]),
        json_values.map(lambda v: json.dumps(v).encode()),
    ))
    return Case(_frame(body, ctype), None, "bad-body")


_bad_lengths = st.sampled_from([
    b"-1", b"-0", b"0", b"", b" ", b"abc", b"1e3", b"0x10", b"99999999999999999999999", b"18446744073709551616",
    b"%d" % (protocol.DEFAULT_MAX_MESSAGE_BYTES + 1), b"%d" % (2**31), b"+5", b"5 5", b"\xff",
])


@st.composite
def _bad_header_frame(draw: st.DrawFn) -> Case:
    """Broken header blocks: bad or missing Content-Length, odd separators, oversized headers."""
    length = draw(_bad_lengths | st.integers(-(2**40), 2**40).map(lambda n: b"%d" % n))
    variant = draw(st.integers(0, 6))
    body = b'{"jsonrpc":"2.0","id":1,"method":"reloadAgent/status"}'
    if variant == 0:
        data = b"Content-Length: " + length + b"\r\n\r\n" + body
    elif variant == 1:
        data = b"Content-Type: application/json\r\n\r\n" + body  # no length at all
    elif variant == 2:
        data = b"Content-Length: %d\n\n" % len(body) + body  # bare LF
    elif variant == 3:
        data = b"Content-Length: %d\r\nContent-Length: %s\r\n\r\n" % (len(body), length) + body
    elif variant == 4:
        data = b"X-Filler: " + b"a" * (protocol.MAX_HEADER_BYTES + draw(st.integers(1, 4096))) + b"\r\n\r\n"
    elif variant == 5:
        data = draw(st.binary(max_size=200)) + b"\r\n\r\n" + body
    else:
        data = b"content-length:" + length + b"\r\n\r\n"
    return Case(data, None, "bad-header")


@st.composite
def _mutated_frame(draw: st.DrawFn) -> Case:
    """A valid frame with bytes flipped, inserted, deleted or cut off."""
    base = bytearray(draw(st.one_of(_good_json_frame(), _good_msgpack_frame())).data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.integers(0, 3))
        pos = draw(st.integers(0, max(len(base) - 1, 0)))
        if op == 0 and base:
            base[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == 1:
            base[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == 2 and base:
            del base[pos:pos + draw(st.integers(1, 8))]
        else:
            del base[pos:]
    return Case(bytes(base), None, "mutated")


#: Every kind of hostile input, weighted towards well-framed requests (those carry an obligation).
cases = st.one_of(
    _good_json_frame(), _good_json_frame(), _good_msgpack_frame(), _bad_body_frame(), _bad_header_frame(),
    _mutated_frame(), st.binary(max_size=256).map(lambda b: Case(b, None, "random")),
)
