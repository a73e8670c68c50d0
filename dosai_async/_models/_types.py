"""Typed models of the DOS AI wire format: dumb frozen attrs classes, no JSON logic.

All (de)serialization goes through the one converter in ``_converter``. Rules:

- Server-controlled open sets (``finish_reason``, ``role``, ``type``) are plain ``str``, so a
  new value (vLLM's ``abort`` or ``repetition``) never breaks parsing.
- Every response model has ``extra``: the fields the server sent that this version does not
  model (vendor extras such as ``x_groq`` or ``stop_reason`` variants). Nothing is lost, and
  unstructuring puts them back.
- Both reasoning fields are modelled and kept apart: ``reasoning`` (vLLM >= 0.17, Groq,
  OpenRouter) and ``reasoning_content`` (older vLLM, SGLang, DeepSeek, DashScope).
- Every response model is a ``WireModel`` (``_base``): openai's ``to_dict``, ``to_json``,
  ``model_dump`` and ``model_dump_json`` methods, and no state of its own.
- Request-side classes (``UserMessage``...) are optional sugar: plain dicts work everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

import attrs

from dosai_async._core._meta import ResponseMeta as ResponseMeta

from ._base import WireModel
from ._codegen import NO_EXTRA as NO_EXTRA
from ._messages import ChatCompletionMessageParam


def _extra() -> Any:
    return attrs.field(default=NO_EXTRA, kw_only=True, repr=False)


# --- usage -----------------------------------------------------------------------------


@attrs.frozen
class PromptTokensDetails(WireModel):
    """Breakdown of prompt tokens; ``cached_tokens`` were served from the prefix cache."""

    cached_tokens: int | None = None
    audio_tokens: int | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class CompletionTokensDetails(WireModel):
    """Breakdown of completion tokens; ``reasoning_tokens`` were spent thinking."""

    reasoning_tokens: int | None = None
    accepted_prediction_tokens: int | None = None
    rejected_prediction_tokens: int | None = None
    audio_tokens: int | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class CompletionUsage(WireModel):
    """Token counts of one call; ``cost`` is the DOS charge in USD when the gateway sends it."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost: float | None = None
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None
    extra: Mapping[str, Any] = _extra()


# --- logprobs ----------------------------------------------------------------------------


@attrs.frozen
class TopLogprob(WireModel):
    """One alternative token at a position."""

    token: str
    logprob: float
    bytes: list[int] | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class ChatCompletionTokenLogprob(WireModel):
    """A sampled token with its log probability and the most likely alternatives."""

    token: str
    logprob: float
    bytes: list[int] | None = None
    top_logprobs: list[TopLogprob] = attrs.field(factory=list)
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class ChoiceLogprobs(WireModel):
    """Log probabilities of a choice's content (and refusal) tokens."""

    content: list[ChatCompletionTokenLogprob] | None = None
    refusal: list[ChatCompletionTokenLogprob] | None = None
    extra: Mapping[str, Any] = _extra()


# --- completions -------------------------------------------------------------------------


@attrs.frozen
class ToolCallFunction(WireModel):
    """The function a tool call invokes; ``arguments`` is a JSON string, as on the wire."""

    name: str
    arguments: str = ""
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class ChatCompletionMessageToolCall(WireModel):
    """A tool call in an assistant message."""

    id: str
    function: ToolCallFunction
    type: str = "function"
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class ChatCompletionMessage(WireModel):
    """The assistant's message. ``content`` may be ``None`` or ``""`` with tool calls."""

    role: str = "assistant"
    content: str | None = None
    refusal: str | None = None
    reasoning: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[ChatCompletionMessageToolCall] | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class Choice(WireModel):
    """One choice of a completion. ``finish_reason`` is an open set (stop, length, ...)."""

    index: int = 0
    message: ChatCompletionMessage = attrs.field(factory=ChatCompletionMessage)
    finish_reason: str | None = None
    logprobs: ChoiceLogprobs | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class ChatCompletion(WireModel):
    """A chat completion. ``response`` holds the status, headers and ``x-request-id``."""

    id: str = ""
    choices: list[Choice] = attrs.field(factory=list)
    created: int = 0
    model: str = ""
    object: str = "chat.completion"
    usage: CompletionUsage | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    extra: Mapping[str, Any] = _extra()
    response: ResponseMeta | None = attrs.field(default=None, kw_only=True, repr=False, eq=False)

    @property
    def request_id(self) -> str | None:
        """The server's ``x-request-id``, if it sent one."""
        return self.response.request_id if self.response else None


