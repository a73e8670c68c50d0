"""dosai-async: an asyncio-first client for the DOS AI API.

Everything public is imported from here; the ``_``-modules are private.
"""

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
from ._version import __version__

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

# Tracebacks and reprs name the public path (``dosai_async.RateLimitError``), as httpx's do.
# Exceptions only: the models' home module is where their annotations are resolved.
for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type) and issubclass(_value, BaseException):
        _value.__module__ = __name__
del _name, _value
