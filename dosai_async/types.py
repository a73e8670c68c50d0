"""The wire models, under the names ``openai.types`` gives them.

``from openai.types import Batch, FileObject`` becomes ``from dosai_async.types import Batch,
FileObject``. Here ``Batch`` is the hosted Batch API's job object; the top-level
``dosai_async.Batch`` stays the local fan-out that ``chat.completions.batch()`` returns, and
the job object is also exported there as ``BatchJob``. The chat models that ``openai`` keeps
in ``openai.types.chat`` are re-exported here too, so every model has one import path.
"""

from ._models._batches import Batch, BatchError, BatchErrors, BatchList, BatchRequestCounts
from ._models._files import FileDeleted, FileList, FileObject
from ._models._types import (
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
    Model,
    ModelList,
    PromptTokensDetails,
    TopLogprob,
)

__all__ = [
    "Batch",
    "BatchError",
    "BatchErrors",
    "BatchList",
    "BatchRequestCounts",
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
    "CompletionTokensDetails",
    "CompletionUsage",
    "FileDeleted",
    "FileList",
    "FileObject",
    "Model",
    "ModelList",
    "PromptTokensDetails",
    "TopLogprob",
]
