"""dosai-async: an asyncio-first client for the DOS AI API.

Everything public is imported from here; the ``_``-modules are private.
"""

from ._batch._fanout import Batch, BatchCallback, BatchRequests
from ._batch._files import BatchProgress, BatchSummary, InvalidLine, run_batch_file
from ._batch._item import BatchItem, BatchStats
from ._client import AsyncDosAI
from ._core._config import RetryPolicy, Timeout
from ._core._exceptions import (
    APIConnectionError,
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
    RateLimitError,
    ResponseValidationError,
    ServiceUnavailableError,
    UnprocessableEntityError,
)
from ._core._hooks import Hooks, RequestEvent, ResponseEvent, RetryEvent
from ._models._converter import to_dict
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
from ._streaming._manager import AsyncStreamManager
from ._streaming._stats import StreamStats
from ._streaming._stream import AsyncStream
from ._structured._output import (
    ParsedChatCompletion,
    ParsedChatCompletionMessage,
    ParsedChoice,
    ParsedStream,
    ParsedStreamManager,
    StructuredOutputError,
)
from ._structured._schema import (
    FunctionSpec,
    SchemaError,
    function_spec,
    json_schema,
    response_format_for,
)
from ._structured._tools import (
    FunctionToolSpec,
    ToolArgumentsError,
    ToolCallError,
    ToolErrorMode,
    ToolRoundLimitError,
    ToolRunResult,
    tool,
)
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "AssistantMessage",
    "AsyncDosAI",
    "AsyncStream",
    "AsyncStreamManager",
    "AuthenticationError",
    "BadRequestError",
    "Batch",
    "BatchCallback",
    "BatchItem",
    "BatchProgress",
    "BatchRequests",
    "BatchStats",
    "BatchSummary",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "ChatCompletionTokenLogprob",
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
    "DosAIError",
    "FunctionDefinition",
    "FunctionSpec",
    "FunctionTool",
    "FunctionToolSpec",
    "Hooks",
    "ImageURL",
    "ImageURLContentPart",
    "InsufficientCreditsError",
    "InternalServerError",
    "InvalidLine",
    "MessageParam",
    "Model",
    "ModelList",
    "NotFoundError",
    "ParseParams",
    "ParsedChatCompletion",
    "ParsedChatCompletionMessage",
    "ParsedChoice",
    "ParsedStream",
    "ParsedStreamManager",
    "PermissionDeniedError",
    "PromptTokensDetails",
    "RateLimitError",
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
    "__version__",
    "function_spec",
    "json_schema",
    "response_format_for",
    "run_batch_file",
    "to_dict",
    "tool",
]

# Tracebacks and reprs name the public path (``dosai_async.RateLimitError``), as httpx's do.
# Exceptions only: the models' home module is where their annotations are resolved.
for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type) and issubclass(_value, BaseException):
        _value.__module__ = __name__
del _name, _value
