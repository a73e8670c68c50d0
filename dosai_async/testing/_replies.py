"""Deterministic replies: what the emulated model "says" for a validated request.

Every choice draws from its own RNG seeded by (model, seed, choice index, last user
message), so the same request and seed always give the same reply, another seed or index
gives another one, and no seed behaves like seed None (still deterministic, for tests).

A reply is, in order: optional reasoning (Qwen thinking, when the emulator or
``chat_template_kwargs.enable_thinking`` turns it on), then either tool calls or content.
Content is a canned answer for a few demo questions ("What is the capital of France?"), a
JSON text valid against ``response_format``, or, after a tool result, a sentence quoting it;
then generated sentences up to a length drawn from ``ReplyStyle.length`` tokens. ``stop`` cuts
the content before the first stop string; ``max_tokens`` then cuts reasoning, content and
tool arguments together, in that order (finish reason ``length``), as vLLM counts them.

Usage counts tokens (see ``_words.tokens``); ``cost`` uses made-up prices, ``_PRICE_IN`` and
``_PRICE_OUT`` dollars per token, since DOS publishes none for the emulator to copy.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ._request import ChatRequest, Tool
from ._schema import sample
from ._words import sentences, tokens

__all__ = ["Choice", "Reply", "ReplyStyle", "ToolCall", "make_reply", "prompt_tokens"]

_PRICE_IN = 0.10e-6
_PRICE_OUT = 0.40e-6
_EMPTY_OBJECT: Mapping[str, Any] = {"type": "object", "properties": {}}
_CANNED: Sequence[tuple[tuple[str, ...], str]] = (
    (("capital", "france"), "The capital of France is Paris."),
    (("capital", "japan"), "The capital of Japan is Tokyo."),
    (("capital", "vietnam"), "The capital of Vietnam is Hanoi."),
    (("2+2",), "2 + 2 = 4."),
    (("2 + 2",), "2 + 2 = 4."),
    (("hello",), "Hello! How can I help you today?"),
    (("joke",), "Why do programmers prefer dark mode? Because light attracts bugs."),
)


@attrs.frozen
class ReplyStyle:
    """Emulator-wide reply settings: thinking on by default, and reply length in tokens."""

    reasoning: bool = False
    length: tuple[int, int] = (20, 40)


@attrs.frozen
class ToolCall:
    """One tool call; ``fragments`` are the argument pieces as they are streamed."""

    id: str
    name: str
    fragments: tuple[str, ...]

    @property
    def arguments(self) -> str:
        """The arguments JSON text."""
        return "".join(self.fragments)


@attrs.frozen
class Choice:
    """One choice as token lists; ``content`` is None when the choice calls tools."""

    index: int
    reasoning: tuple[str, ...]
    content: tuple[str, ...] | None
    tool_calls: tuple[ToolCall, ...]
    finish_reason: str
    stop_reason: str | None = None

    @property
    def tokens(self) -> int:
        """Completion tokens of this choice, reasoning included."""
        calls = sum(len(call.fragments) for call in self.tool_calls)
        return len(self.reasoning) + len(self.content or ()) + calls


@attrs.frozen
class Reply:
    """Everything the model produced for one request."""

    model: str
    choices: tuple[Choice, ...]
    prompt_tokens: int

    @property
    def completion_tokens(self) -> int:
        """Tokens over all choices."""
        return sum(choice.tokens for choice in self.choices)

    @property
    def reasoning_tokens(self) -> int:
        """Reasoning tokens over all choices."""
        return sum(len(choice.reasoning) for choice in self.choices)

    @property
    def cost(self) -> float:
        """Price of the request in USD (made-up prices, see the module docstring)."""
        return round(self.prompt_tokens * _PRICE_IN + self.completion_tokens * _PRICE_OUT, 10)


def prompt_tokens(request: ChatRequest) -> int:
    """Tokens in the text of every message."""
    return len(tokens(request.conversation))


def make_reply(request: ChatRequest, model: str, style: ReplyStyle) -> Reply:
    """The reply to ``request``, reported as coming from ``model``."""
    choices = tuple(_choice(request, style, index) for index in range(request.n))
    return Reply(model, choices, prompt_tokens(request))


def _choice(request: ChatRequest, style: ReplyStyle, index: int) -> Choice:
    """One choice: reasoning, then tool calls or content, then the token budget."""
    rng = random.Random(f"{request.model}\0{request.seed}\0{index}\0{request.prompt}")
    target = rng.randint(*style.length)
    thinking = style.reasoning if request.thinking is None else request.thinking
    reasoning = tuple(tokens(_reasoning(request.prompt, rng, target))) if thinking else ()
    if request.calls:
        calls = tuple(_tool_call(tool, rng) for tool in request.calls)
        return _budget(Choice(index, reasoning, None, calls, "tool_calls"), request.max_tokens)
    text, stop_reason = _stopped(_answer(request, rng, target), request.stop)
    choice = Choice(index, reasoning, tuple(tokens(text)), (), "stop", stop_reason)
    return _budget(choice, request.max_tokens)


def _reasoning(prompt: str, rng: random.Random, target: int) -> str:
    """Qwen-style thinking that restates the question."""
    return f'Okay, the user asks: "{_excerpt(prompt)}". ' + sentences(rng, target // 2)


def _answer(request: ChatRequest, rng: random.Random, target: int) -> str:
    """The content text before ``stop`` and ``max_tokens`` apply."""
    if request.schema is not None:
        return json.dumps(sample(request.schema, rng, "answer"), ensure_ascii=False)
    if request.tool_result is not None:
        opening = f"Based on the tool result: {_excerpt(request.tool_result)}."
    else:
        opening = _canned(request.prompt)
    return f"{opening} {sentences(rng, target - len(tokens(opening)))}".lstrip()


def _canned(prompt: str) -> str:
    """A fixed opening for a few demo questions, else nothing."""
    lowered = prompt.lower()
    for keys, answer in _CANNED:
        if all(key in lowered for key in keys):
            return answer
    return ""


def _excerpt(text: str, limit: int = 80) -> str:
    """The text on one line, shortened to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _tool_call(tool: Tool, rng: random.Random) -> ToolCall:
    """A call whose arguments are valid against the tool's ``parameters`` schema."""
    arguments = sample(tool.parameters or _EMPTY_OBJECT, rng, tool.name)
    text = json.dumps(arguments, ensure_ascii=False)
    return ToolCall(f"chatcmpl-tool-{rng.getrandbits(64):016x}", tool.name, tuple(tokens(text)))


def _stopped(text: str, stops: Sequence[str]) -> tuple[str, str | None]:
    """Cut ``text`` before the earliest stop string; also return which one matched."""
    hits = [(text.find(stop), stop) for stop in stops if stop in text]
    if not hits:
        return text, None
    position, stop = min(hits)
    return text[:position], stop


def _budget(choice: Choice, max_tokens: int | None) -> Choice:
    """Spend ``max_tokens`` on reasoning, then content or tool arguments; ``length`` if short."""
    if max_tokens is None or choice.tokens <= max_tokens:
        return choice
    reasoning = choice.reasoning[:max_tokens]
    left = max_tokens - len(reasoning)
    content = None if choice.content is None else choice.content[:left]
    calls = []
    for call in choice.tool_calls:
        kept = call.fragments[: max(left, 0)]
        left -= len(kept)
        if kept:
            calls.append(attrs.evolve(call, fragments=kept))
    return Choice(choice.index, reasoning, content, tuple(calls), "length")