# --- streaming chunks --------------------------------------------------------------------


@attrs.frozen
class ChoiceDeltaToolCallFunction(WireModel):
    """A fragment of a streamed tool call's function: name first, then argument pieces."""

    name: str | None = None
    arguments: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class ChoiceDeltaToolCall(WireModel):
    """A fragment of a streamed tool call, keyed by ``index``."""

    index: int = 0
    id: str | None = None
    type: str | None = None
    function: ChoiceDeltaToolCallFunction | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(slots=False)  # built per event: see _codegen._dict_setter
class ChoiceDelta(WireModel):
    """What one chunk adds to a choice."""

    role: str | None = None
    content: str | None = None
    reasoning: str | None = None
    reasoning_content: str | None = None
    refusal: str | None = None
    tool_calls: list[ChoiceDeltaToolCall] | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class ChunkChoice(WireModel):
    """One choice's delta within a chunk."""

    index: int = 0
    delta: ChoiceDelta = attrs.field(factory=ChoiceDelta)
    finish_reason: str | None = None
    logprobs: ChoiceLogprobs | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(slots=False)  # built per event: see _codegen._dict_setter
class ChatCompletionChunk(WireModel):
    """One streamed event. ``usage`` may arrive on any chunk, often one with no choices."""

    id: str = ""
    choices: list[ChunkChoice] = attrs.field(factory=list)
    created: int = 0
    model: str = ""
    object: str = "chat.completion.chunk"
    usage: CompletionUsage | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    extra: Mapping[str, Any] = _extra()


# --- models endpoint ---------------------------------------------------------------------


@attrs.frozen
class Model(WireModel):
    """A model served by the API. DOS adds ``context_length`` and ``pricing`` (string values)."""

    id: str
    object: str = "model"
    created: int = 0
    owned_by: str | None = None
    context_length: int | None = None
    pricing: dict[str, Any] | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class ModelList(WireModel):
    """The answer of ``GET /models``; iterating it yields the models."""

    data: list[Model] = attrs.field(factory=list)
    object: str = "list"
    extra: Mapping[str, Any] = _extra()

    def __iter__(self) -> Iterator[Model]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


# --- request-side sugar ------------------------------------------------------------------


@attrs.frozen
class TextContentPart:
    """A text part of a message's content list."""

    text: str
    type: Literal["text"] = "text"


@attrs.frozen
class ImageURL:
    """An image reference: an https URL or a ``data:`` URL."""

    url: str
    detail: str | None = None


@attrs.frozen
class ImageURLContentPart:
    """An image part of a user message's content list."""

    image_url: ImageURL
    type: Literal["image_url"] = "image_url"


ContentPart = TextContentPart | ImageURLContentPart


@attrs.frozen
class SystemMessage:
    """A system prompt."""

    content: str | list[TextContentPart]
    name: str | None = None
    role: Literal["system"] = "system"


@attrs.frozen
class UserMessage:
    """A user turn: text, or a list of text and image parts."""

    content: str | list[ContentPart]
    name: str | None = None
    role: Literal["user"] = "user"


@attrs.frozen
class AssistantMessage:
    """An earlier assistant turn, possibly with the tool calls it made."""

    content: str | list[TextContentPart] | None = None
    name: str | None = None
    tool_calls: list[ChatCompletionMessageToolCall] | None = None
    role: Literal["assistant"] = "assistant"


@attrs.frozen
class ToolMessage:
    """The result of a tool call, sent back with the call's id."""

    content: str | list[TextContentPart]
    tool_call_id: str
    role: Literal["tool"] = "tool"


@attrs.frozen
class FunctionDefinition:
    """A function the model may call; ``parameters`` is a JSON Schema object."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


@attrs.frozen
class FunctionTool:
    """A ``tools`` entry."""

    function: FunctionDefinition
    type: Literal["function"] = "function"


#: Anything accepted as one message of ``messages=``: a message dict (checked by mypy
#: against openai's ``TypedDict`` s) or one of the message classes above. At run time any
#: mapping is sent as it is.
MessageParam = (
    ChatCompletionMessageParam
    | SystemMessage
    | UserMessage
    | AssistantMessage
    | ToolMessage
    | ChatCompletionMessage
)
