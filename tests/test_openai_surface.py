"""The openai call surface over loopback: with_options/copy, raw and streaming responses,
model dumps, ``APIError`` and ``e.response``."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest

from dosai_async import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AsyncDosAI,
    ChatCompletion,
    ChatCompletionMessage,
    Choice,
    DosAIError,
    ModelList,
    NotFoundError,
    ResponseMeta,
    ResponseValidationError,
    RetryPolicy,
    ServiceUnavailableError,
)
from dosai_async.testing import DosAIEmulator, Fault
from tests._rawserver import client_sockets, pool, refused_port

MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]


@pytest.fixture
async def client(emulator: DosAIEmulator) -> AsyncIterator[AsyncDosAI]:
    """A client for the emulator that retries without sleeping."""
    async with AsyncDosAI(
        api_key=emulator.api_key, base_url=emulator.base_url, retry=RetryPolicy.zero_wait()
    ) as dos:
        yield dos


def without_nulls(value: Any) -> Any:
    """JSON data with null object members left out, as ``to_dict()`` leaves them."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


# -- with_options / copy --------------------------------------------------------------------


async def test_copies_share_the_connection_pool(
    client: AsyncDosAI, emulator: DosAIEmulator
) -> None:
    """Calls through the client and two copies reuse one keep-alive connection."""
    await client.chat.completions.create(messages=MESSAGES)
    await client.with_options(timeout=30).chat.completions.create(messages=MESSAGES)
    await client.copy(max_retries=5).with_options(timeout=20).models.list()
    assert len(emulator.requests) == 3
    assert client_sockets(emulator.port) == 1


async def test_closing_a_copy_leaves_the_pool_open(
    client: AsyncDosAI, emulator: DosAIEmulator
) -> None:
    """A copy closed (or left by ``async with``) stops; the original still sends."""
    async with client.with_options(timeout=30) as copy:
        await copy.models.list()
    assert copy.is_closed
    with pytest.raises(DosAIError, match="closed"):
        await copy.models.list()
    assert not client.is_closed
    await client.models.list()
    assert client_sockets(emulator.port) == 1


async def test_closing_the_original_closes_its_copies(emulator: DosAIEmulator) -> None:
    """The pool belongs to the original: once it is closed, copies refuse to send."""
    original = AsyncDosAI(api_key=emulator.api_key, base_url=emulator.base_url)
    copy = original.with_options(max_retries=0)
    await copy.models.list()
    await original.close()
    assert copy.is_closed
    with pytest.raises(DosAIError, match="closed"):
        await copy.models.list()
    assert pool(original).acquired == 0


async def test_copy_timeout_is_its_own(client: AsyncDosAI, emulator: DosAIEmulator) -> None:
    """A copy's total timeout applies to its calls; the original keeps its own."""
    emulator.enqueue(Fault.stall_before_headers(5))
    fast = client.with_options(timeout=0.2, max_retries=0)
    with pytest.raises(APITimeoutError):
        await fast.chat.completions.create(messages=MESSAGES)
    assert fast.timeout.total == 0.2
    assert client.timeout.total != 0.2
    await client.chat.completions.create(messages=MESSAGES)


async def test_copy_max_retries_is_its_own(client: AsyncDosAI, emulator: DosAIEmulator) -> None:
    """``max_retries=0`` on a copy sends once; the original retries past the same fault."""
    emulator.enqueue(Fault.status(503))
    with pytest.raises(ServiceUnavailableError):
        await client.with_options(max_retries=0).chat.completions.create(messages=MESSAGES)
    assert len(emulator.requests) == 1
    emulator.enqueue(Fault.status(503))
    await client.chat.completions.create(messages=MESSAGES)
    assert len(emulator.requests) == 3


async def test_copy_headers_and_key(client: AsyncDosAI, emulator: DosAIEmulator) -> None:
    """``default_headers`` add to the original's, ``set_default_headers`` replace them,
    ``api_key`` changes the key sent; the original's requests are unchanged."""
    tagged = client.with_options(default_headers={"X-DOS-Cache": "off"})
    await tagged.with_options(default_headers={"X-Team": "a"}).models.list()
    await tagged.with_options(set_default_headers={"X-Team": "b"}).models.list()
    await client.with_options(api_key=" dos_sk_other_key_9999 ").models.list()
    await client.models.list()
    first, second, other_key, plain = (r.headers for r in emulator.requests)
    assert (first["x-dos-cache"], first["x-team"]) == ("off", "a")
    assert "x-dos-cache" not in second
    assert second["x-team"] == "b"
    assert other_key["authorization"].endswith("9999")
    assert "x-dos-cache" not in plain
    assert plain["authorization"] == first["authorization"] != other_key["authorization"]


