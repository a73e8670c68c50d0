"""What a real vLLM sends: its captured bytes replayed over loopback, with its own headers.

The captures in ``tests/data/peers/vllm/`` are exact responses of vLLM 0.32.0 (see its
README). Each is served by a raw socket server with the status line and headers vLLM sent, so
the client parses bytes the package did not produce.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dosai_async import (
    AsyncDosAI,
    BadRequestError,
    ChatCompletion,
    ChatCompletionChunk,
    ContextLengthExceededError,
    ContextWindowBadRequestError,
    RetryPolicy,
    to_dict,
)
from dosai_async._models import _converter
from dosai_async._streaming._accumulate import ChunkAccumulator
from dosai_async.testing import DosAIEmulator

from ._rawserver import Conn, Handler, RawServer, stream_final
from ._rawserver import client as raw_client
from .conftest import PEERS, Scripted

VLLM = PEERS / "vllm"
FINGERPRINT = "vllm-0.32.0-a83e08f6"
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


def replay(name: str) -> Handler:
    """A handler answering every request with the capture ``name``, headers as captured."""
    body = (VLLM / name).read_bytes()
    head_lines = _headers_of(name).read_text("utf-8").split("\n\n")[0].splitlines()
    status = head_lines[0].removeprefix("HTTP ")
    headers = [line for line in head_lines[1:] if line]
    chunked = "Transfer-Encoding: chunked" in headers
    head = "\r\n".join([f"HTTP/1.1 {status}", *headers]).encode() + b"\r\n\r\n"
    # A stream goes out one SSE event per HTTP chunk, as uvicorn wrote it.
    payload = _chunked(body) if chunked else body

    async def handler(conn: Conn) -> None:
        while await conn.request() is not None:
            await conn.send(head + payload)

    return handler


def _headers_of(name: str) -> Path:
    captured = VLLM / f"{name}.headers.txt"
    if captured.is_file() or not name.endswith(".sse"):
        return captured
    # One stream was captured without its headers; vLLM's stream headers are always alike.
    return VLLM / "stream_greedy_include_usage.sse.headers.txt"


def _chunked(body: bytes) -> bytes:
    events = [event + b"\n\n" for event in body.split(b"\n\n") if event]
    return b"".join(b"%x\r\n%b\r\n" % (len(e), e) for e in events) + b"0\r\n\r\n"


def _stream_captures() -> list[str]:
    names = sorted(path.name for path in VLLM.glob("*.sse"))
    assert len(names) >= 7, f"vLLM captures missing from {VLLM}: see tests/data/ORIGIN.md"
    return names


def _compared(completion: ChatCompletion | dict[str, Any]) -> Any:
    """JSON of a completion without what differs per request, nulls and empties dropped.

    Empty and absent are one thing here: a streamed message starts with ``content: ""``, a
    non-streamed one with tool calls may say ``null``, and ``tool_calls: []`` means none.
    """
    data = to_dict(completion) if isinstance(completion, ChatCompletion) else dict(completion)
    data.pop("id", None)
    data.pop("created", None)
    return _drop_empty(data)


def _drop_empty(value: Any) -> Any:
    if isinstance(value, dict):
        pairs = ((k, _drop_empty(v)) for k, v in value.items())
        return {k: v for k, v in pairs if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value


# --- item 10a: the accumulated completion keeps what vLLM sent ---------------------------------


@pytest.mark.parametrize("name", _stream_captures())
async def test_final_keeps_vllm_fingerprint_and_unknown_fields(name: str) -> None:
    """final() has the fingerprint of the last chunks, each choice's stop_reason and extras."""
    with RawServer(replay(name)) as server:
        async with raw_client(server.base_url) as dos:
            final = await stream_final(dos, model="dos-ai")
    assert final.system_fingerprint == FINGERPRINT
    assert dict(final.extra) == {"prompt_token_ids": None, "prompt_text": None}
    assert final.choices
    for choice in final.choices:
        assert dict(choice.extra) == {"token_ids": None, "stop_reason": None}
        assert choice.message.extra == {}


async def test_streamed_greedy_answer_equals_the_non_streamed_one() -> None:
    """The same greedy request, streamed and not: final() equals the JSON answer field for field.

    Left out of the comparison: what differs per request (id, created) and the fields vLLM
    only puts in a non-streamed answer (``annotations``, ``routed_experts``, ``metrics``...).
    """
    answer = json.loads((VLLM / "nonstream_greedy.json").read_bytes())
    only_whole = {"prompt_logprobs", "kv_transfer_params", "ec_transfer_params", "metrics"}
    for key in only_whole:
        del answer[key]
    for key in ("annotations", "audio", "function_call"):
        del answer["choices"][0]["message"][key]
    del answer["choices"][0]["routed_experts"]
    with RawServer(replay("stream_greedy_include_usage.sse")) as server:
        async with raw_client(server.base_url) as dos:
            final = await stream_final(dos, model="dos-ai")
    assert _compared(final) == _compared(answer)
    assert final.choices[0].extra == _converter.structure(answer, ChatCompletion).choices[0].extra


def _chunk(**fields: Any) -> ChatCompletionChunk:
    return _converter.structure({"id": "c", **fields}, ChatCompletionChunk)


