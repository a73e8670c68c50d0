"""Fuzzing the parsers with Hypothesis: the SSE decoder, the typed stream and its
accumulator, error bodies and `Retry-After` values.

What may escape, and nothing else:

- ``SSEDecoder.feed`` / ``flush``: nothing, for any bytes cut anywhere.
- ``AsyncStream`` over any sequence of events holding any JSON values (and some that are not
  JSON), cut anywhere: a ``ChatCompletion``, or one of
  ``APIConnectionError`` (the stream ended before it finished),
  ``APIStreamError`` (an in-band error, typed by the status it names) and
  ``ResponseValidationError`` (an event that is not JSON, a chunk of the wrong shape, or a
  body that is no event stream). The close callback runs exactly once on every path.
- ``status_error`` for any status and body: an ``APIStatusError`` of the status's class.
- ``parse_retry_after`` for any header text: ``None`` or a finite number of seconds >= 0.

Example counts are kept modest so the file runs in a few seconds.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dosai_async as d
from dosai_async._core._config import parse_retry_after
from dosai_async._core._deadline import Deadline
from dosai_async._core._error_bodies import status_error
from dosai_async._core._exceptions import status_class
from dosai_async._streaming._sse import ServerSentEvent, SSEDecoder
from dosai_async._streaming._stream import AsyncStream

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Everything ``AsyncStream`` may raise, by contract.
DOCUMENTED = (d.APIConnectionError, d.APIStreamError, d.ResponseValidationError)

# -- strategies ---------------------------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)


# Values of every JSON type, cheap to draw: what a field of the wrong type may hold.
WRONG = st.sampled_from([None, True, 0, -1, 2**63 - 1, 1.5, "", "x", [], [1], {}, {"a": None}])


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly ``strategy``, sometimes a JSON value of another type."""
    return st.one_of(strategy, strategy, strategy, WRONG)


TEXT = st.text(max_size=10)
FUNCTION = st.fixed_dictionaries({}, optional={"name": maybe(TEXT), "arguments": maybe(TEXT)})
TOOL_CALL = st.fixed_dictionaries(
    {"index": maybe(st.integers(0, 3))},
    optional={"id": maybe(TEXT), "type": maybe(TEXT), "function": maybe(FUNCTION)},
)
DELTA = st.fixed_dictionaries(
    {},
    optional={
        "role": maybe(st.sampled_from(["assistant", "tool", ""])),
        "content": maybe(st.none() | TEXT),
        "reasoning": maybe(TEXT),
        "reasoning_content": maybe(TEXT),
        "refusal": maybe(TEXT),
        "tool_calls": maybe(st.lists(TOOL_CALL, max_size=3)),
    },
)
CHOICE = st.fixed_dictionaries(
    {"index": maybe(st.integers(0, 3)), "delta": maybe(DELTA)},
    optional={
        "finish_reason": maybe(st.sampled_from([None, "stop", "length", "tool_calls"])),
        "logprobs": JSON,
    },
)
USAGE = st.fixed_dictionaries(
    {
        "prompt_tokens": maybe(st.integers(0, 99)),
        "completion_tokens": maybe(st.integers(0, 99)),
        "total_tokens": maybe(st.integers(0, 99)),
    }
)
CHUNK = st.fixed_dictionaries(
    {"choices": maybe(st.lists(CHOICE, max_size=3))},
    optional={
        "id": maybe(TEXT),
        "created": maybe(st.integers(0, 2**31)),
        "model": maybe(TEXT),
        "usage": maybe(st.none() | USAGE),
        "error": JSON,
    },
)


def data_event(value: Any) -> bytes:
    """``value`` as one ``data:`` event."""
    return b"data: " + json.dumps(value).encode() + b"\n\n"


EVENT = st.one_of(
    CHUNK.map(data_event),
    CHUNK.map(data_event),
    JSON.map(data_event),
    st.just(b"data: [DONE]\n\n"),
    st.just(b": keep-alive\n\n"),
    JSON.map(lambda value: b"event: error\n" + data_event(value)),
    TEXT.map(lambda text: b"data: " + text.encode() + b"\n\n"),
    st.binary(max_size=12),
)
SSE_PIECES = st.one_of(
    st.sampled_from(
        [
            *(b"data:", b"data: ", b"event:", b"id:", b"retry:", b":", b"\n", b"\r", b"\r\n"),
            *(b"\n\n", b"\xef\xbb\xbf", b"[DONE]", b"\xff", b"\xe2\x82", b"\x00", b" "),
        ]
    ),
    st.binary(max_size=8),
    TEXT.map(str.encode),
)


