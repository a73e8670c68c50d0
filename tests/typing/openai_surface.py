"""Checked by mypy --strict, never executed: the openai call surface as renamed code uses it.

Lines ending in ``# type: ignore[...]`` are the contract's other half: mypy must reject
them, and ``warn_unused_ignores`` (on under ``strict``) fails the check if it stops doing so.
"""

from __future__ import annotations

from typing import Any, assert_type

from dosai_async import (
    APIConnectionError,
    APIError,
    APIStatusError,
    AsyncDosAI,
    AsyncRawResponse,
    AsyncStream,
    Balance,
    BatchJob,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessageParam,
    ChatCompletionUserMessageParam,
    CreateEmbeddingResponse,
    DosAIError,
    FileDeleted,
    FileObject,
    KeyInfo,
    Model,
    ModelList,
    RawResponse,
    ResponseMeta,
    ResponseValidationError,
    UserMessage,
)
from dosai_async.types import BatchList, FileList


async def message_dicts(client: AsyncDosAI) -> None:
    """openai's examples: message dict literals, a typed history, a reply appended."""
    done = await client.chat.completions.create(
        model="dos-ai",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "42"},
            UserMessage("and the attrs classes still work"),
        ],
    )
    history: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
    user: ChatCompletionUserMessageParam = {"role": "user", "content": "again"}
    history.append(user)
    await client.chat.completions.create(messages=[*history, done.choices[0].message])


async def wrong_messages(client: AsyncDosAI) -> None:
    """What mypy rejects, as it does with openai's types."""
    await client.chat.completions.create(
        messages=[{"role": "usr", "content": "hi"}],  # type: ignore[list-item]
    )
    await client.chat.completions.create(
        messages=[{"role": "tool", "content": "42"}],  # type: ignore[list-item]
    )
    await client.chat.completions.create(
        messages=[{"role": "developer", "content": "hi"}],  # type: ignore[list-item]
    )


def dumps(done: ChatCompletion) -> None:
    """The pydantic-style methods every response model has."""
    assert_type(done.model_dump(), dict[str, Any])
    assert_type(done.model_dump(mode="json", exclude_none=True), dict[str, Any])
    assert_type(done.model_dump_json(indent=2), str)
    assert_type(done.to_dict(), dict[str, Any])
    assert_type(done.choices[0].message.to_json(indent=None), str)
    done.model_dump(mode="xml")  # type: ignore[arg-type]


async def errors(client: AsyncDosAI) -> None:
    """``except APIError`` as in openai, and ``e.response`` on status errors."""
    try:
        await client.models.list()
    except APIStatusError as exc:
        assert_type(exc.response, ResponseMeta)
        assert_type(exc.response.status_code, int)
        assert_type(exc.request_id, str | None)
        assert_type(exc.body, object | None)
    except APIError as exc:
        assert_type(exc, APIError)
    api_errors: tuple[type[APIError], ...] = (APIConnectionError, ResponseValidationError)
    base: type[DosAIError] = APIError
    del api_errors, base


async def raw_responses(client: AsyncDosAI) -> None:
    """with_raw_response / with_streaming_response keep create's result types."""
    raw = await client.chat.completions.with_raw_response.create(messages=[])
    assert_type(raw, RawResponse[ChatCompletion])
    assert_type(raw.parse(), ChatCompletion)
    assert_type(raw.content, bytes)
    assert_type(raw.text, str)
    assert_type(raw.status_code, int)
    assert_type(raw.request_id, str | None)
    assert_type(raw.retries_taken, int)
    streamed = await client.chat.completions.with_raw_response.create(messages=[], stream=True)
    assert_type(streamed.parse(), AsyncStream[ChatCompletionChunk])
    manager = client.chat.completions.with_streaming_response.create(messages=[], stream=True)
    async with manager as response:
        assert_type(response, AsyncRawResponse[AsyncStream[ChatCompletionChunk]])
        assert_type(await response.parse(), AsyncStream[ChatCompletionChunk])
    assert_type((await client.models.with_raw_response.list()).parse(), ModelList)
    assert_type((await client.models.with_raw_response.retrieve("m")).parse(), Model)


async def raw_responses_everywhere(client: AsyncDosAI) -> None:
    """Every namespace's raw methods keep their result types; list() is the first page."""
    files, batches = client.files.with_raw_response, client.batches.with_raw_response
    assert_type((await files.create(file=b"x")).parse(), FileObject)
    assert_type((await files.retrieve("f")).parse(), FileObject)
    assert_type((await files.content("f")).parse(), bytes)
    assert_type((await files.delete("f")).parse(), FileDeleted)
    assert_type((await files.list(limit=2)).parse(), FileList)
    assert_type((await batches.create(input_file_id="f")).parse(), BatchJob)
    assert_type((await batches.cancel("b")).parse(), BatchJob)
    assert_type((await batches.list()).parse(), BatchList)
    raw = await client.embeddings.with_raw_response.create(input="a")
    assert_type(raw.parse(), CreateEmbeddingResponse)
    assert_type((await client.key.with_raw_response.retrieve()).parse(), KeyInfo)
    async with client.balance.with_streaming_response.retrieve() as response:
        assert_type(await response.parse(), Balance)
    async with client.batches.with_streaming_response.retrieve("b") as job:
        assert_type(await job.parse(), BatchJob)
    await files.retrieve(7)  # type: ignore[arg-type]


def options(client: AsyncDosAI) -> None:
    """with_options and copy return a client."""
    assert_type(client.with_options(timeout=5, max_retries=0), AsyncDosAI)
    assert_type(client.copy(default_headers={"X-DOS-Cache": "off"}), AsyncDosAI)
    client.with_options(timeout="5")  # type: ignore[arg-type]