def test_unknown_fields_merge_by_rule() -> None:
    """Lists concatenate, other values: the last non-null wins; null only fills a new key."""
    chunks = [
        _chunk(choices=[{"index": 0, "delta": {"p": "a"}, "token_ids": [1, 2], "s": None}], x=1),
        _chunk(choices=[{"index": 0, "delta": {"p": None}, "token_ids": [3], "s": "end"}], x=None),
        _chunk(choices=[{"index": 0, "delta": {}, "token_ids": None, "s": None}], y=None),
    ]
    accumulator = ChunkAccumulator()
    accumulator.add(chunks[0])
    partial = accumulator.snapshot()
    for chunk in chunks[1:]:
        accumulator.add(chunk)
    final = accumulator.snapshot()
    assert dict(final.extra) == {"x": 1, "y": None}
    assert dict(final.choices[0].extra) == {"token_ids": [1, 2, 3], "s": "end"}
    assert dict(final.choices[0].message.extra) == {"p": "a"}
    # A snapshot taken mid-stream is not changed by what arrives after it.
    assert dict(partial.choices[0].extra) == {"token_ids": [1, 2], "s": None}
    assert chunks[0].choices[0].extra["token_ids"] == [1, 2]


def test_chunks_without_unknown_fields_leave_extra_empty() -> None:
    """A stream of only modelled fields gives completion, choices and messages no extras."""
    accumulator = ChunkAccumulator()
    accumulator.add(_chunk(choices=[{"index": 0, "delta": {"content": "a"}}]))
    final = accumulator.snapshot()
    assert final.extra == {}
    assert final.choices[0].extra == {}
    assert final.choices[0].message.extra == {}


_requests = st.fixed_dictionaries(
    {"seed": st.integers(0, 1000), "n": st.integers(1, 3)},
    optional={
        "max_tokens": st.integers(1, 30),
        "stop": st.lists(st.sampled_from(["a", "the", "."]), min_size=1, max_size=2),
        "tool_choice": st.just("required"),
    },
)
_TOOL = {
    "type": "function",
    "function": {
        "name": "f",
        "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}},
    },
}


async def _both(base_url: str, api_key: str, params: dict[str, Any]) -> tuple[Any, Any]:
    if "tool_choice" in params:
        params = {**params, "tools": [_TOOL]}
    async with AsyncDosAI(api_key=api_key, base_url=base_url, retry=RetryPolicy.zero_wait()) as c:
        whole = await c.chat.completions.create(model="dos-ai", messages=MESSAGES, **params)
        stream = await c.chat.completions.create(
            model="dos-ai",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
            **params,
        )
        async with stream:
            final = await stream.final()
    return _compared(whole), _compared(final)


def test_emulator_stream_accumulates_to_its_non_streaming_answer() -> None:
    """For any request the emulator answers both ways, final() equals the non-streamed answer."""
    with DosAIEmulator(rate_limit=1_000_000_000, reasoning=True).in_thread() as emu:

        @settings(max_examples=25, deadline=None)
        @given(_requests)
        def check(params: dict[str, Any]) -> None:
            whole, final = asyncio.run(_both(emu.base_url, emu.api_key, params))
            assert final == whole

        check()


# --- item 10b: vLLM's context overflow is a 400 that ContextLengthExceededError catches --------


@pytest.mark.parametrize(
    ("name", "stream", "param"),
    [
        ("error_400_context_length.json", False, "input_tokens"),
        ("error_400_context_length_stream.json", True, "input_tokens"),
        ("error_400_max_tokens.json", False, "max_tokens"),
    ],
)
async def test_vllm_context_overflow_is_both_errors(name: str, stream: bool, param: str) -> None:
    """vLLM's overflow 400 is caught by ContextLengthExceededError and BadRequestError alike."""
    with RawServer(replay(name)) as server:
        async with raw_client(server.base_url) as dos:
            with pytest.raises(ContextLengthExceededError) as caught:
                await dos.chat.completions.create(model="dos-ai", messages=MESSAGES, stream=stream)
        assert len(server.requests) == 1  # an overflow is never retried
    error = caught.value
    assert type(error) is ContextWindowBadRequestError
    assert isinstance(error, BadRequestError)
    assert error.status_code == 400
    assert error.param == param
    assert error.message == json.loads((VLLM / name).read_bytes())["error"]["message"]


@pytest.mark.parametrize(
    "name", ["error_400_temperature.json", "error_400_n0.json", "error_400_malformed_json.json"]
)
async def test_other_vllm_400s_stay_plain_bad_requests(name: str) -> None:
    """A 400 about anything else is a BadRequestError only."""
    with RawServer(replay(name)) as server:
        async with raw_client(server.base_url) as dos:
            with pytest.raises(BadRequestError) as caught:
                await dos.chat.completions.create(model="dos-ai", messages=MESSAGES)
    assert type(caught.value) is BadRequestError
    assert not isinstance(caught.value, ContextLengthExceededError)


async def test_openai_context_length_code_on_a_400_is_recognised(
    client: AsyncDosAI, server: Scripted
) -> None:
    """OpenAI's 400 with code context_length_exceeded is caught as a context overflow."""
    body = {
        "error": {
            "message": "Please reduce the length of the messages.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }
    }
    server.reply(400, body)
    with pytest.raises(ContextLengthExceededError) as caught:
        await client.chat.completions.create(model="dos-ai", messages=MESSAGES)
    assert isinstance(caught.value, BadRequestError)
