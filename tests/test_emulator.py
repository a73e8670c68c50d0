"""The DOS AI emulator over real HTTP on 127.0.0.1: wire format, replies, auth, log, counters.

Faults are in test_emulator_faults.py, the openai SDK cross-check in test_emulator_openai.py,
the schema generator in test_emulator_schema.py.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import AsyncIterator, Mapping
from inspect import ismodule
from typing import Any

import aiohttp
import pytest

import dosai_async.testing as testing
from dosai_async import AsyncDosAI
from dosai_async.testing import DosAIEmulator, EmulatorStats, Fault, RecordedRequest

KEY = "dos_sk_test_0123456789abcd"
AUTH = {"Authorization": f"Bearer {KEY}"}
FRANCE = [{"role": "user", "content": "What is the capital of France?"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
    },
}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp client session."""
    async with aiohttp.ClientSession() as session:
        yield session


def body_of(**fields: Any) -> dict[str, Any]:
    """A chat request body asking about France, with overrides."""
    return {"model": "dos-ai", "messages": FRANCE, **fields}


async def chat(
    http: aiohttp.ClientSession, emu: DosAIEmulator, **fields: Any
) -> tuple[int, Any, Mapping[str, str]]:
    """POST a chat request; returns status, parsed JSON body and headers."""
    url = f"{emu.base_url}/chat/completions"
    async with http.post(url, json=body_of(**fields), headers=AUTH) as response:
        return response.status, await response.json(content_type=None), response.headers


async def stream_text(http: aiohttp.ClientSession, emu: DosAIEmulator, **fields: Any) -> str:
    """POST a streaming chat request; returns the raw SSE body."""
    url = f"{emu.base_url}/chat/completions"
    async with http.post(url, json=body_of(stream=True, **fields), headers=AUTH) as response:
        assert response.status == 200
        return await response.text()


def data_lines(text: str) -> list[str]:
    """The `data:` values of an SSE body, in order."""
    return [line[6:] for line in text.split("\n") if line.startswith("data: ")]


def chunks(text: str) -> list[dict[str, Any]]:
    """The JSON chunks of an SSE body (without `[DONE]`)."""
    return [json.loads(data) for data in data_lines(text) if data != "[DONE]"]


def content_of(events: list[dict[str, Any]], index: int = 0) -> str:
    """Concatenated content deltas of one choice."""
    deltas = [c["delta"] for e in events for c in e["choices"] if c["index"] == index]
    return "".join(d.get("content") or "" for d in deltas)


# -- lifecycle ---------------------------------------------------------------------------


def test_testing_package_exports_exactly_its_sorted_all() -> None:
    """dosai_async.testing's public names are its sorted __all__ (one front door)."""
    public = {n for n, v in vars(testing).items() if not n.startswith("_") and not ismodule(v)}
    assert testing.__all__ == sorted(testing.__all__)
    assert public == set(testing.__all__)


async def test_base_url_is_an_ephemeral_port_ending_in_v1(emu: DosAIEmulator) -> None:
    """A started emulator reports a real port and a /v1 base URL on 127.0.0.1."""
    assert emu.port > 0
    assert emu.base_url == f"http://127.0.0.1:{emu.port}/v1"
    assert emu.api_key == "dos_sk_emulator"


async def test_close_resets_a_stalled_request_promptly(http: aiohttp.ClientSession) -> None:
    """close() does not wait for a 30 s stall; the client sees the connection drop."""
    emu = await DosAIEmulator().start()
    emu.enqueue(Fault.stall_before_headers(30))
    request = asyncio.ensure_future(chat(http, emu))
    await emu.wait_for_requests(1)
    began = time.perf_counter()
    await emu.close()
    assert time.perf_counter() - began < 5  # not the 30 s stall
    with pytest.raises(aiohttp.ClientError):
        await request


async def test_serve_forever_closes_when_cancelled() -> None:
    """serve_forever() serves until cancelled, then releases its port."""
    emu = await DosAIEmulator().start()
    task = asyncio.ensure_future(emu.serve_forever())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", emu.port)


