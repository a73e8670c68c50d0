"""What ``parse()`` returns: completions whose messages and tool calls carry parsed values.

The parsed types subclass the plain ones (as in the OpenAI SDK), so a
``ParsedChatCompletion`` goes wherever a ``ChatCompletion`` does. They are built by copying a
plain completion (``_output``), never structured from JSON: ``parsed`` and
``parsed_arguments`` are the package's own fields, not the wire's.
"""

from __future__ import annotations

from typing import Generic, TypeVar

import attrs

from dosai_async._models._types import (
    ChatCompletion,
    ChatCompletionMessage,
    ChatCompletionMessageToolCall,
    Choice,
    ToolCallFunction,
)

__all__ = [
    "ParsedChatCompletion",
    "ParsedChatCompletionMessage",
    "ParsedChoice",
    "ParsedFunction",
    "ParsedFunctionToolCall",
]

T = TypeVar("T")


@attrs.frozen
class ParsedFunction(ToolCallFunction):
    """A tool call's function with ``parsed_arguments``: the arguments, validated.

    For a tool given to ``parse()`` as ``pydantic_function_tool(Model)`` or as a class, an
    instance of that class; for a ``tool(f)`` spec, the keyword arguments for ``f``; for a
    strict tool dict, the decoded JSON; otherwise ``None``.
    """

    parsed_arguments: object | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class ParsedFunctionToolCall(ChatCompletionMessageToolCall):
    """A tool call whose ``function`` carries ``parsed_arguments``."""

    function: ParsedFunction = attrs.field(kw_only=True)


@attrs.frozen
class ParsedChatCompletionMessage(ChatCompletionMessage, Generic[T]):
    """The assistant's message with ``parsed``: the content as ``T``, or ``None``.

    ``parsed`` is ``None`` when the model refused (``refusal`` says why) or called tools;
    its ``tool_calls`` carry ``function.parsed_arguments``.
    """

    # Narrowing a list's item type is not a subtype for mypy; the instance is never mutated.
    tool_calls: list[ParsedFunctionToolCall] | None = None  # type: ignore[assignment]
    parsed: T | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class ParsedChoice(Choice, Generic[T]):
    """A choice whose ``message`` carries the parsed content."""

    message: ParsedChatCompletionMessage[T] = attrs.field(
        factory=ParsedChatCompletionMessage, kw_only=True
    )


@attrs.frozen
class ParsedChatCompletion(ChatCompletion, Generic[T]):
    """A ``ChatCompletion`` whose choices carry ``message.parsed`` (see ``parse()``)."""

    # Narrowing a list's item type is not a subtype for mypy; the instance is never mutated.
    choices: list[ParsedChoice[T]] = attrs.field(factory=list)  # type: ignore[assignment]
