"""dosai-async: an asyncio-first client for the DOS AI API.

Everything public is imported from here; the ``_``-modules are private. The names load on
first use (PEP 562), so ``import dosai_async`` (and the ``dosai`` command's start-up) costs
milliseconds, not the ~0.3 s of aiohttp, cattrs and the models.
"""

from __future__ import annotations

from importlib import import_module

from ._version import __version__

# typing.TYPE_CHECKING without importing typing (10 ms with re and collections); mypy and
# pyright read any ``TYPE_CHECKING`` name as true.
TYPE_CHECKING = False

if TYPE_CHECKING:  # what mypy and IDEs see: the real imports (tests/test_public_api.py
    # holds them, _HOMES + _ALIASES and __all__ to one set of names)
    from ._batch._fanout import Batch, BatchCallback, BatchRequests
    from ._batch._files import BatchProgress, BatchSummary, InvalidLine, run_batch_file
    from ._batch._hosted import HostedBatchSummary
    from ._batch._item import BatchItem, BatchStats
    from ._batch._preflight import CostEstimate, estimate_cost, preflight
    from ._client import AsyncDosAI
    from ._core._config import RetryPolicy, Timeout
    from ._core._exceptions import (
        APIConnectionError,
        APIError,
        APIStatusError,
        APIStreamError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ConflictError,
        ContextLengthExceededError,
        ContextWindowBadRequestError,
        DosAIError,
        InsufficientCreditsError,
        InternalServerError,
        NotFoundError,
        PermissionDeniedError,
        PreflightError,
        RateLimitError,
        ResponseValidationError,
        ServiceUnavailableError,
        UnprocessableEntityError,
    )
    from ._core._hooks import Hooks, RequestEvent, ResponseEvent, RetryEvent
    from ._models._account import Balance, KeyInfo, KeyRateLimit
    from ._models._base import WireModel
    from ._models._batches import Batch as BatchJob
    from ._models._batches import BatchRequestCounts
    from ._models._converter import to_dict
    from ._models._embeddings import CreateEmbeddingResponse, Embedding, EmbeddingUsage
    from ._models._files import FileDeleted, FileObject
    from ._models._messages import (
        ChatCompletionAssistantMessageParam,
        ChatCompletionContentPartImageParam,
        ChatCompletionContentPartParam,
        ChatCompletionContentPartTextParam,
        ChatCompletionMessageParam,
        ChatCompletionMessageToolCallParam,
        ChatCompletionSystemMessageParam,
        ChatCompletionToolMessageParam,
        ChatCompletionUserMessageParam,
        FunctionCallParam,
        ImageURLParam,
    )
    from ._models._params import CompletionParams, ParseParams, RequestOptions, ToolRunParams
    from ._models._types import (
        AssistantMessage,
        ChatCompletion,
        ChatCompletionChunk,
        ChatCompletionMessage,
        ChatCompletionMessageToolCall,
        ChatCompletionTokenLogprob,
        Choice,
        ChoiceDelta,
        ChoiceDeltaToolCall,
        ChoiceDeltaToolCallFunction,
        ChoiceLogprobs,
        ChunkChoice,
        CompletionTokensDetails,
        CompletionUsage,
        FunctionDefinition,
        FunctionTool,
        ImageURL,
        ImageURLContentPart,
        MessageParam,
        Model,
        ModelList,
        PromptTokensDetails,
        ResponseMeta,
        SystemMessage,
        TextContentPart,
        ToolCallFunction,
        ToolMessage,
        TopLogprob,
        UserMessage,
    )
    from ._resources._pages import AsyncPager
    from ._resources._raw import AsyncRawResponse, RawResponse, RawResponseManager
    from ._streaming._manager import AsyncStreamManager
    from ._streaming._stats import StreamStats
    from ._streaming._stream import AsyncStream
    from ._structured._output import ParsedStream, ParsedStreamManager, StructuredOutputError
    from ._structured._parsed import (
        ParsedChatCompletion,
        ParsedChatCompletionMessage,
        ParsedChoice,
        ParsedFunction,
        ParsedFunctionToolCall,
    )
    from ._structured._schema import (
        FunctionSpec,
        SchemaError,
        function_spec,
        json_schema,
        response_format_for,
    )
    from ._structured._tool_params import PydanticFunctionTool, pydantic_function_tool
    from ._structured._tools import (
        FunctionToolSpec,
        ToolArgumentsError,
        ToolCallError,
        ToolErrorMode,
        ToolRoundLimitError,
        ToolRunResult,
        tool,
    )

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "AssistantMessage",
    "AsyncDosAI",
    "AsyncPager",
    "AsyncRawResponse",
    "AsyncStream",
    "AsyncStreamManager",
    "AuthenticationError",
    "BadRequestError",
    "Balance",
    "Batch",
    "BatchCallback",
    "BatchItem",
    "BatchJob",
    "BatchProgress",
    "BatchRequestCounts",
    "BatchRequests",
    "BatchStats",
    "BatchSummary",
    "ChatCompletion",
    "ChatCompletionAssistantMessageParam",
    "ChatCompletionChunk",
    "ChatCompletionContentPartImageParam",
    "ChatCompletionContentPartParam",
    "ChatCompletionContentPartTextParam",
    "ChatCompletionMessage",
    "ChatCompletionMessageParam",
    "ChatCompletionMessageToolCall",
    "ChatCompletionMessageToolCallParam",
    "ChatCompletionSystemMessageParam",
    "ChatCompletionTokenLogprob",
    "ChatCompletionToolMessageParam",
    "ChatCompletionUserMessageParam",
    "Choice",
    "ChoiceDelta",
    "ChoiceDeltaToolCall",
    "ChoiceDeltaToolCallFunction",
    "ChoiceLogprobs",
    "ChunkChoice",
    "CompletionParams",
    "CompletionTokensDetails",
    "CompletionUsage",
    "ConflictError",
    "ContextLengthExceededError",
    "ContextWindowBadRequestError",
    "CostEstimate",
    "CreateEmbeddingResponse",
    "DosAIError",
    "Embedding",
    "EmbeddingUsage",
    "FileDeleted",
    "FileObject",
    "FunctionCallParam",
    "FunctionDefinition",
    "FunctionSpec",
    "FunctionTool",
    "FunctionToolSpec",
    "Hooks",
    "HostedBatchSummary",
    "ImageURL",
    "ImageURLContentPart",
    "ImageURLParam",
    "InsufficientCreditsError",
    "InternalServerError",
    "InvalidLine",
    "KeyInfo",
    "KeyRateLimit",
    "MessageParam",
    "Model",
    "ModelList",
    "NotFoundError",
    "ParseParams",
    "ParsedChatCompletion",
    "ParsedChatCompletionMessage",
    "ParsedChoice",
    "ParsedFunction",
    "ParsedFunctionToolCall",
    "ParsedStream",
    "ParsedStreamManager",
    "PermissionDeniedError",
    "PreflightError",
    "PromptTokensDetails",
    "PydanticFunctionTool",
    "RateLimitError",
    "RawResponse",
    "RawResponseManager",
    "RequestEvent",
    "RequestOptions",
    "ResponseEvent",
    "ResponseMeta",
    "ResponseValidationError",
    "RetryEvent",
    "RetryPolicy",
    "SchemaError",
    "ServiceUnavailableError",
    "StreamStats",
    "StructuredOutputError",
    "SystemMessage",
    "TextContentPart",
    "Timeout",
    "ToolArgumentsError",
    "ToolCallError",
    "ToolCallFunction",
    "ToolErrorMode",
    "ToolMessage",
    "ToolRoundLimitError",
    "ToolRunParams",
    "ToolRunResult",
    "TopLogprob",
    "UnprocessableEntityError",
    "UserMessage",
    "WireModel",
    "__version__",
    "estimate_cost",
    "function_spec",
    "json_schema",
    "preflight",
    "pydantic_function_tool",
    "response_format_for",
    "run_batch_file",
    "to_dict",
    "tool",
]

