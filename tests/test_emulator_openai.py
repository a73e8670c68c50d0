"""The emulator held to a client this project did not write: the official `openai` SDK.

Run over both of its async transports (httpx and aiohttp) and its sync client.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest

from dosai_async.testing import DosAIEmulator, Fault

QUESTION: list[Any] = [{"role": "user", "content": "What is the capital of France?"}]
WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.fixture
async def emu() -> AsyncIterator[DosAIEmulator]:
    """A fresh emulator with default settings."""
    async with DosAIEmulator() as emulator:
        yield emulator


@pytest.fixture(params=["httpx", "aiohttp"])
async def client(
    request: pytest.FixtureRequest, emu: DosAIEmulator
) -> AsyncIterator[openai.AsyncOpenAI]:
    """An AsyncOpenAI client for the emulator, on each of the SDK's transports."""
    http = openai.DefaultAioHttpClient() if request.param == "aiohttp" else None
    async with openai.AsyncOpenAI(
        base_url=emu.base_url, api_key=emu.api_key, http_client=http, max_retries=0
    ) as sdk:
        yield sdk


async def test_openai_lists_and_retrieves_models(client: openai.AsyncOpenAI) -> None:
    """models.list() and models.retrieve() parse the emulator's answers."""
    page = await client.models.list()
    assert [model.id for model in page.data] == ["dos-ai", "dos-auto", "qwen3-embedding-4b"]
    model = await client.models.retrieve("dos-ai")
    assert model.owned_by == "dos"


async def test_openai_completes(client: openai.AsyncOpenAI) -> None:
    """chat.completions.create() returns a ChatCompletion with text and usage."""
    done = await client.chat.completions.create(model="dos-ai", messages=QUESTION)
    assert done.choices[0].message.content is not None
    assert "Paris" in done.choices[0].message.content
    assert done.choices[0].finish_reason == "stop"
    assert done.usage is not None
    assert done.usage.total_tokens > done.usage.prompt_tokens


async def test_openai_streams_the_same_text(client: openai.AsyncOpenAI) -> None:
    """A stream's deltas add up to the non-streamed text; usage arrives last."""
    done = await client.chat.completions.create(model="dos-ai", messages=QUESTION, seed=5)
    stream = await client.chat.completions.create(
        model="dos-ai",
        messages=QUESTION,
        seed=5,
        stream=True,
        stream_options={"include_usage": True},
    )
    async with stream:
        events = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in events if c.choices)
    assert text == done.choices[0].message.content
    assert events[-2].choices[0].finish_reason == "stop"
    assert events[-1].choices == []
    assert events[-1].usage is not None


async def test_openai_parses_tool_calls(client: openai.AsyncOpenAI) -> None:
    """Tool calls parse into typed objects with JSON arguments."""
    done = await client.chat.completions.create(
        model="dos-ai", messages=QUESTION, tools=[WEATHER_TOOL]
    )
    (call,) = done.choices[0].message.tool_calls or []
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments)["city"], str)


async def test_openai_streams_tool_call_fragments(client: openai.AsyncOpenAI) -> None:
    """Streamed tool-call fragments concatenate to the arguments JSON."""
    stream = await client.chat.completions.create(
        model="dos-ai", messages=QUESTION, tools=[WEATHER_TOOL], stream=True
    )
    async with stream:
        deltas = [c.choices[0].delta async for c in stream]
    calls = [call for delta in deltas for call in delta.tool_calls or []]
    assert calls[0].function is not None
    assert calls[0].function.name == "get_weather"
    arguments = "".join(c.function.arguments or "" for c in calls if c.function)
    assert "city" in json.loads(arguments)


async def test_openai_sees_reasoning_as_an_extra_field(client: openai.AsyncOpenAI) -> None:
    """Thinking turned on through extra_body shows up in the message's extra fields."""
    done = await client.chat.completions.create(
        model="dos-ai",
        messages=QUESTION,
        extra_body={"chat_template_kwargs": {"enable_thinking": True}},
    )
    extra = done.choices[0].message.model_extra or {}
    assert extra["reasoning"].startswith("Okay")


async def test_openai_raises_not_found_for_an_unknown_model(client: openai.AsyncOpenAI) -> None:
    """A 404 model_not_found becomes openai.NotFoundError."""
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        await client.chat.completions.create(model="nope", messages=QUESTION)


async def test_openai_raises_rate_limit_with_retry_after(
    client: openai.AsyncOpenAI, emu: DosAIEmulator
) -> None:
    """A 429 fault becomes openai.RateLimitError carrying Retry-After."""
    emu.enqueue(Fault.status(429, retry_after=1))
    with pytest.raises(openai.RateLimitError) as caught:
        await client.chat.completions.create(model="dos-ai", messages=QUESTION)
    assert caught.value.response.headers["retry-after"] == "1"


async def test_openai_retries_after_a_503(emu: DosAIEmulator) -> None:
    """The SDK's own retry loop gets past a 503 that asks for a 10 ms wait."""
    emu.enqueue(Fault.status(503, headers={"retry-after-ms": "10"}))
    async with openai.AsyncOpenAI(base_url=emu.base_url, api_key=emu.api_key, max_retries=1) as sdk:
        done = await sdk.chat.completions.create(model="dos-ai", messages=QUESTION)
    assert done.choices[0].message.content
    assert emu.stats.statuses == {503: 1, 200: 1}


async def test_openai_raises_an_in_band_stream_error(
    client: openai.AsyncOpenAI, emu: DosAIEmulator
) -> None:
    """A `data: {"error": ...}` event mid-stream makes the SDK raise APIError."""
    emu.enqueue(Fault.stream_error(2, "boom"))
    stream = await client.chat.completions.create(model="dos-ai", messages=QUESTION, stream=True)
    async with stream:
        with pytest.raises(openai.APIError, match="boom"):
            async for _ in stream:
                pass


async def test_openai_raises_authentication_error_for_a_wrong_key() -> None:
    """A configured key rejects others with openai.AuthenticationError."""
    async with (
        DosAIEmulator(api_key="dos_sk_right") as emu,
        openai.AsyncOpenAI(base_url=emu.base_url, api_key="dos_sk_wrong", max_retries=0) as sdk,
    ):
        with pytest.raises(openai.AuthenticationError):
            await sdk.models.list()


def test_sync_openai_client_against_the_threaded_emulator() -> None:
    """The blocking OpenAI client works against in_thread()."""
    with (
        DosAIEmulator().in_thread() as emu,
        openai.OpenAI(base_url=emu.base_url, api_key=emu.api_key, max_retries=0) as sdk,
    ):
        done = sdk.chat.completions.create(model="dos-ai", messages=QUESTION)
        assert "Paris" in (done.choices[0].message.content or "")
        assert [m.id for m in sdk.models.list().data] == [
            "dos-ai",
            "dos-auto",
            "qwen3-embedding-4b",
        ]
