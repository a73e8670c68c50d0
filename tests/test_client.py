"""The core client over real HTTP on 127.0.0.1: request shape, parsing, lifecycle."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from dosai_async import (
    AsyncDosAI,
    ChatCompletion,
    DosAIError,
    ResponseValidationError,
    Timeout,
    UserMessage,
)
from tests.conftest import COMPLETION, Scripted, serve_in_thread

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


async def test_create_returns_typed_completion(client: AsyncDosAI) -> None:
    """A plain call returns a ChatCompletion with the message content."""
    done = await client.chat.completions.create(model="dos-ai", messages=MESSAGES)
    assert isinstance(done, ChatCompletion)
    assert done.choices[0].message.content == "Paris."
    assert done.usage is not None
    assert done.usage.total_tokens == 11


async def test_request_shape(client: AsyncDosAI, server: Scripted) -> None:
    """POST /v1/chat/completions with a Bearer key and only the fields that were set."""
    await client.chat.completions.create(model="dos-ai", messages=MESSAGES, temperature=0.2)
    sent = server.requests[0]
    assert sent["method"] == "POST"
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["Authorization"] == "Bearer dos_sk_test"
    assert sent["headers"]["Content-Type"] == "application/json"
    assert sent["json"] == {"model": "dos-ai", "messages": MESSAGES, "temperature": 0.2}


async def test_every_documented_parameter_is_sent(client: AsyncDosAI, server: Scripted) -> None:
    """All DOS parameters reach the body unchanged, and None means not sent."""
    params: dict[str, Any] = {
        "temperature": 0.7,
        "max_tokens": 64,
        "max_completion_tokens": 32,
        "top_p": 0.9,
        "frequency_penalty": 0.1,
        "presence_penalty": -0.1,
        "stop": ["\n", "END"],
        "n": 2,
        "seed": 7,
        "response_format": {"type": "json_object"},
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "logprobs": True,
        "top_logprobs": 3,
        "user": "u-1",
        "stream_options": {"include_usage": True},
        "top_k": 20,
        "min_p": 0.05,
        "repetition_penalty": 1.1,
        "chat_template_kwargs": {"enable_thinking": False},
    }
    await client.chat.completions.create(messages=MESSAGES, **params)
    await client.chat.completions.create(messages=MESSAGES, seed=None, user=None)
    assert server.requests[0]["json"] == {"model": "dos-ai", "messages": MESSAGES, **params}
    assert server.requests[1]["json"] == {"model": "dos-ai", "messages": MESSAGES}


async def test_attrs_messages_are_serialized(client: AsyncDosAI, server: Scripted) -> None:
    """The package's message classes serialize like the equivalent dicts."""
    await client.chat.completions.create(messages=[UserMessage("hi", name="ann")])
    assert server.requests[0]["json"]["messages"] == [
        {"role": "user", "content": "hi", "name": "ann"}
    ]


async def test_response_message_can_be_sent_back(client: AsyncDosAI, server: Scripted) -> None:
    """An earlier reply's message object can be appended to the next call's messages."""
    first = await client.chat.completions.create(messages=MESSAGES)
    await client.chat.completions.create(messages=[*MESSAGES, first.choices[0].message])
    assert server.requests[1]["json"]["messages"][1] == {"role": "assistant", "content": "Paris."}


async def test_extra_body_and_headers(client: AsyncDosAI, server: Scripted) -> None:
    """extra_body merges into the JSON body; extra_headers go on this call only."""
    await client.chat.completions.create(
        messages=MESSAGES, extra_body={"guided_json": {}}, extra_headers={"X-DOS-Cache": "off"}
    )
    await client.chat.completions.create(messages=MESSAGES)
    assert server.requests[0]["json"]["guided_json"] == {}
    assert server.requests[0]["headers"]["X-DOS-Cache"] == "off"
    assert "X-DOS-Cache" not in server.requests[1]["headers"]


async def test_unknown_keyword_is_rejected_before_sending(
    client: AsyncDosAI, server: Scripted
) -> None:
    """A misspelt parameter raises TypeError naming it, and nothing is sent."""
    with pytest.raises(TypeError, match="temprature"):
        await client.chat.completions.create(messages=MESSAGES, temprature=1)  # type: ignore[call-arg]
    assert server.requests == []


