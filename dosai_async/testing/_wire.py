"""Render replies in DOS's wire format (vLLM's shapes and key order) as `Plan`s.

Streams follow vLLM: per choice a role chunk ``{"role": "assistant", "content": ""}``, then
reasoning, content or tool-call deltas, then a finish chunk with ``delta: {}``; choices are
interleaved by position when ``n > 1``; with ``include_usage`` a last chunk with
``"choices": []`` and ``usage``; then ``data: [DONE]``.

Chunks are built from a per-response byte prefix plus one small ``orjson.dumps`` per delta,
because this is the emulator's hot path (batch tests push thousands of streams through it).

Latency: the role chunk comes after ``ttft`` (vLLM sends it with the first token), each later
delta after ``interval``. A JSON reply waits as long as the whole generation would have.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import zip_longest
from typing import Any

import attrs
import orjson

from ._plan import DONE, SSE_TYPE, Piece, Plan, json_plan
from ._replies import Choice, Reply

__all__ = [
    "Envelope",
    "Latency",
    "completion_body",
    "completion_plan",
    "model_object",
    "models_body",
    "stream_plan",
    "usage",
]

_MODEL_CREATED = 1767225600  # 2026-01-01: a fixed date keeps model listings stable.


@attrs.frozen
class Latency:
    """Time to first token and time between tokens, in seconds."""

    ttft: float = 0.0
    interval: float = 0.0


@attrs.frozen
class Envelope:
    """What every chunk of one response repeats, and the name of the reasoning field."""

    id: str
    created: int
    model: str
    reasoning_field: str = "reasoning"


def usage(reply: Reply) -> dict[str, Any]:
    """DOS's usage object: token counts, details, and ``cost`` in USD."""
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        "cost": reply.cost,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": reply.reasoning_tokens},
    }


def completion_body(reply: Reply, envelope: Envelope) -> dict[str, Any]:
    """A ``chat.completion`` object (also a batch output line's ``response.body``)."""
    return {
        "id": envelope.id,
        "object": "chat.completion",
        "created": envelope.created,
        "model": envelope.model,
        "choices": [_message_choice(c, envelope.reasoning_field) for c in reply.choices],
        "usage": usage(reply),
    }


def completion_plan(reply: Reply, envelope: Envelope, latency: Latency) -> Plan:
    """A ``chat.completion`` JSON response, delayed by the whole generation time."""
    body = completion_body(reply, envelope)
    longest = max(_deltas(c) for c in reply.choices)
    delay = latency.ttft + latency.interval * max(longest - 1, 0)
    return attrs.evolve(json_plan(200, body), head_delay=delay)


def stream_plan(reply: Reply, envelope: Envelope, latency: Latency, include_usage: bool) -> Plan:
    """A ``text/event-stream`` response, one piece per SSE event."""
    chunks = _Chunks(envelope)
    per_choice = [_choice_events(chunks, c, latency) for c in reply.choices]
    pieces = list(_interleave(per_choice))
    if include_usage:
        pieces.append(Piece(chunks.usage(usage(reply))))
    pieces.append(Piece(DONE))
    return Plan(200, SSE_TYPE, tuple(pieces), sse=True)


def models_body(
    models: Iterable[str], context_length: int, embedding: Iterable[dict[str, Any]] = ()
) -> dict[str, Any]:
    """The ``GET /models`` list: chat models, then embedding models (already rendered)."""
    chat = [model_object(m, context_length) for m in models]
    return {"object": "list", "data": [*chat, *embedding]}


# DOS lists prices per token as strings (USD); vLLM adds `max_model_len`.
_PRICING = {"prompt": "0.00000010", "completion": "0.00000040"}


def model_object(model: str, context_length: int) -> dict[str, Any]:
    """One model as ``GET /models/{id}`` returns it: DOS's fields plus vLLM's."""
    return {
        "id": model,
        "object": "model",
        "created": _MODEL_CREATED,
        "owned_by": "dos",
        "type": "chat",
        "context_length": context_length,
        "pricing": dict(_PRICING),
        "max_model_len": context_length,
    }


def _message_choice(choice: Choice, reasoning_field: str) -> dict[str, Any]:
    """One non-streaming choice; vLLM sends ``tool_calls: []`` when there are none."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if choice.content is None else "".join(choice.content),
        "refusal": None,
        "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in choice.tool_calls
        ],
        reasoning_field: "".join(choice.reasoning) if choice.reasoning else None,
    }
    return {
        "index": choice.index,
        "message": message,
        "logprobs": None,
        "finish_reason": choice.finish_reason,
        "stop_reason": choice.stop_reason,
    }


def _deltas(choice: Choice) -> int:
    """How many deltas the choice streams (tool calls add their header delta)."""
    return choice.tokens + len(choice.tool_calls)


class _Chunks:
    """Byte templates for the chunks of one stream."""

    def __init__(self, envelope: Envelope) -> None:
        head = {
            "id": envelope.id,
            "object": "chat.completion.chunk",
            "created": envelope.created,
            "model": envelope.model,
        }
        self.head = b"data: " + orjson.dumps(head)[:-1]
        self.choice = self.head + b',"choices":[{"index":'
        self.reasoning_field = envelope.reasoning_field

    def delta(self, index: int, delta: dict[str, Any]) -> bytes:
        """A chunk carrying one delta for choice ``index``."""
        body = b'%d,"delta":%b,"logprobs":null,"finish_reason":null}]}\n\n'
        return self.choice + body % (index, orjson.dumps(delta))

    def finish(self, choice: Choice) -> bytes:
        """The chunk that ends a choice: empty delta, finish and stop reasons."""
        body = b'%d,"delta":{},"logprobs":null,"finish_reason":%b,"stop_reason":%b}]}\n\n'
        reasons = (orjson.dumps(choice.finish_reason), orjson.dumps(choice.stop_reason))
        return self.choice + body % (choice.index, *reasons)

    def usage(self, value: dict[str, Any]) -> bytes:
        """The last chunk when ``include_usage`` is set: no choices, only usage."""
        return self.head + b',"choices":[],"usage":' + orjson.dumps(value) + b"}\n\n"


def _choice_events(chunks: _Chunks, choice: Choice, latency: Latency) -> list[Piece]:
    """One choice's events, each with the pause that precedes it."""
    role = Piece(chunks.delta(choice.index, {"role": "assistant", "content": ""}), latency.ttft)
    deltas = [chunks.delta(choice.index, d) for d in _choice_deltas(choice, chunks)]
    paced = [Piece(d, latency.interval if i else 0.0) for i, d in enumerate(deltas)]
    return [role, *paced, Piece(chunks.finish(choice))]


def _choice_deltas(choice: Choice, chunks: _Chunks) -> Iterable[dict[str, Any]]:
    """The delta objects of one choice, in stream order."""
    for text in choice.reasoning:
        yield {chunks.reasoning_field: text}
    for text in choice.content or ():
        yield {"content": text}
    for index, call in enumerate(choice.tool_calls):
        function = {"name": call.name, "arguments": ""}
        yield {
            "tool_calls": [
                {"index": index, "id": call.id, "type": "function", "function": function}
            ]
        }
        for fragment in call.fragments:
            yield {"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}


def _interleave(per_choice: Sequence[list[Piece]]) -> Iterable[Piece]:
    """Events of several choices by position; a position waits for its slowest event."""
    if len(per_choice) == 1:
        yield from per_choice[0]
        return
    for position in zip_longest(*per_choice):
        present = [piece for piece in position if piece is not None]
        delay = max(piece.delay for piece in present)
        yield Piece(present[0].data, delay)
        yield from (Piece(piece.data) for piece in present[1:])
