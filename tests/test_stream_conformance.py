"""Every recorded stream of the shared corpus, fed whole, byte by byte and at random splits.

The bytes go through the real ``AsyncStream`` (SSE decoder, JSON, cattrs, accumulator); only
the socket is replaced by an in-memory iterator, which is exactly the seam the design gives
``_streaming`` (an async iterator of bytes and a close callback).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

import dosai_async as d
from dosai_async._core._deadline import Deadline
from dosai_async._models import _converter
from dosai_async._streaming._stream import AsyncStream
from tests.conftest import conformance_dir

MODES = ["whole", "bytewise", "random"]


def _cases() -> list[Path]:
    return sorted(conformance_dir("streams").glob("*.json"))


def _chunks(data: bytes, mode: str, seed: str) -> Iterator[bytes]:
    if mode == "whole":
        yield data
    elif mode == "bytewise":
        yield from (data[i : i + 1] for i in range(len(data)))
    else:
        rng = random.Random(seed)
        i = 0
        while i < len(data):
            step = rng.randint(1, 64)
            yield data[i : i + step]
            i += step


async def _body(parts: Iterator[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def make_stream(data: bytes, mode: str, seed: str) -> tuple[AsyncStream[Any], list[bool]]:
    """An AsyncStream over in-memory bytes, and a flag list recording close() calls."""
    closed: list[bool] = []
    meta = d.ResponseMeta(200, {"x-request-id": "req_c"}, "req_c")
    stream: AsyncStream[Any] = AsyncStream(
        _body(_chunks(data, mode, seed)),
        lambda: closed.append(True),
        meta=meta,
        timeout=d.Timeout(),
        deadline=Deadline(None),
        sent_at=time.monotonic(),  # the default first_token deadline counts from here
    )
    return stream, closed


def _plain(obj: Any) -> Any:
    """Unstructured, with None values dropped, so optional fields compare by presence."""
    data = _converter.unstructure(obj)
    return _drop_none(data)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _check_choices(result: d.ChatCompletion, expected: dict[str, Any]) -> None:
    assert len(result.choices) == len(expected["choices"])
    for choice, want in zip(result.choices, expected["choices"], strict=True):
        message = choice.message
        assert choice.index == want["index"]
        assert message.role == (want["role"] or "assistant")
        assert message.content == want["content"]
        assert message.reasoning == want["reasoning"]
        assert message.reasoning_content == want["reasoning_content"]
        assert message.refusal == want["refusal"]
        assert choice.finish_reason == want["finish_reason"]
        calls = [
            {"id": c.id, "type": c.type, "name": c.function.name, "arguments": c.function.arguments}
            for c in message.tool_calls or []
        ]
        want_calls = [
            {"id": c["id"], "type": c["type"], **c["function"]} for c in want["tool_calls"] or []
        ]
        assert calls == want_calls
        want_logprobs = want.get("logprobs")
        got_logprobs = _plain(choice.logprobs) if choice.logprobs else None
        assert got_logprobs == (_drop_none(want_logprobs) if want_logprobs else None)


def _check_header(result: d.ChatCompletion, expected: dict[str, Any]) -> None:
    if expected.get("id") is not None:
        assert result.id == expected["id"]
        assert result.model == expected["model"]
        assert result.created == expected["created"]
    want_usage = expected["usage"]
    assert (_plain(result.usage) if result.usage else None) == (
        _drop_none(want_usage) if want_usage else None
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.stem)
async def test_recorded_stream(case: Path, mode: str) -> None:
    """The accumulated result (or the error with its partial result) matches the corpus."""
    meta = json.loads(case.read_text())
    expected = meta["expected"]
    stream, closed = make_stream(case.with_suffix(".sse").read_bytes(), mode, case.stem)
    error = expected.get("error")
    if error and error.get("raise"):
        with pytest.raises(d.DosAIError) as info:
            await stream.final()
        assert isinstance(info.value, d.APIStreamError)
        assert info.value.message == error["message"]
        partial = info.value.partial
        assert isinstance(partial, d.ChatCompletion)
        _check_choices(partial, expected)
    else:
        result = await stream.final()
        _check_choices(result, expected)
        _check_header(result, expected)
        assert stream.stats.chunks == expected["sse"]["json_chunks_before_end"]
    assert closed == [True]  # closed exactly once, on every path


async def test_text_yields_choice_zero_content_only() -> None:
    """text() yields the content deltas of choice 0, skipping other choices and roles."""
    case = conformance_dir("streams") / "openai-python-n3-interleaved.sse"
    expected = json.loads(case.with_suffix(".json").read_text())["expected"]
    stream, _ = make_stream(case.read_bytes(), "random", "n3")
    texts = [text async for text in stream.text()]
    assert "".join(texts) == expected["choices"][0]["content"]
    assert all(texts)
