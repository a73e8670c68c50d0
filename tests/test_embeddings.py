"""``client.embeddings``: create (float and base64), dimensions, errors, and create_many."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import pytest

from dosai_async import (
    AsyncDosAI,
    BadRequestError,
    CreateEmbeddingResponse,
    InsufficientCreditsError,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
)
from dosai_async.testing import DosAIEmulator, Fault

TEXTS = ["hello", "world", "a longer sentence to embed"]


@pytest.fixture
async def emu() -> AsyncIterator[DosAIEmulator]:
    """A fresh emulator."""
    async with DosAIEmulator() as emulator:
        yield emulator


@pytest.fixture
async def client(emu: DosAIEmulator) -> AsyncIterator[AsyncDosAI]:
    """A client of the emulator whose retries do not wait."""
    retry = RetryPolicy(max_retries=2, initial_backoff=0.0, max_backoff=0.0)
    async with AsyncDosAI(api_key=emu.api_key, base_url=emu.base_url, retry=retry) as sdk:
        yield sdk


async def test_create_returns_one_unit_vector_per_input_in_order(client: AsyncDosAI) -> None:
    """Three texts give three 2560-float unit vectors indexed 0..2, with usage and cost."""
    answer = await client.embeddings.create(input=TEXTS)
    assert isinstance(answer, CreateEmbeddingResponse)
    assert [item.index for item in answer.data] == [0, 1, 2]
    assert all(len(vector) == 2560 for vector in answer.vectors)
    assert all(isinstance(x, float) for x in answer.data[0].embedding)
    assert math.isclose(math.fsum(x * x for x in answer.data[0].embedding), 1.0, rel_tol=1e-5)
    assert answer.model == "qwen3-embedding-4b"
    assert answer.usage is not None
    assert answer.usage.prompt_tokens > 0
    assert answer.usage.total_tokens == answer.usage.prompt_tokens
    assert answer.usage.cost is not None
    assert answer.usage.cost > 0


async def test_float_and_base64_give_equal_vectors(client: AsyncDosAI) -> None:
    """Both wire encodings decode to exactly the same floats."""
    floats = await client.embeddings.create(input=TEXTS, encoding_format="float")
    packed = await client.embeddings.create(input=TEXTS, encoding_format="base64")
    assert floats.vectors == packed.vectors


async def test_base64_is_asked_for_unless_the_caller_says(
    client: AsyncDosAI, emu: DosAIEmulator
) -> None:
    """Unset: the body says base64 (the faster wire format); set: what the caller said."""
    await client.embeddings.create(input="hi")
    await client.embeddings.create(input="hi", encoding_format="float")
    sent = [request.body for request in emu.requests]
    assert [body["encoding_format"] for body in sent] == ["base64", "float"]
    assert sent[0]["input"] == "hi"
    assert "dimensions" not in sent[0]


async def test_dimensions_shorten_the_vectors(client: AsyncDosAI) -> None:
    """``dimensions=256`` gives 256 components that are still a unit vector."""
    answer = await client.embeddings.create(input="hi", dimensions=256)
    vector = answer.data[0].embedding
    assert len(vector) == 256
    assert math.isclose(math.fsum(x * x for x in vector), 1.0, rel_tol=1e-5)


async def test_an_empty_string_in_a_list_is_refused_before_sending(
    client: AsyncDosAI, emu: DosAIEmulator
) -> None:
    """The client names the position of the empty text and sends nothing."""
    with pytest.raises(ValueError, match=r"input\[1\] is an empty string"):
        await client.embeddings.create(input=["a", ""])
    assert emu.requests == []


async def test_the_servers_400_is_a_typed_error(client: AsyncDosAI) -> None:
    """An out-of-range ``dimensions`` comes back as ``BadRequestError`` naming the field."""
    with pytest.raises(BadRequestError) as caught:
        await client.embeddings.create(input="hi", dimensions=99999)
    assert caught.value.status_code == 400
    assert caught.value.param == "dimensions"


async def test_a_chat_model_is_a_404(client: AsyncDosAI) -> None:
    """``model="dos-ai"`` does not serve embeddings: ``NotFoundError``."""
    with pytest.raises(NotFoundError, match="does not serve embeddings"):
        await client.embeddings.create(input="hi", model="dos-ai")


async def test_no_credits_is_insufficient_credits_error(
    client: AsyncDosAI, emu: DosAIEmulator
) -> None:
    """At a zero balance the 402 is ``InsufficientCreditsError``, sent once (never retried)."""
    emu.balance = 0
    with pytest.raises(InsufficientCreditsError):
        await client.embeddings.create(input="hi")
    assert len(emu.requests) == 1


async def test_bad_arguments_are_refused_with_a_clear_error(client: AsyncDosAI) -> None:
    """A wrong encoding, a non-string input or an unknown keyword says what was wrong."""
    with pytest.raises(ValueError, match="encoding_format must be 'float' or 'base64'"):
        await client.embeddings.create(input="hi", encoding_format="int8")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"input\[0\] must be a string"):
        await client.embeddings.create(input=[1])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        await client.embeddings.create(input="hi", colour="red")  # type: ignore[call-arg]


# -- create_many ---------------------------------------------------------------------------


async def test_create_many_keeps_input_order_and_sums_usage(
    client: AsyncDosAI, emu: DosAIEmulator
) -> None:
    """103 texts in chunks of 10: 11 requests, vectors equal to one-by-one answers, in order."""
    texts = [f"text {i}" for i in range(103)]
    answer = await client.embeddings.create_many(texts, batch_size=10, concurrency=4)
    assert len(emu.requests) == 11
    assert [item.index for item in answer.data] == list(range(103))
    for position in (0, 57, 102):
        alone = await client.embeddings.create(input=texts[position])
        assert answer.data[position].embedding == alone.data[0].embedding
    assert answer.usage is not None
    sizes = [len(request.body["input"]) for request in emu.requests[:11]]
    assert sorted(sizes) == [3] + [10] * 10


async def test_create_many_bounds_requests_in_flight(
    client: AsyncDosAI, emu: DosAIEmulator
) -> None:
    """With ``concurrency=3`` the server never handles more than 3 requests at once."""
    emu.enqueue(Fault.stall_before_headers(0.05), route="embeddings", times=12)
    texts = [f"t{i}" for i in range(24)]
    answer = await client.embeddings.create_many(texts, batch_size=2, concurrency=3)
    assert len(answer.data) == 24
    assert emu.stats.max_in_flight == 3


async def test_create_many_retries_a_chunk_that_got_a_429(
    client: AsyncDosAI, emu: DosAIEmulator
) -> None:
    """A chunk answered 429 is sent again and the result is complete and ordered."""
    emu.enqueue(Fault.status(429, retry_after=0), route="embeddings")
    texts = [f"t{i}" for i in range(9)]
    answer = await client.embeddings.create_many(texts, batch_size=3, concurrency=1)
    assert [item.index for item in answer.data] == list(range(9))
    assert [request.fault is not None for request in emu.requests] == [True] + [False] * 3


async def test_create_many_raises_the_error_of_a_chunk_that_keeps_failing(
    client: AsyncDosAI, emu: DosAIEmulator
) -> None:
    """A chunk refused more often than the retry policy allows raises its ``RateLimitError``."""
    emu.enqueue(Fault.status(429, retry_after=0), route="embeddings", times=3)
    with pytest.raises(RateLimitError):
        await client.embeddings.create_many(["a", "b"], batch_size=2)
    assert len(emu.requests) == 3  # max_retries=2: three sends, all refused


async def test_create_many_refuses_bad_arguments_before_sending(
    client: AsyncDosAI, emu: DosAIEmulator
) -> None:
    """A single string, a zero batch size or an empty text is refused by name."""
    with pytest.raises(TypeError, match="not a single string"):
        await client.embeddings.create_many("abc")
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        await client.embeddings.create_many(["a"], batch_size=0)
    with pytest.raises(ValueError, match=r"input\[2\] is an empty string"):
        await client.embeddings.create_many(["a", "b", ""], batch_size=5)
    assert emu.requests == []


async def test_create_many_reads_an_async_iterable(client: AsyncDosAI) -> None:
    """Texts from an async generator are embedded in order."""

    async def texts() -> AsyncIterator[str]:
        for i in range(5):
            yield f"t{i}"

    answer = await client.embeddings.create_many(texts(), batch_size=2)
    assert [item.index for item in answer.data] == [0, 1, 2, 3, 4]