def split_at(body: bytes, cuts: list[int]) -> Iterator[bytes]:
    """``body`` cut at the given offsets (sorted, duplicates allowed: empty chunks)."""
    start = 0
    for cut in sorted(cuts):
        yield body[start:cut]
        start = cut
    yield body[start:]


# -- the SSE decoder ------------------------------------------------------------------------------


@FUZZ
@given(pieces=st.lists(SSE_PIECES, max_size=40), data=st.data())
def test_decoder_never_raises(pieces: list[bytes], data: st.DataObject) -> None:
    """SSE-shaped bytes, cut anywhere (empty chunks too), never make the decoder raise."""
    body = b"".join(pieces)
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=10))
    decoder = SSEDecoder()
    events = [event for chunk in split_at(body, cuts) for event in decoder.feed(chunk)]
    assert decoder.flush() == []
    assert all(isinstance(event, ServerSentEvent) for event in events)
    assert all(event.retry is None or event.retry >= 0 for event in events)


@FUZZ
@given(body=st.binary(max_size=300))
def test_decoder_byte_by_byte_never_raises(body: bytes) -> None:
    """Any bytes fed one at a time give the same events as fed whole, without raising."""
    whole, single = SSEDecoder(), SSEDecoder()
    expected = whole.feed(body) + whole.flush()
    got = [event for i in range(len(body)) for event in single.feed(body[i : i + 1])]
    assert got + single.flush() == expected


# -- the typed stream and its accumulator -------------------------------------------------------


async def _chunks(parts: Iterator[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        if part:  # a body iterator never yields b"" (that is its end)
            yield part


async def _consume(parts: Iterator[bytes], closed: list[int]) -> object:
    meta = d.ResponseMeta(200, {}, "req_fuzz")
    stream: AsyncStream[Any] = AsyncStream(
        _chunks(parts),
        lambda: closed.append(1),
        meta=meta,
        timeout=d.Timeout(),
        deadline=Deadline(None),
        sent_at=time.monotonic(),  # the default first_token deadline counts from here
    )
    try:
        texts = [text async for text in stream.text()]
        final = await stream.final()
    except DOCUMENTED as exc:
        assert isinstance(stream.snapshot(), d.ChatCompletion)  # partial output survives
        return exc
    first = [choice.message.content or "" for choice in final.choices if choice.index == 0]
    assert "".join(texts) == "".join(first)
    return final


@FUZZ
@given(events=st.lists(EVENT, max_size=12), data=st.data())
def test_stream_raises_only_documented_errors(events: list[bytes], data: st.DataObject) -> None:
    """Any events of any JSON, cut anywhere: a result or a documented error; closed once."""
    body = b"".join(events)
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=8))
    closed: list[int] = []
    result = asyncio.run(_consume(split_at(body, cuts), closed))
    assert isinstance(result, (d.ChatCompletion, *DOCUMENTED))
    assert closed == [1]


@FUZZ
@given(chunks=st.lists(CHUNK, min_size=1, max_size=8))
def test_well_framed_chunks_of_any_shape(chunks: list[dict[str, Any]]) -> None:
    """Chunk-shaped JSON of any field types, ended by [DONE]: same contract, closed once."""
    body = b"".join(map(data_event, chunks)) + b"data: [DONE]\n\n"
    closed: list[int] = []
    result = asyncio.run(_consume(iter([body]), closed))
    assert isinstance(result, (d.ChatCompletion, *DOCUMENTED))
    assert closed == [1]


# -- error bodies and Retry-After -----------------------------------------------------------------


@FUZZ
@given(status=st.integers(300, 599), body=st.binary(max_size=200) | JSON.map(data_event))
def test_any_error_body_parses(status: int, body: bytes) -> None:
    """Any bytes as an error body give the status's error class with a message."""
    error = status_error(status, body, headers={}, request_id=None)
    assert type(error) is status_class(status)
    assert isinstance(str(error), str)
    assert error.status_code == status


@FUZZ
@given(value=st.text(max_size=40), millis=st.none() | st.text(max_size=12))
def test_any_retry_after_parses(value: str, millis: str | None) -> None:
    """Any `Retry-After` / `retry-after-ms` text: None or finite seconds >= 0."""
    headers = {"Retry-After": value} if millis is None else {"retry-after-ms": millis}
    wait = parse_retry_after(headers)
    assert wait is None or (math.isfinite(wait) and wait >= 0)