def test_in_thread_serves_synchronous_callers() -> None:
    """in_thread() runs the emulator on its own loop for blocking code such as urllib."""
    with DosAIEmulator().in_thread() as emu:
        request = urllib.request.Request(f"{emu.base_url}/models", headers=AUTH)
        with urllib.request.urlopen(request, timeout=5) as response:
            listing = json.load(response)
    assert [m["id"] for m in listing["data"]] == ["dos-ai", "dos-auto", "qwen3-embedding-4b"]


def test_in_thread_reraises_a_startup_error() -> None:
    """A port already taken makes in_thread() raise instead of hanging."""
    with DosAIEmulator().in_thread() as first, pytest.raises(OSError):
        DosAIEmulator(port=first.port).in_thread().start()


# -- non-streaming completions -------------------------------------------------------------


async def test_completion_has_the_dos_shape(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """A completion carries id, object, model, one choice, and DOS's usage with cost."""
    status, body, _ = await chat(http, emu)
    assert status == 200
    assert body["id"].startswith("chatcmpl-")
    assert body["object"] == "chat.completion"
    assert body["model"] == "dos-ai"
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["logprobs"] is None
    assert choice["message"]["role"] == "assistant"
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["cost"] > 0
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0}
    assert usage["completion_tokens_details"] == {"reasoning_tokens": 0}