@pytest.mark.parametrize(
    ("messages", "error"),
    [([], ValueError), ("hi", TypeError), ([42], TypeError), ({"role": "user"}, TypeError)],
)
async def test_bad_messages_are_rejected(client: AsyncDosAI, messages: Any, error: type) -> None:
    """Malformed ``messages`` raise a clear error before anything is sent."""
    with pytest.raises(error, match="messages"):
        await client.chat.completions.create(messages=messages)


async def test_unknown_fields_are_kept(client: AsyncDosAI, server: Scripted) -> None:
    """Fields this version does not model are reachable through ``extra``."""
    body = {**COMPLETION, "x_vendor": {"a": 1}}
    body["choices"] = [{**COMPLETION["choices"][0], "stop_reason": 151645}]
    server.reply(200, body)
    done = await client.chat.completions.create(messages=MESSAGES)
    assert done.extra["x_vendor"] == {"a": 1}
    assert done.choices[0].extra["stop_reason"] == 151645


async def test_dos_usage_extras_and_reasoning(client: AsyncDosAI, server: Scripted) -> None:
    """usage.cost, token details and both reasoning fields are modelled."""
    message = {"role": "assistant", "content": "4", "reasoning": "2+2", "reasoning_content": "x"}
    usage = {
        "prompt_tokens": 5,
        "completion_tokens": 3,
        "total_tokens": 8,
        "cost": 0.00012,
        "prompt_tokens_details": {"cached_tokens": 4},
        "completion_tokens_details": {"reasoning_tokens": 2},
    }
    server.reply(200, {**COMPLETION, "choices": [{"index": 0, "message": message}], "usage": usage})
    done = await client.chat.completions.create(messages=MESSAGES)
    assert done.choices[0].message.reasoning == "2+2"
    assert done.choices[0].message.reasoning_content == "x"
    assert done.usage is not None
    assert done.usage.cost == 0.00012
    assert done.usage.prompt_tokens_details is not None
    assert done.usage.prompt_tokens_details.cached_tokens == 4
    assert done.usage.completion_tokens_details is not None
    assert done.usage.completion_tokens_details.reasoning_tokens == 2


async def test_response_headers_and_request_id(client: AsyncDosAI, server: Scripted) -> None:
    """The x-request-id and every response header are reachable from the result."""
    server.reply(200, COMPLETION, x_request_id="req_42", X_DOS_Cache="hit")
    done = await client.chat.completions.create(messages=MESSAGES)
    assert done.request_id == "req_42"
    assert done.response is not None
    assert done.response.headers["x-dos-cache"] == "hit"


async def test_open_finish_reason(client: AsyncDosAI, server: Scripted) -> None:
    """finish_reason values outside the OpenAI set (vLLM's 'abort') parse as strings."""
    choice = {**COMPLETION["choices"][0], "finish_reason": "abort"}
    server.reply(200, {**COMPLETION, "choices": [choice]})
    done = await client.chat.completions.create(messages=MESSAGES)
    assert done.choices[0].finish_reason == "abort"


async def test_body_that_does_not_fit_names_the_field(client: AsyncDosAI, server: Scripted) -> None:
    """A 2xx body of the wrong shape raises ResponseValidationError with the field path."""
    server.reply(200, {**COMPLETION, "choices": [{"index": 0, "message": {"content": 5}}]})
    with pytest.raises(ResponseValidationError, match=r"choices\[0\]\.message\.content"):
        await client.chat.completions.create(messages=MESSAGES)


async def test_non_json_success_body(client: AsyncDosAI, server: Scripted) -> None:
    """A 200 that is not JSON raises ResponseValidationError quoting the body."""
    server.reply(200, "<html>maintenance</html>")
    with pytest.raises(ResponseValidationError, match="not JSON"):
        await client.chat.completions.create(messages=MESSAGES)