# The run-time side of the imports above: module -> the public names it defines.
_HOMES: dict[str, str] = {
    "._batch._fanout": "Batch BatchCallback BatchRequests",
    "._batch._files": "BatchProgress BatchSummary InvalidLine run_batch_file",
    "._batch._hosted": "HostedBatchSummary",
    "._batch._item": "BatchItem BatchStats",
    "._batch._preflight": "CostEstimate estimate_cost preflight",
    "._client": "AsyncDosAI",
    "._core._config": "RetryPolicy Timeout",
    "._core._exceptions": (
        "APIConnectionError APIError APIStatusError APIStreamError APITimeoutError "
        "AuthenticationError BadRequestError ConflictError ContextLengthExceededError "
        "ContextWindowBadRequestError DosAIError InsufficientCreditsError InternalServerError "
        "NotFoundError PermissionDeniedError PreflightError RateLimitError ResponseValidationError "
        "ServiceUnavailableError UnprocessableEntityError"
    ),
    "._core._hooks": "Hooks RequestEvent ResponseEvent RetryEvent",
    "._models._account": "Balance KeyInfo KeyRateLimit",
    "._models._base": "WireModel",
    "._models._batches": "BatchRequestCounts",
    "._models._converter": "to_dict",
    "._models._embeddings": "CreateEmbeddingResponse Embedding EmbeddingUsage",
    "._models._files": "FileDeleted FileObject",
    "._models._messages": (
        "ChatCompletionAssistantMessageParam ChatCompletionContentPartImageParam "
        "ChatCompletionContentPartParam ChatCompletionContentPartTextParam "
        "ChatCompletionMessageParam ChatCompletionMessageToolCallParam "
        "ChatCompletionSystemMessageParam ChatCompletionToolMessageParam "
        "ChatCompletionUserMessageParam FunctionCallParam ImageURLParam"
    ),
    "._models._params": "CompletionParams ParseParams RequestOptions ToolRunParams",
    "._models._types": (
        "AssistantMessage ChatCompletion ChatCompletionChunk ChatCompletionMessage "
        "ChatCompletionMessageToolCall ChatCompletionTokenLogprob Choice ChoiceDelta "
        "ChoiceDeltaToolCall ChoiceDeltaToolCallFunction ChoiceLogprobs ChunkChoice "
        "CompletionTokensDetails CompletionUsage FunctionDefinition FunctionTool ImageURL "
        "ImageURLContentPart MessageParam Model ModelList PromptTokensDetails ResponseMeta "
        "SystemMessage TextContentPart ToolCallFunction ToolMessage TopLogprob UserMessage"
    ),
    "._resources._pages": "AsyncPager",
    "._resources._raw": "AsyncRawResponse RawResponse RawResponseManager",
    "._streaming._manager": "AsyncStreamManager",
    "._streaming._stats": "StreamStats",
    "._streaming._stream": "AsyncStream",
    "._structured._output": "ParsedStream ParsedStreamManager StructuredOutputError",
    "._structured._parsed": (
        "ParsedChatCompletion ParsedChatCompletionMessage ParsedChoice ParsedFunction "
        "ParsedFunctionToolCall"
    ),
    "._structured._schema": (
        "FunctionSpec SchemaError function_spec json_schema response_format_for"
    ),
    "._structured._tool_params": "PydanticFunctionTool pydantic_function_tool",
    "._structured._tools": (
        "FunctionToolSpec ToolArgumentsError ToolCallError ToolErrorMode ToolRoundLimitError "
        "ToolRunResult tool"
    ),
}
# Public names that differ from their defining module's name for them.
_ALIASES: dict[str, tuple[str, str]] = {"BatchJob": ("._models._batches", "Batch")}
_HOME_OF: dict[str, tuple[str, str]] = {
    name: (module, name) for module, names in _HOMES.items() for name in names.split()
} | _ALIASES


def _load(name: str) -> object:
    """Import the module that defines public ``name`` and cache the value here."""
    try:
        module, attribute = _HOME_OF[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(import_module(module, __name__), attribute)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    """The public names, loaded or not (``dir(dosai_async)``, completion in a REPL)."""
    return list(__all__)


if not TYPE_CHECKING:  # bound at run time only: mypy keeps flagging misspelt names
    __getattr__ = _load