async def test_completion_sends_dos_headers(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """Request id, rate-limit, cache and provider headers come with every completion."""
    _, _, headers = await chat(http, emu)
    assert len(headers["x-request-id"]) == 32
    assert headers["X-RateLimit-Limit"] == "300"
    assert headers["X-RateLimit-Remaining"] == "299"
    assert headers["X-DOS-Cache"] == "miss"
    assert headers["X-Provider"] == "dos-emulator"


async def test_capital_of_france_answer_mentions_paris(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """The demo question gets a sensible answer."""
    _, body, _ = await chat(http, emu)
    assert body["choices"][0]["message"]["content"].startswith("The capital of France is Paris.")


async def test_same_seed_gives_the_same_reply(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """A request repeated with its seed gets the same text."""
    replies = [(await chat(http, emu, seed=7))[1] for _ in range(2)]
    texts = [r["choices"][0]["message"]["content"] for r in replies]
    assert texts[0] == texts[1]


async def test_different_seeds_give_different_replies(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """Other seeds give other texts."""
    replies = [(await chat(http, emu, seed=seed))[1] for seed in range(4)]
    assert len({r["choices"][0]["message"]["content"] for r in replies}) == 4


async def test_n_gives_distinct_indexed_choices(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """`n` returns that many choices, indexed in order, with different texts."""
    _, body, _ = await chat(http, emu, n=3)
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert len({c["message"]["content"] for c in body["choices"]}) == 3


async def test_stop_cuts_before_the_stop_string(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """`stop` ends the text before the first stop string, finish reason stop."""
    _, body, _ = await chat(http, emu, stop=["Paris", "zzz"])
    choice = body["choices"][0]
    assert choice["message"]["content"] == "The capital of France is "
    assert choice["finish_reason"] == "stop"
    assert choice["stop_reason"] == "Paris"


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
async def test_max_tokens_truncates_with_length(
    http: aiohttp.ClientSession, emu: DosAIEmulator, field: str
) -> None:
    """A token cap cuts the reply at that many tokens with finish reason length."""
    _, body, _ = await chat(http, emu, **{field: 3})
    assert body["choices"][0]["message"]["content"] == "The capital of"
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 3


async def test_thinking_request_adds_reasoning(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """`enable_thinking` puts reasoning in the message and counts reasoning tokens."""
    _, body, _ = await chat(http, emu, chat_template_kwargs={"enable_thinking": True})
    message = body["choices"][0]["message"]
    assert message["reasoning"].startswith('Okay, the user asks: "What is the capital of France?"')
    assert "Paris" in message["content"]
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


async def test_reasoning_uses_the_configured_field(http: aiohttp.ClientSession) -> None:
    """reasoning=True thinks by default, in `reasoning_content` when asked (older vLLM)."""
    async with DosAIEmulator(reasoning=True, reasoning_field="reasoning_content") as emu:
        _, body, _ = await chat(http, emu)
    assert body["choices"][0]["message"]["reasoning_content"].startswith("Okay")


async def test_request_can_turn_thinking_off(http: aiohttp.ClientSession) -> None:
    """`enable_thinking: false` overrides an emulator that thinks by default."""
    async with DosAIEmulator(reasoning=True) as emu:
        _, body, _ = await chat(http, emu, chat_template_kwargs={"enable_thinking": False})
    assert body["choices"][0]["message"]["reasoning"] is None


async def test_small_max_tokens_with_thinking_leaves_content_empty(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """Thinking spends the budget first: empty content and finish reason length."""
    thinking = {"enable_thinking": True}
    _, body, _ = await chat(http, emu, max_tokens=4, chat_template_kwargs=thinking)
    choice = body["choices"][0]
    assert choice["message"]["content"] == ""
    assert choice["finish_reason"] == "length"


async def test_dos_auto_is_answered_by_dos_ai(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """The router model reports the model that served it, as DOS does."""
    _, body, _ = await chat(http, emu, model="dos-auto")
    assert body["model"] == "dos-ai"


# -- streaming -----------------------------------------------------------------------------


async def test_stream_follows_vllm_framing(http: aiohttp.ClientSession, emu: DosAIEmulator) -> None:
    """Role chunk first, content deltas, a finish chunk with an empty delta, then [DONE]."""
    text = await stream_text(http, emu)
    assert text.endswith("data: [DONE]\n\n")
    assert all(block.startswith("data: ") for block in text.split("\n\n") if block)
    events = chunks(text)
    assert events[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert events[-1]["choices"][0]["delta"] == {}
    assert events[-1]["choices"][0]["finish_reason"] == "stop"
    assert all(e["object"] == "chat.completion.chunk" for e in events)
    assert len({e["id"] for e in events}) == 1


async def test_stream_sends_event_stream_content_type(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """Streams are chunked text/event-stream responses."""
    url = f"{emu.base_url}/chat/completions"
    async with http.post(url, json=body_of(stream=True), headers=AUTH) as response:
        await response.read()
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response.headers["Transfer-Encoding"] == "chunked"


async def test_stream_text_equals_the_completion_text(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """Streaming and not give the same text for the same request."""
    _, body, _ = await chat(http, emu, seed=3)
    streamed = content_of(chunks(await stream_text(http, emu, seed=3)))
    assert streamed == body["choices"][0]["message"]["content"]


async def test_content_arrives_one_token_per_delta(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """The first content deltas are word pieces with their leading space."""
    events = chunks(await stream_text(http, emu))
    pieces = [e["choices"][0]["delta"].get("content") for e in events[1:5]]
    assert pieces == ["The", " capital", " of", " France"]


async def test_include_usage_adds_a_choiceless_usage_chunk(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """With include_usage the last chunk has `choices: []` and the usage."""
    text = await stream_text(http, emu, stream_options={"include_usage": True})
    last = chunks(text)[-1]
    assert last["choices"] == []
    assert last["usage"]["completion_tokens"] > 0
    assert "usage" not in chunks(text)[0]


async def test_stream_without_include_usage_has_no_usage(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """No usage chunk unless asked."""
    assert all("usage" not in e for e in chunks(await stream_text(http, emu)))


async def test_stream_n_interleaves_choices_by_index(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """With n=2 the role chunks come first for each index, then alternating deltas."""
    events = chunks(await stream_text(http, emu, n=2))
    indexes = [e["choices"][0]["index"] for e in events]
    assert indexes[:4] == [0, 1, 0, 1]
    finishes = [e["choices"][0] for e in events if e["choices"][0]["finish_reason"]]
    assert sorted(c["index"] for c in finishes) == [0, 1]
    assert content_of(events, 0) != content_of(events, 1)


async def test_stream_reasoning_deltas_come_before_content(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """Qwen thinking streams as `delta.reasoning` before any content."""
    text = await stream_text(http, emu, chat_template_kwargs={"enable_thinking": True})
    kinds = [next(iter(e["choices"][0]["delta"]), None) for e in chunks(text)[1:-1]]
    first_content = kinds.index("content")
    assert set(kinds[:first_content]) == {"reasoning"}
    assert set(kinds[first_content:]) == {"content"}


async def test_stream_max_tokens_finishes_with_length(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """A capped stream ends with finish reason length after that many deltas."""
    events = chunks(await stream_text(http, emu, max_tokens=2))
    assert content_of(events) == "The capital"
    assert events[-1]["choices"][0]["finish_reason"] == "length"


async def test_latency_paces_the_stream(http: aiohttp.ClientSession) -> None:
    """ttft delays the first delta; token_interval spaces the rest."""
    async with DosAIEmulator(ttft=0.4, token_interval=0.01) as emu:
        began = time.perf_counter()
        url = f"{emu.base_url}/chat/completions"
        async with http.post(url, json=body_of(stream=True, max_tokens=6), headers=AUTH) as r:
            headers_at = time.perf_counter() - began
            await r.read()
        total = time.perf_counter() - began
    # Headers go out at once; the first token waits for ttft (margins for a busy machine).
    assert headers_at < total - 0.3
    assert total >= 0.4 + 5 * 0.01


async def test_latency_delays_a_completion_by_its_generation_time(
    http: aiohttp.ClientSession,
) -> None:
    """A non-streaming reply waits ttft plus the interval for each further token."""
    async with DosAIEmulator(ttft=0.05, token_interval=0.01) as emu:
        began = time.perf_counter()
        await chat(http, emu, max_tokens=6)
        assert time.perf_counter() - began >= 0.05 + 5 * 0.01


# -- tools ---------------------------------------------------------------------------------


async def test_tool_call_arguments_fit_the_schema(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """A tool call has null content, finish reason tool_calls, and schema-valid arguments."""
    _, body, _ = await chat(http, emu, tools=[WEATHER_TOOL])
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function"
    assert call["function"]["name"] == "get_weather"
    arguments = json.loads(call["function"]["arguments"])
    assert set(arguments) == {"city", "unit"}
    assert isinstance(arguments["city"], str)
    assert arguments["unit"] in ("celsius", "fahrenheit")


async def test_tool_call_streams_a_header_then_argument_fragments(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """The first tool delta has id, type and name; later ones only argument pieces."""
    events = chunks(await stream_text(http, emu, tools=[WEATHER_TOOL]))
    calls = [e["choices"][0]["delta"]["tool_calls"][0] for e in events[1:-1]]
    head, *fragments = calls
    assert head["id"].startswith("chatcmpl-tool-")
    assert head["function"] == {"name": "get_weather", "arguments": ""}
    assert len(fragments) > 3
    assert all(set(f) == {"index", "function"} for f in fragments)
    arguments = "".join(f["function"]["arguments"] for f in fragments)
    assert set(json.loads(arguments)) == {"city", "unit"}
    assert events[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_parallel_tool_calls_call_each_tool_once(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """Several tools and parallel calls allowed: every distinct tool once, in order."""
    _, body, _ = await chat(http, emu, tools=[WEATHER_TOOL, TIME_TOOL, WEATHER_TOOL])
    names = [c["function"]["name"] for c in body["choices"][0]["message"]["tool_calls"]]
    assert names == ["get_weather", "get_time"]


async def test_parallel_tool_calls_false_calls_the_first_tool(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """`parallel_tool_calls: false` makes a single call."""
    tools = [WEATHER_TOOL, TIME_TOOL]
    _, body, _ = await chat(http, emu, tools=tools, parallel_tool_calls=False)
    names = [c["function"]["name"] for c in body["choices"][0]["message"]["tool_calls"]]
    assert names == ["get_weather"]


async def test_tool_choice_can_force_a_named_tool(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """A named tool_choice calls exactly that tool."""
    forced = {"type": "function", "function": {"name": "get_time"}}
    _, body, _ = await chat(http, emu, tools=[WEATHER_TOOL, TIME_TOOL], tool_choice=forced)
    names = [c["function"]["name"] for c in body["choices"][0]["message"]["tool_calls"]]
    assert names == ["get_time"]


async def test_tool_choice_none_answers_in_text(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """`tool_choice: none` gets a plain answer and an empty tool_calls list (vLLM)."""
    _, body, _ = await chat(http, emu, tools=[WEATHER_TOOL], tool_choice="none")
    message = body["choices"][0]["message"]
    assert message["tool_calls"] == []
    assert "Paris" in message["content"]


async def test_tool_result_gets_an_answer_quoting_it(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """After a tool message the model answers in text, mentioning the result."""
    call = {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    messages = [
        *FRANCE,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": '{"temp": 21}'},
    ]
    _, body, _ = await chat(http, emu, messages=messages, tools=[WEATHER_TOOL])
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["content"].startswith('Based on the tool result: {"temp": 21}.')


async def test_forcing_an_unknown_tool_is_a_400(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """A tool_choice naming a tool that was not given is refused."""
    forced = {"type": "function", "function": {"name": "nope"}}
    status, body, _ = await chat(http, emu, tools=[WEATHER_TOOL], tool_choice=forced)
    assert status == 400
    assert body["error"]["param"] == "tool_choice"


@pytest.mark.parametrize(
    ("field", "value"),
    [("temperature", 5), ("temperature", -1), ("top_p", 1.5), ("presence_penalty", -3)],
)
async def test_sampling_values_outside_their_range_are_a_400(
    http: aiohttp.ClientSession, emu: DosAIEmulator, field: str, value: float
) -> None:
    """Out-of-range sampling values are refused naming the parameter, as vLLM does."""
    status, body, _ = await chat(http, emu, **{field: value})
    assert status == 400
    assert body["error"]["param"] == field
    assert f"(parameter={field}, value={value})" in body["error"]["message"]


async def test_an_embedding_model_on_the_chat_route_is_a_400_that_says_where_to_go(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """``qwen3-embedding-4b`` exists (``/v1/models`` lists it) but does not chat."""
    status, body, _ = await chat(http, emu, model="qwen3-embedding-4b")
    assert status == 400
    assert "/v1/embeddings" in body["error"]["message"]


# -- structured output ---------------------------------------------------------------------


async def test_json_schema_reply_is_valid_against_the_schema(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """`json_schema` content parses and fits the (strict) schema."""
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "population": {"type": "integer", "minimum": 1000},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
        "required": ["city", "population", "tags"],
        "additionalProperties": False,
    }
    spec = {"name": "city", "strict": True, "schema": schema}
    fmt = {"type": "json_schema", "json_schema": spec}
    _, body, _ = await chat(http, emu, response_format=fmt)
    value = json.loads(body["choices"][0]["message"]["content"])
    assert set(value) == {"city", "population", "tags"}
    assert isinstance(value["population"], int)
    assert value["population"] >= 1000
    assert value["tags"]
    assert all(isinstance(tag, str) for tag in value["tags"])


async def test_json_object_reply_is_a_json_object(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """`json_object` content is a JSON object."""
    _, body, _ = await chat(http, emu, response_format={"type": "json_object"})
    assert isinstance(json.loads(body["choices"][0]["message"]["content"]), dict)


# -- models --------------------------------------------------------------------------------


async def test_models_lists_the_served_models(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """GET /models returns an OpenAI-style list."""
    async with http.get(f"{emu.base_url}/models", headers=AUTH) as response:
        listing = await response.json()
    assert listing["object"] == "list"
    assert [m["id"] for m in listing["data"]] == ["dos-ai", "dos-auto", "qwen3-embedding-4b"]
    assert all(m["object"] == "model" for m in listing["data"])


async def test_model_retrieve_returns_one_model(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """GET /models/{id} returns that model."""
    async with http.get(f"{emu.base_url}/models/dos-ai", headers=AUTH) as response:
        model = await response.json()
    assert model["id"] == "dos-ai"
    assert model["owned_by"] == "dos"


async def test_model_retrieve_of_unknown_model_is_a_404(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """An unknown model id gets DOS's model_not_found error."""
    async with http.get(f"{emu.base_url}/models/gpt-9", headers=AUTH) as response:
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "model_not_found"


# -- auth and errors -----------------------------------------------------------------------


async def test_missing_key_is_a_401(http: aiohttp.ClientSession, emu: DosAIEmulator) -> None:
    """No Authorization header: 401 authentication_error / invalid_api_key."""
    async with http.post(f"{emu.base_url}/chat/completions", json=body_of()) as response:
        assert response.status == 401
        error = (await response.json())["error"]
    assert error["type"] == "authentication_error"
    assert error["code"] == "invalid_api_key"


async def test_any_key_is_accepted_when_none_is_configured(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """Without a configured key any non-empty Bearer key works."""
    url = f"{emu.base_url}/models"
    async with http.get(url, headers={"Authorization": "Bearer anything"}) as response:
        assert response.status == 200


async def test_configured_key_is_enforced(http: aiohttp.ClientSession) -> None:
    """With api_key set, another key gets DOS's exact 401 body and the right key passes."""
    async with DosAIEmulator(api_key="dos_sk_right") as emu:
        url = f"{emu.base_url}/models"
        async with http.get(url, headers=AUTH) as wrong:
            assert wrong.status == 401
            assert await wrong.json() == {
                "error": {
                    "message": "Invalid API key",
                    "type": "authentication_error",
                    "code": "invalid_api_key",
                }
            }
        right = {"Authorization": f"Bearer {emu.api_key}"}
        async with http.get(url, headers=right) as response:
            assert response.status == 200


async def test_unknown_model_is_a_404_in_dos_shape(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """A chat request for a model that is not served gets model_not_found."""
    status, body, _ = await chat(http, emu, model="x")
    assert status == 404
    assert body["error"]["message"] == "The model `x` does not exist"
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["code"] == "model_not_found"


async def test_invalid_json_is_a_400(http: aiohttp.ClientSession, emu: DosAIEmulator) -> None:
    """A body that is not JSON is refused with invalid_json."""
    url = f"{emu.base_url}/chat/completions"
    async with http.post(url, data=b"{nope", headers=AUTH) as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "invalid_json"


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"messages": []}, "messages"),
        ({"messages": "hi"}, "messages"),
        ({"n": 0}, "n"),
        ({"max_tokens": "many"}, "max_tokens"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"response_format": {"type": "json_schema"}}, "response_format"),
    ],
)
async def test_invalid_fields_are_400s_naming_the_param(
    http: aiohttp.ClientSession, emu: DosAIEmulator, fields: dict[str, Any], param: str
) -> None:
    """Bad request fields get a 400 invalid_request_error naming the field."""
    status, body, _ = await chat(http, emu, **fields)
    assert status == 400
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["param"] == param


async def test_prompt_over_the_context_length_is_a_413(http: aiohttp.ClientSession) -> None:
    """A prompt longer than the context gets 413 context_length_exceeded."""
    async with DosAIEmulator(context_length=5) as emu:
        status, body, _ = await chat(http, emu)
    assert status == 413
    assert body["error"]["code"] == "context_length_exceeded"


async def test_unknown_path_is_a_404_in_dos_shape(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """Paths the API does not have get a JSON 404."""
    async with http.get(f"{emu.base_url}/embeddingz", headers=AUTH) as response:
        assert response.status == 404
        assert "error" in await response.json()


async def test_enforced_rate_limit_answers_429_with_retry_after(
    http: aiohttp.ClientSession,
) -> None:
    """Past the per-minute limit the emulator refuses with 429 and Retry-After."""
    async with DosAIEmulator(rate_limit=2, enforce_rate_limit=True) as emu:
        results = [await chat(http, emu) for _ in range(3)]
    assert [r[2]["X-RateLimit-Remaining"] for r in results] == ["1", "0", "0"]
    status, body, headers = results[2]
    assert status == 429
    assert body["error"]["type"] == "rate_limit_error"
    assert 1 <= int(headers["Retry-After"]) <= 60


# -- request log and counters --------------------------------------------------------------


async def test_request_log_masks_the_key(http: aiohttp.ClientSession, emu: DosAIEmulator) -> None:
    """Recorded headers are lower-cased and show only the key's prefix and last 4 chars."""
    await chat(http, emu, seed=1)
    (entry,) = emu.requests
    assert isinstance(entry, RecordedRequest)
    assert entry.headers["authorization"] == "Bearer dos_sk_…abcd"
    assert KEY not in repr(entry)
    assert KEY not in repr(emu.requests)


async def test_request_log_keeps_method_path_and_body(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """Each request is recorded with its parsed body, in arrival order."""
    await chat(http, emu, seed=1)
    await chat(http, emu, seed=2)
    assert [(r.method, r.path, r.body["seed"]) for r in emu.requests] == [
        ("POST", "/v1/chat/completions", 1),
        ("POST", "/v1/chat/completions", 2),
    ]
    assert emu.requests[0].fault is None
    assert emu.requests[0].time <= emu.requests[1].time


async def test_clear_forgets_requests_and_counters(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """clear() empties the log and zeroes the counters."""
    await chat(http, emu)
    emu.clear()
    assert emu.requests == []
    assert emu.stats == EmulatorStats()


async def test_counters_count_requests_by_status(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """stats counts every request and each status."""
    await chat(http, emu)
    await chat(http, emu, model="nope")
    assert emu.stats.total == 2
    assert emu.stats.statuses == {200: 1, 404: 1}
    assert emu.stats.in_flight == 0


async def test_max_in_flight_measures_server_side_concurrency(
    http: aiohttp.ClientSession,
) -> None:
    """Five concurrent slow requests are seen in flight together, and no more."""
    async with DosAIEmulator(ttft=0.1) as emu:
        await asyncio.gather(*(chat(http, emu) for _ in range(5)))
        assert emu.stats.max_in_flight == 5
        assert emu.stats.in_flight == 0


async def test_models_carry_dos_context_length_and_pricing() -> None:
    """GET /v1/models lists DOS's context_length and string pricing, as the SDK models them."""
    async with DosAIEmulator() as emu, AsyncDosAI(base_url=emu.base_url, api_key="k") as client:
        model = await client.models.retrieve("dos-ai")
    assert model.context_length == 262_144
    assert model.pricing is not None
    assert all(isinstance(v, str) for v in model.pricing.values())


async def test_status_fault_answers_without_generation_delay() -> None:
    """A queued status fault is sent at once, not after the reply's simulated latency."""
    async with DosAIEmulator(ttft=3, token_interval=0.05) as emu:
        emu.enqueue(Fault.status(429, retry_after=1))
        async with aiohttp.ClientSession() as session:
            started = time.monotonic()
            async with session.post(
                emu.base_url + "/chat/completions",
                json={"model": "dos-ai", "messages": [{"role": "user", "content": "hi"}]},
                headers={"Authorization": f"Bearer {emu.api_key}"},
            ) as response:
                assert response.status == 429
    assert time.monotonic() - started < 2  # a reply would take 3 s and more