async def test_models_list_and_retrieve(client: AsyncDosAI, server: Scripted) -> None:
    """GET /v1/models and /v1/models/{id}, with DOS's context_length and string pricing."""
    model = {
        "id": "dos-ai",
        "object": "model",
        "created": 1,
        "owned_by": "dos",
        "context_length": 262144,
        "pricing": {"prompt": "0.0000001", "completion": "0.0000004"},
    }
    server.reply(200, {"object": "list", "data": [model]}).reply(200, model)
    models = await client.models.list()
    one = await client.models.retrieve("dos-ai")
    assert [m.id for m in models] == ["dos-ai"]
    assert one.context_length == 262144
    assert one.pricing == model["pricing"]
    assert [r["path"] for r in server.requests] == ["/v1/models", "/v1/models/dos-ai"]


async def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a key the constructor fails, naming DOS_AI_API_KEY."""
    monkeypatch.delenv("DOS_AI_API_KEY", raising=False)
    with pytest.raises(DosAIError, match="DOS_AI_API_KEY"):
        AsyncDosAI()


async def test_env_key_is_stripped(
    monkeypatch: pytest.MonkeyPatch, scripted: tuple[Scripted, str]
) -> None:
    """DOS_AI_API_KEY and DOS_AI_BASE_URL are read, and whitespace around the key dropped."""
    server, base_url = scripted
    monkeypatch.setenv("DOS_AI_API_KEY", "  dos_sk_env\n")
    monkeypatch.setenv("DOS_AI_BASE_URL", base_url)
    async with AsyncDosAI() as client:
        await client.chat.completions.create(messages=MESSAGES)
    assert server.requests[0]["headers"]["Authorization"] == "Bearer dos_sk_env"


async def test_closed_client_raises(client: AsyncDosAI) -> None:
    """Using a closed client raises a clear error."""
    await client.close()
    with pytest.raises(DosAIError, match="closed"):
        await client.chat.completions.create(messages=MESSAGES)


async def test_borrowed_session_is_not_closed(scripted: tuple[Scripted, str]) -> None:
    """A session passed in is used and left open for its owner."""
    _, base_url = scripted
    async with aiohttp.ClientSession() as session:
        async with AsyncDosAI(api_key="k", base_url=base_url, http_session=session) as client:
            await client.chat.completions.create(messages=MESSAGES)
        assert not session.closed


async def test_default_headers(scripted: tuple[Scripted, str]) -> None:
    """default_headers go on every request."""
    server, base_url = scripted
    async with AsyncDosAI(api_key="k", base_url=base_url, default_headers={"X-A": "1"}) as c:
        await c.chat.completions.create(messages=MESSAGES)
    assert server.requests[0]["headers"]["X-A"] == "1"


def test_client_survives_a_second_event_loop() -> None:
    """One client used from two event loops in turn (as test suites do) keeps working."""
    server = Scripted()
    with serve_in_thread(server) as base_url:
        client = AsyncDosAI(api_key="k", base_url=base_url)

        async def call() -> str | None:
            done = await client.chat.completions.create(messages=MESSAGES)
            return done.choices[0].message.content

        assert asyncio.run(call()) == "Paris."
        assert asyncio.run(call()) == "Paris."  # a new loop; the first one is closed
        asyncio.run(client.close())
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    "url", ["http://api.example.com/v1", "http://10.0.0.5/v1", "http://[2001:db8::1]/v1"]
)
def test_plain_http_to_remote_host_is_refused(url: str) -> None:
    """The key is not sent over plain http to a non-loopback host without an opt-in."""
    with pytest.raises(DosAIError, match="allow_insecure_http"):
        AsyncDosAI(api_key="dos_sk_secret", base_url=url)


def test_plain_http_opt_in_and_loopback_allowed() -> None:
    """Loopback hosts and an explicit opt-in are allowed over http."""
    AsyncDosAI(api_key="k", base_url="http://localhost:8400/v1")
    AsyncDosAI(api_key="k", base_url="http://example.com/v1", allow_insecure_http=True)


def test_repr_hides_the_key() -> None:
    """repr(client) never shows the key."""
    client = AsyncDosAI(api_key="dos_sk_supersecret")
    assert "supersecret" not in repr(client)


async def test_per_call_timeout_number_means_total(client: AsyncDosAI) -> None:
    """timeout=N on a call sets the total deadline and keeps the client's other limits."""
    options = client._call_options({"timeout": 3})
    assert options.timeout == Timeout(total=3.0)