async def test_copy_refuses_both_header_arguments(client: AsyncDosAI) -> None:
    """Adding and replacing headers at once is ambiguous: a clear ValueError."""
    with pytest.raises(ValueError, match="not both"):
        client.copy(default_headers={"a": "1"}, set_default_headers={"b": "2"})


async def test_copy_checks_a_new_base_url(client: AsyncDosAI) -> None:
    """A copy's base_url gets the same checks as the constructor's."""
    with pytest.raises(DosAIError, match="plain http"):
        client.with_options(base_url="http://example.com/v1")


# -- with_raw_response / with_streaming_response -------------------------------------------


async def test_raw_response_matches_the_wire(client: AsyncDosAI, emulator: DosAIEmulator) -> None:
    """Status, headers and request id are the server's; parse() is the typed completion,
    not awaited (the body is read), as openai's ``LegacyAPIResponse.parse()``."""
    raw = await client.chat.completions.with_raw_response.create(messages=MESSAGES)
    done = raw.parse()
    assert isinstance(done, ChatCompletion)
    assert raw.status_code == 200
    assert raw.request_id is not None
    assert raw.request_id == raw.headers["x-request-id"] == done.request_id
    assert raw.headers["X-Provider"] == "dos-emulator"
    assert (raw.method, raw.url) == ("POST", emulator.base_url + "/chat/completions")
    assert raw.retries_taken == 0
    assert raw.elapsed.total_seconds() > 0
    wire = json.loads(raw.text)
    assert raw.json() == wire == json.loads(raw.content)
    assert without_nulls(done.to_dict()) == without_nulls(wire)


async def test_raw_response_counts_retries(client: AsyncDosAI, emulator: DosAIEmulator) -> None:
    """``retries_taken`` counts the attempts before the one that answered."""
    emulator.enqueue(Fault.status(503), times=2)
    raw = await client.chat.completions.with_raw_response.create(messages=MESSAGES)
    assert raw.retries_taken == 2
    assert raw.status_code == 200
    assert len(emulator.requests) == 3


async def test_raw_response_of_a_stream(client: AsyncDosAI) -> None:
    """With ``stream=True``, parse() gives the open stream; its body is read through it."""
    raw = await client.chat.completions.with_raw_response.create(messages=MESSAGES, stream=True)
    assert raw.headers["content-type"].startswith("text/event-stream")
    with pytest.raises(TypeError, match="stream"):
        raw.content  # noqa: B018
    async with raw.parse() as stream:
        texts = [chunk.choices[0].delta.content async for chunk in stream if chunk.choices]
    assert "".join(t or "" for t in texts)
    assert raw.request_id == stream.response.request_id


async def test_streaming_response_closes_the_stream(
    client: AsyncDosAI, emulator: DosAIEmulator
) -> None:
    """Leaving the block in the middle of a stream releases its connection."""
    emulator.enqueue(Fault.stall_mid_stream(after_events=3, seconds=30))
    manager = client.chat.completions.with_streaming_response.create(messages=MESSAGES, stream=True)
    async with manager as response:
        assert response.status_code == 200
        stream = await response.parse()
        async for _ in stream:
            break
        assert pool(client).acquired == 1
    assert pool(client).acquired == 0


async def test_streaming_response_of_a_plain_call(client: AsyncDosAI) -> None:
    """Without ``stream=True`` the block holds the finished response."""
    async with client.chat.completions.with_streaming_response.create(messages=MESSAGES) as r:
        assert (await r.parse()).choices[0].message.content
        assert json.loads(await r.read())["object"] == "chat.completion"


async def test_raw_response_on_models(client: AsyncDosAI, emulator: DosAIEmulator) -> None:
    """``models`` has the same mechanism: list and retrieve, with their URLs."""
    listing = await client.models.with_raw_response.list()
    assert isinstance(listing.parse(), ModelList)
    one = await client.models.with_raw_response.retrieve("dos-ai")
    assert one.parse().id == "dos-ai"
    assert one.url == emulator.base_url + "/models/dos-ai"
    async with client.models.with_streaming_response.list() as response:
        assert response.status_code == 200


async def test_raw_response_raises_status_errors(client: AsyncDosAI) -> None:
    """A non-2xx answer raises as the plain call does (openai does the same)."""
    with pytest.raises(NotFoundError):
        await client.models.with_raw_response.retrieve("no-such-model")


async def test_raw_response_has_only_public_coroutines(client: AsyncDosAI) -> None:
    """A name that is no public API method is an AttributeError naming it."""
    with pytest.raises(AttributeError, match="'stream'"):
        client.chat.completions.with_raw_response.stream  # noqa: B018
    with pytest.raises(AttributeError, match="'_prepare'"):
        client.chat.completions.with_raw_response._prepare  # noqa: B018


# -- model dumps ----------------------------------------------------------------------------


