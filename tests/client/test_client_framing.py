"""LSP framing: round trips, split reads, limits, and garbage."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reload_agent_client.errors import ProtocolError
from reload_agent_client.framing import Frame, FrameReader, decode_body, encode_frame, frame_bytes
from reload_agent_client.protocol import CONTENT_TYPE_MSGPACK, MAX_HEADER_BYTES


def reader_over(data: bytes, chunk: int = 65536, **kwargs) -> FrameReader:
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    return FrameReader(lambda n: pieces.pop(0) if pieces else b"", **kwargs)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(messages=st.lists(json_values, min_size=1, max_size=5), chunk=st.integers(1, 64), msgpack=st.booleans())
def test_any_messages_survive_any_split(messages, chunk, msgpack):
    data = b"".join(encode_frame(m, msgpack=msgpack) for m in messages)
    reader = reader_over(data, chunk)
    decoded = []
    while (frame := reader.read_frame()) is not None:
        assert frame.is_msgpack == msgpack
        decoded.append(decode_body(frame))
    assert decoded == messages


def test_msgpack_frames_announce_their_content_type():
    frame = encode_frame({"id": 1}, msgpack=True)
    assert f"Content-Type: {CONTENT_TYPE_MSGPACK}\r\n".encode() in frame
    assert b"Content-Type" not in encode_frame({"id": 1})


def test_headers_are_case_insensitive_and_parameters_ignored():
    body = json.dumps({"x": 1}).encode()
    data = b"content-length: %d\r\nCONTENT-TYPE: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" % len(body) + body
    frame = reader_over(data).read_frame()
    assert decode_body(frame) == {"x": 1}
    assert not frame.is_msgpack


@pytest.mark.parametrize(
    "data, message",
    [
        (b"Content-Type: x\r\n\r\n{}", "missing Content-Length"),
        (b"Content-Length: nope\r\n\r\n", "bad Content-Length"),
        (b"Content-Length: -4\r\n\r\n", "negative"),
        (b"garbage\r\n\r\n", "malformed header"),
        (b"Content-Length: 10\r\n\r\n{}", "inside a message body"),
        (b"Content-Length: 2\r\n", "inside a header block"),
        (b"X: " + b"a" * (MAX_HEADER_BYTES + 10), "header block too large"),
    ],
)
def test_broken_streams_raise_protocol_errors(data, message):
    with pytest.raises(ProtocolError, match=message):
        reader_over(data, chunk=7).read_frame()


def test_body_limit_is_enforced_before_reading_the_body():
    reads = []

    def recv(n):
        reads.append(n)
        return b"Content-Length: 1000\r\n\r\n" if len(reads) == 1 else b"x" * n

    with pytest.raises(ProtocolError, match="exceeds the limit"):
        FrameReader(recv, max_body=100).read_frame()
    assert len(reads) == 1


def test_a_read_that_times_out_mid_body_can_be_resumed():
    data = frame_bytes(b'{"a":1}')
    steps = [data[:25], TimeoutError, data[25:]]

    def recv(n):
        step = steps.pop(0)
        if step is TimeoutError:
            raise TimeoutError
        return step

    reader = FrameReader(recv)
    with pytest.raises(TimeoutError):
        reader.read_frame()
    assert decode_body(reader.read_frame()) == {"a": 1}


def test_undecodable_bodies_raise_protocol_errors():
    with pytest.raises(ProtocolError):
        decode_body(Frame(b"{nope"))
    with pytest.raises(ProtocolError):
        decode_body(Frame(b"\xc1", CONTENT_TYPE_MSGPACK))
