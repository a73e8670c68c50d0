"""``dosai chat PROMPT``: stream one answer live, reasoning apart, then its stats.

The answer goes to stdout as it arrives: one write and one flush per delta, never a whole
line at a time. The reasoning (dimmed), the stats line and notes go to stderr, so
``dosai chat ... > answer.txt`` keeps the answer only. ``--raw`` prints every chunk as one
JSON line on stdout instead of the text.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from dosai_async import (
    ChatCompletionChunk,
    ChatCompletionMessageParam,
    CompletionParams,
    StreamStats,
)

from ._common import add_client_options, console, open_client, plain

if TYPE_CHECKING:
    from rich.console import Console


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``dosai chat``."""
    parser = subparsers.add_parser(
        "chat",
        help="stream an answer to a prompt, with live stats",
        description="Stream an answer to PROMPT as it is generated, then print the time to "
        "first token, the token count and tokens per second.",
    )
    parser.add_argument("prompt", help="what to ask")
    add_client_options(parser)
    parser.add_argument("--model", default="dos-ai", help="model id (default: dos-ai)")
    parser.add_argument("--system", metavar="TEXT", help="a system prompt")
    parser.add_argument("--temperature", type=float, metavar="F", help="sampling temperature")
    parser.add_argument("--max-tokens", type=int, metavar="N", help="limit the reply's length")
    thinking = parser.add_mutually_exclusive_group()
    thinking.add_argument(
        "--think", action="store_true", help="ask the model to think before answering"
    )
    thinking.add_argument(
        "--no-reasoning", action="store_true", help="ask the model not to think (faster answer)"
    )
    parser.add_argument(
        "--hide-reasoning", action="store_true", help="let the model think, but do not show it"
    )
    parser.add_argument(
        "--raw", action="store_true", help="print each chunk as a JSON line instead of text"
    )
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    """Stream the answer, then print its stats line."""
    err = console(stderr=True)
    show_reasoning = not (args.hide_reasoning or args.no_reasoning)
    view: _View = _Raw(show_reasoning) if args.raw else _Live(err, show_reasoning)
    async with (
        open_client(args, reasoning=not args.no_reasoning) as client,
        client.chat.completions.stream(
            model=args.model,
            messages=_messages(args),
            **_options(args),
        ) as stream,
    ):
        try:
            async for chunk in stream:
                view.show(chunk)
        finally:
            view.end()  # also on errors, so the error line starts on a line of its own
        err.print(stats_line(stream.stats, view.finish_reason), style="cyan")
    return 0


def _messages(args: argparse.Namespace) -> list[ChatCompletionMessageParam]:
    messages: list[ChatCompletionMessageParam] = []
    if args.system:
        messages.append({"role": "system", "content": args.system})
    messages.append({"role": "user", "content": args.prompt})
    return messages


def _options(args: argparse.Namespace) -> CompletionParams:
    """Usage on the last chunk, and only the options the user set (else server defaults)."""
    options = CompletionParams(stream_options={"include_usage": True})
    if args.temperature is not None:
        options["temperature"] = args.temperature
    if args.max_tokens is not None:
        options["max_tokens"] = args.max_tokens
    # Qwen's chat-template switch; unsent, the server's default (thinking on) applies.
    if args.think or args.no_reasoning:
        options["chat_template_kwargs"] = {"enable_thinking": bool(args.think)}
    return options


def stats_line(stats: StreamStats, finish_reason: str | None) -> str:
    """``TTFT 0.21 s · 34 tokens · 160.2 tokens/s``: tokens from usage, else chunks."""
    parts = []
    if stats.time_to_first_token is not None:
        parts.append(f"TTFT {stats.time_to_first_token:.2f} s")
    if stats.completion_tokens is not None:
        count, unit, rate = stats.completion_tokens, "tokens", stats.tokens_per_second
    else:  # the server sent no usage: chunks are the closest measure
        count, unit, rate = stats.chunks, "chunks", _chunk_rate(stats)
    parts.append(f"{count} {unit}")
    if rate:
        parts.append(f"{rate:.1f} {unit}/s")
    if finish_reason == "length":
        parts.append("stopped at the token limit")
    return " · ".join(parts)


def _chunk_rate(stats: StreamStats) -> float | None:
    if stats.time_to_first_token is None or stats.elapsed <= stats.time_to_first_token:
        return None
    return stats.chunks / (stats.elapsed - stats.time_to_first_token)


class _View:
    """How chunks are shown; remembers choice 0's finish reason."""

    finish_reason: str | None = None

    def show(self, chunk: ChatCompletionChunk) -> None:
        for choice in chunk.choices:
            if choice.index == 0 and choice.finish_reason:
                self.finish_reason = choice.finish_reason

    def end(self) -> None:
        """Finish the output (the stream ended or failed)."""


class _Live(_View):
    """Answer text to stdout and reasoning (dimmed) to stderr, delta by delta."""

    def __init__(self, err: Console, show_reasoning: bool) -> None:
        self._err = err
        self._show_reasoning = show_reasoning
        self._open: str | None = None  # "reasoning" or "content": the unfinished line

    def show(self, chunk: ChatCompletionChunk) -> None:
        super().show(chunk)
        for choice in chunk.choices:
            if choice.index != 0:
                continue  # one answer on a terminal; n > 1 is for --raw
            thought = choice.delta.reasoning or choice.delta.reasoning_content
            if thought and self._show_reasoning:
                self._reasoning(thought)
            if choice.delta.content:
                self._content(choice.delta.content)

    def _reasoning(self, text: str) -> None:
        self._err.print(text, style="dim italic", end="", markup=False)
        self._open = "reasoning"

    def _content(self, text: str) -> None:
        if self._open == "reasoning":
            self._err.print("\n")  # a blank line between the thinking and the answer
        sys.stdout.write(text)
        sys.stdout.flush()
        self._open = "content"

    def end(self) -> None:
        if self._open == "reasoning":
            self._err.print()
        elif self._open == "content":
            sys.stdout.write("\n")
            sys.stdout.flush()
        self._open = None


class _Raw(_View):
    """Every chunk as one JSON line on stdout; without reasoning if it is hidden."""

    def __init__(self, show_reasoning: bool) -> None:
        self._show_reasoning = show_reasoning

    def show(self, chunk: ChatCompletionChunk) -> None:
        super().show(chunk)
        data: Any = plain(chunk)
        if not self._show_reasoning and not _drop_reasoning(data):
            return  # the chunk carried only thinking: nothing of it is left to print
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        sys.stdout.flush()


_REASONING_KEYS = ("reasoning", "reasoning_content")


def _drop_reasoning(data: dict[str, Any]) -> bool:
    """Remove the reasoning from a plain chunk; whether anything worth a line is left.

    A chunk is dropped only when it had reasoning and nothing else: no other delta field
    (the role is kept, as the stream's first chunk), no finish reason and no usage.
    """
    had = False
    for choice in data.get("choices", ()):
        delta = choice.get("delta", {})
        for key in _REASONING_KEYS:
            had = delta.pop(key, None) is not None or had
    if not had:
        return True
    return bool(data.get("usage")) or any(_has_more(c) for c in data.get("choices", ()))


def _has_more(choice: dict[str, Any]) -> bool:
    return bool(choice.get("delta")) or choice.get("finish_reason") is not None