async def test_model_dump_round_trip(client: AsyncDosAI, emulator: DosAIEmulator) -> None:
    """model_dump has every field; its JSON and to_json read back to the same data."""
    raw = await client.chat.completions.with_raw_response.create(messages=MESSAGES)
    done = raw.parse()
    full = done.model_dump()
    assert full["system_fingerprint"] is None
    assert full["choices"][0]["message"]["refusal"] is None
    assert without_nulls(full) == without_nulls(raw.json())
    assert json.loads(done.model_dump_json()) == done.model_dump(mode="json")
    assert done.model_dump(exclude_none=True) == done.to_dict() == json.loads(done.to_json())
    assert done.to_dict(exclude_unset=False) == full


def test_dump_layouts() -> None:
    """Compact, openai's two-space default, and other indents (pydantic's layout)."""
    message = ChatCompletionMessage(content="hi")
    assert message.model_dump_json(exclude_none=True) == '{"role":"assistant","content":"hi"}'
    assert message.to_json() == '{\n  "role": "assistant",\n  "content": "hi"\n}'
    assert message.to_json(indent=4) == '{\n    "role": "assistant",\n    "content": "hi"\n}'


def test_dump_keeps_unknown_fields() -> None:
    """Fields this version does not model come back in every dump."""
    choice = Choice(message=ChatCompletionMessage(content="x"), extra={"stop_reason": 7})
    assert choice.model_dump()["stop_reason"] == 7
    assert choice.to_dict()["stop_reason"] == 7


def test_dump_refuses_an_unknown_mode() -> None:
    """``mode`` is "python" or "json"; anything else says so."""
    with pytest.raises(ValueError, match="mode must be"):
        ChatCompletion().model_dump(mode="xml")  # type: ignore[arg-type]


def test_models_stay_slotted() -> None:
    """The dump methods add no per-object state: models still have no ``__dict__``."""
    assert not hasattr(ChatCompletion(), "__dict__")
    assert not hasattr(ChatCompletionMessage(), "__dict__")


# -- errors ---------------------------------------------------------------------------------


async def test_api_error_catches_status_errors_with_response(client: AsyncDosAI) -> None:
    """``except APIError`` catches a 404; ``e.response`` has its status and headers."""
    with pytest.raises(APIError) as caught:
        await client.models.retrieve("no-such-model")
    error = caught.value
    assert isinstance(error, APIStatusError)
    assert isinstance(error.response, ResponseMeta)
    assert error.response.status_code == 404 == error.status_code
    assert error.response.headers == error.headers
    assert error.response.request_id == error.request_id is not None
    assert isinstance(error.body, dict)
    assert error.body["error"]["code"] == "model_not_found"


async def test_api_error_catches_connection_errors() -> None:
    """A refused connection is an APIError too, as in openai."""
    url = f"http://127.0.0.1:{refused_port()}/v1"
    async with AsyncDosAI(api_key="dos_sk_x", base_url=url, max_retries=0) as client:
        with pytest.raises(APIError) as caught:
            await client.models.list()
    assert isinstance(caught.value, APIConnectionError)


def test_api_error_tree() -> None:
    """APIError sits under DosAIError and over every error of an API call."""
    assert issubclass(APIError, DosAIError)
    for cls in (APIConnectionError, APITimeoutError, APIStatusError, ResponseValidationError):
        assert issubclass(cls, APIError)
    assert APIError.__module__ == "dosai_async"


def test_client_side_errors_are_not_api_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """No API key is the caller's mistake, not an API error (openai's OpenAIError)."""
    monkeypatch.delenv("DOS_AI_API_KEY", raising=False)
    with pytest.raises(DosAIError) as caught:
        AsyncDosAI()
    assert not isinstance(caught.value, APIError)


async def test_results_pickle_and_deep_copy(client: AsyncDosAI) -> None:
    """Completions and chunks survive ``pickle`` and ``copy.deepcopy`` (pydantic models do;
    ``extra`` is a read-only mapping pickle would refuse), and stay frozen."""
    completion = await client.chat.completions.create(messages=MESSAGES)
    stream = await client.chat.completions.create(messages=MESSAGES, stream=True)
    async with stream:
        chunk = await anext(aiter(stream))
    for original in (completion, chunk):
        for clone in (copy.deepcopy(original), pickle.loads(pickle.dumps(original))):
            assert clone == original
            assert clone is not original
            with pytest.raises(attrs.exceptions.FrozenInstanceError):
                clone.id = "changed"  # type: ignore[misc]
    response = pickle.loads(pickle.dumps(completion)).response
    assert response.request_id == completion.request_id
    assert response.headers.get("X-Request-ID") == response.headers["x-request-id"]
    assert dict(response.headers) == dict(completion.response.headers)
    assert copy.deepcopy(completion).response.status_code == 200
