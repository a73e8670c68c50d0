"""Message parameters as ``TypedDict`` s, under openai's names: plain dicts, checked by mypy.

``{"role": "user", "content": "hi"}`` type-checks as a ``ChatCompletionUserMessageParam``;
``{"role": "usr", ...}`` or a tool message without ``tool_call_id`` is a mypy error, as it
is with openai's types. At run time they are ordinary dicts, sent as they are. Content lists
are ``Sequence`` s (openai says ``Iterable``): the body is serialized as is, and a generator
would not survive that. The roles are the four DOS serves; openai's ``developer`` role is
not among them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Required, TypeAlias, TypedDict


class ChatCompletionContentPartTextParam(TypedDict, total=False):
    """A text part of a message's content list."""

    text: Required[str]
    type: Required[Literal["text"]]


class ImageURLParam(TypedDict, total=False):
    """An image reference: an https URL or a ``data:`` URL."""

    url: Required[str]
    detail: Literal["auto", "low", "high"]


class ChatCompletionContentPartImageParam(TypedDict, total=False):
    """An image part of a user message's content list."""

    image_url: Required[ImageURLParam]
    type: Required[Literal["image_url"]]


ChatCompletionContentPartParam: TypeAlias = (
    ChatCompletionContentPartTextParam | ChatCompletionContentPartImageParam
)


class FunctionCallParam(TypedDict, total=False):
    """The function of an earlier tool call: its name and its JSON ``arguments`` string."""

    name: Required[str]
    arguments: Required[str]


class ChatCompletionMessageToolCallParam(TypedDict, total=False):
    """A tool call of an earlier assistant message."""

    id: Required[str]
    type: Required[Literal["function"]]
    function: Required[FunctionCallParam]


class ChatCompletionSystemMessageParam(TypedDict, total=False):
    """A system prompt."""

    content: Required[str | Sequence[ChatCompletionContentPartTextParam]]
    role: Required[Literal["system"]]
    name: str


class ChatCompletionUserMessageParam(TypedDict, total=False):
    """A user turn: text, or a list of text and image parts."""

    content: Required[str | Sequence[ChatCompletionContentPartParam]]
    role: Required[Literal["user"]]
    name: str


class ChatCompletionAssistantMessageParam(TypedDict, total=False):
    """An earlier assistant turn, possibly with the tool calls it made."""

    role: Required[Literal["assistant"]]
    content: str | Sequence[ChatCompletionContentPartTextParam] | None
    name: str
    refusal: str | None
    tool_calls: Sequence[ChatCompletionMessageToolCallParam]


class ChatCompletionToolMessageParam(TypedDict, total=False):
    """The result of a tool call, sent back with the call's id."""

    content: Required[str | Sequence[ChatCompletionContentPartTextParam]]
    role: Required[Literal["tool"]]
    tool_call_id: Required[str]


#: One message as a plain dict (openai's ``ChatCompletionMessageParam``).
ChatCompletionMessageParam: TypeAlias = (
    ChatCompletionSystemMessageParam
    | ChatCompletionUserMessageParam
    | ChatCompletionAssistantMessageParam
    | ChatCompletionToolMessageParam
)
