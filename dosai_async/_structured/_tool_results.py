"""What the tool loop ends with: ``ToolRunResult``, and the errors of tool calls and rounds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import attrs

from dosai_async._core._exceptions import PUBLIC_MODULE, DosAIError
from dosai_async._models._types import ChatCompletion, ChatCompletionMessageToolCall, MessageParam

__all__ = [
    "ToolArgumentsError",
    "ToolCallError",
    "ToolErrorMode",
    "ToolRoundLimitError",
    "ToolRunResult",
]


class ToolCallError(DosAIError):
    """A tool call that could not be completed; ``__cause__`` is what the tool raised.

    ``name`` is the tool's name and ``tool_call`` the model's call (``None`` when raised by
    ``FunctionToolSpec.parse_arguments`` outside the loop).
    """

    __module__ = PUBLIC_MODULE

    def __init__(
        self, message: str, *, name: str, tool_call: ChatCompletionMessageToolCall | None = None
    ) -> None:
        super().__init__(message)
        self.name = name
        self.tool_call = tool_call


class ToolArgumentsError(ToolCallError):
    """The model's side of a failed call: unknown tool, or arguments that do not fit."""

    __module__ = PUBLIC_MODULE


class ToolRoundLimitError(DosAIError):
    """``max_rounds`` requests were made and the model still asked for tools.

    ``messages`` is the conversation so far (valid to send again, e.g. with a higher
    limit), ``completion`` the last reply with its pending ``tool_calls``.
    """

    __module__ = PUBLIC_MODULE

    def __init__(
        self, message: str, *, messages: list[MessageParam], completion: ChatCompletion
    ) -> None:
        super().__init__(message)
        self.messages = messages
        self.completion = completion


#: ``on_tool_error``: report failures to the model, raise them, or format the report.
ToolErrorMode = Literal["report", "raise"] | Callable[[ToolCallError], str]


@attrs.frozen
class ToolRunResult:
    """The end of a tool loop: the final completion and the whole conversation.

    ``messages`` holds the messages given, then every assistant message and tool result,
    then the final assistant message: append a user message to continue. ``rounds`` counts
    the requests made.
    """

    completion: ChatCompletion
    messages: list[MessageParam]
    rounds: int

    @property
    def content(self) -> str | None:
        """The final answer's text."""
        return self.completion.choices[0].message.content
