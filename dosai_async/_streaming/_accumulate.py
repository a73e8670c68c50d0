"""Merge ``ChatCompletionChunk`` objects into one ``ChatCompletion`` (pure, no I/O).

Rules, shared by every OpenAI-compatible server we have recordings of:

- choices are keyed by ``index`` (n > 1 streams interleave);
- string fields (``content``, ``reasoning``, ``reasoning_content``, ``refusal``) are
  concatenated, ``null`` ignored; each stays ``None`` if never a string. The two reasoning
  fields are kept apart, never merged (some vLLM builds send both with the same text);
- tool calls are keyed by ``index``: ``arguments`` concatenate, and the first non-empty
  ``id``, ``type`` and ``function.name`` win (DashScope repeats ``"id": ""`` and Mistral-hosted
  GLM ``"name": ""`` in later fragments);
- ``finish_reason`` is the last non-null value; ``usage`` the last non-null object, on any
  chunk; logprob token lists concatenate in order;
- ``system_fingerprint`` and ``service_tier`` are the last non-null values (vLLM sends the
  fingerprint only on the last chunks); ``id``, ``created`` and ``model`` come from the first;
- unknown fields (``extra``) of chunks, choices and deltas go to the completion, its choices
  and their messages: a list concatenates (vLLM's per-chunk ``token_ids``), any other value
  is the last non-null one, and a null only stands for a key never seen with a value (vLLM's
  ``stop_reason: null``). Merging runs only for chunks that carry such fields.

Strings are collected as pieces and joined in ``snapshot()``: appending is O(1) per chunk,
where ``+=`` on a growing string would copy it every time; every 64 pieces are folded into
one block so a long stream does not keep one small string object per delta.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from dosai_async._models._types import (
    NO_EXTRA,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    ChatCompletionMessageToolCall,
    ChatCompletionTokenLogprob,
    Choice,
    ChoiceDelta,
    ChoiceDeltaToolCall,
    ChoiceLogprobs,
    CompletionUsage,
    ResponseMeta,
    ToolCallFunction,
)


class _ToolCallState:
    __slots__ = ("arguments", "id", "name", "type")

    def __init__(self) -> None:
        self.id = ""
        self.type = ""
        self.name = ""
        self.arguments: list[str] = []

    def add(self, fragment: ChoiceDeltaToolCall) -> None:
        if fragment.id and not self.id:
            self.id = fragment.id
        if fragment.type and not self.type:
            self.type = fragment.type
        function = fragment.function
        if function is not None:
            if function.name and not self.name:
                self.name = function.name
            if function.arguments:
                self.arguments.append(function.arguments)

    def build(self) -> ChatCompletionMessageToolCall:
        function = ToolCallFunction(name=self.name, arguments="".join(self.arguments))
        return ChatCompletionMessageToolCall(
            id=self.id, function=function, type=self.type or "function"
        )


class _Extra:
    """Unknown fields merged across chunks (the rules are in the module docstring).

    vLLM puts ``token_ids: null`` on every choice of every chunk, so merging must cost next
    to nothing when a chunk repeats what the last one said: ``seen`` is the mapping merged
    last, and merging an equal one again changes nothing unless it held a list (then
    ``seen`` is None, so every such mapping is merged).
    """

    __slots__ = ("seen", "values")

    def __init__(self) -> None:
        self.values: dict[str, Any] | None = None  # made by the first add: most streams have none
        self.seen: Mapping[str, Any] | None = None

    def add(self, extra: Mapping[str, Any]) -> None:
        values = self.values
        if values is None:
            values = self.values = {}
        self.seen = extra
        for key, value in extra.items():
            if value is None:
                values.setdefault(key, None)
            elif value.__class__ is list:
                self.seen = None
                held = values.get(key)
                if held.__class__ is list:
                    held.extend(value)
                else:
                    values[key] = list(value)  # our own copy: later lists extend it
            else:
                values[key] = value

    def mapping(self) -> Mapping[str, Any]:
        if not self.values:
            return NO_EXTRA
        # A copy, lists included: a partial snapshot must not change as the stream goes on.
        copy = {k: list(v) if v.__class__ is list else v for k, v in self.values.items()}
        return MappingProxyType(copy)


class _ChoiceState:
    __slots__ = (
        "content",
        "extra",
        "finish_reason",
        "logprobs_content",
        "logprobs_refusal",
        "message_extra",
        "reasoning",
        "reasoning_content",
        "refusal",
        "role",
        "tool_calls",
    )

    def __init__(self) -> None:
        self.role: str | None = None
        self.content: _Text | None = None
        self.reasoning: _Text | None = None
        self.reasoning_content: _Text | None = None
        self.refusal: _Text | None = None
        self.tool_calls: dict[int, _ToolCallState] = {}
        self.finish_reason: str | None = None
        self.logprobs_content: list[ChatCompletionTokenLogprob] | None = None
        self.logprobs_refusal: list[ChatCompletionTokenLogprob] | None = None
        self.extra = _Extra()
        self.message_extra = _Extra()

    def add(self, delta: ChoiceDelta) -> bool:
        """Merge one delta; True if it carried content (text, reasoning, refusal or tools)."""
        if delta.role and self.role is None:
            self.role = delta.role
        if delta.extra is not NO_EXTRA and delta.extra != self.message_extra.seen:
            self.message_extra.add(delta.extra)
        carried = False
        if delta.content is not None:
            self.content = _append(self.content, delta.content)
            carried = delta.content != ""
        if delta.reasoning is not None:
            self.reasoning = _append(self.reasoning, delta.reasoning)
            carried = True
        if delta.reasoning_content is not None:
            self.reasoning_content = _append(self.reasoning_content, delta.reasoning_content)
            carried = True
        if delta.refusal is not None:
            self.refusal = _append(self.refusal, delta.refusal)
            carried = True
        if delta.tool_calls:
            self._add_tool_calls(delta.tool_calls)
            carried = True
        return carried

    def _add_tool_calls(self, fragments: list[ChoiceDeltaToolCall]) -> None:
        for fragment in fragments:
            state = self.tool_calls.get(fragment.index)
            if state is None:
                state = self.tool_calls[fragment.index] = _ToolCallState()
            state.add(fragment)

    def add_logprobs(self, logprobs: ChoiceLogprobs) -> None:
        if logprobs.content is not None:
            self.logprobs_content = _extend(self.logprobs_content, logprobs.content)
        if logprobs.refusal is not None:
            self.logprobs_refusal = _extend(self.logprobs_refusal, logprobs.refusal)

    def build(self, index: int) -> Choice:
        calls = [self.tool_calls[i].build() for i in sorted(self.tool_calls)]
        message = ChatCompletionMessage(
            role=self.role or "assistant",
            content=_join(self.content),
            refusal=_join(self.refusal),
            reasoning=_join(self.reasoning),
            reasoning_content=_join(self.reasoning_content),
            tool_calls=calls or None,
            extra=self.message_extra.mapping(),
        )
        return Choice(
            index=index,
            message=message,
            finish_reason=self.finish_reason,
            logprobs=self._logprobs(),
            extra=self.extra.mapping(),
        )

    def _logprobs(self) -> ChoiceLogprobs | None:
        if self.logprobs_content is None and self.logprobs_refusal is None:
            return None
        return ChoiceLogprobs(content=self.logprobs_content, refusal=self.logprobs_refusal)


# Deltas are folded into one string per this many: a delta is often one short word, and a
# str object per word (about 56 bytes each) adds up across 1,000 concurrent streams.
_FOLD = 4


class _Text:
    """A growing string: appends are O(1), and every _FOLD deltas become one block."""

    __slots__ = ("blocks", "tail")

    def __init__(self, first: str) -> None:
        self.blocks: list[str] = []
        self.tail = [first]

    def fold(self) -> None:
        tail, blocks = self.tail, self.blocks
        block = "".join(tail)
        tail.clear()
        # Blocks of doubling sizes (a binary counter): a few string headers per stream, and
        # O(n log n) copying however long it runs.
        while blocks and len(blocks[-1]) <= len(block):
            block = blocks.pop() + block
        blocks.append(block)

    def value(self) -> str:
        return "".join(self.blocks) + "".join(self.tail)


def _append(text: _Text | None, delta: str) -> _Text:
    """Add ``delta`` to ``text`` (a new ``_Text`` if None); the append is inline, per chunk."""
    if text is None:
        return _Text(delta)
    tail = text.tail
    tail.append(delta)
    if len(tail) == _FOLD:
        text.fold()
    return text


def _extend(
    tokens: list[ChatCompletionTokenLogprob] | None, more: list[ChatCompletionTokenLogprob]
) -> list[ChatCompletionTokenLogprob]:
    if tokens is None:
        return list(more)
    tokens.extend(more)
    return tokens


def _join(text: _Text | None) -> str | None:
    return None if text is None else text.value()


class ChunkAccumulator:
    """Folds chunks into a ``ChatCompletion``; ``add`` is on the per-chunk hot path."""

    def __init__(self) -> None:
        self.chunks = 0
        self.usage: CompletionUsage | None = None
        self._choices: dict[int, _ChoiceState] = {}
        self._header: tuple[str, int, str] | None = None  # id, created, model: the first chunk's
        self._fingerprint: str | None = None
        self._tier: str | None = None
        self._extra = _Extra()

    def add(self, chunk: ChatCompletionChunk) -> bool:
        """Merge a chunk; True if it carried content or finished a choice."""
        self.chunks += 1
        if self._header is None:
            self._header = (chunk.id, chunk.created, chunk.model)
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.system_fingerprint is not None:
            self._fingerprint = chunk.system_fingerprint
        if chunk.service_tier is not None:
            self._tier = chunk.service_tier
        if chunk.extra is not NO_EXTRA and chunk.extra != self._extra.seen:
            self._extra.add(chunk.extra)
        carried = False
        for choice in chunk.choices:
            state = self._choices.get(choice.index)
            if state is None:
                state = self._choices[choice.index] = _ChoiceState()
            if state.add(choice.delta):
                carried = True
            if choice.finish_reason is not None:
                state.finish_reason = choice.finish_reason
                carried = True
            if choice.logprobs is not None:
                state.add_logprobs(choice.logprobs)
            if choice.extra is not NO_EXTRA and choice.extra != state.extra.seen:
                state.extra.add(choice.extra)
        return carried

    def all_finished(self) -> bool:
        """True when at least one choice exists and every choice has a finish_reason."""
        choices = self._choices.values()
        return bool(choices) and all(c.finish_reason is not None for c in choices)

    def snapshot(self, meta: ResponseMeta | None = None) -> ChatCompletion:
        """The accumulated result so far."""
        choices = [self._choices[i].build(i) for i in sorted(self._choices)]
        return ChatCompletion(
            choices=choices,
            usage=self.usage,
            system_fingerprint=self._fingerprint,
            service_tier=self._tier,
            extra=self._extra.mapping(),
            response=meta,
            **_header_fields(self._header),
        )


def _header_fields(header: tuple[str, int, str] | None) -> dict[str, Any]:
    """``id``, ``created`` and ``model`` of the first chunk (the model's defaults if none came)."""
    return {} if header is None else dict(zip(("id", "created", "model"), header, strict=True))
