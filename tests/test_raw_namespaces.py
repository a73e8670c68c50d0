"""``with_raw_response`` / ``with_streaming_response`` on files, batches, embeddings, key and
balance, over loopback against the emulator; the official ``openai`` client's shape beside."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import openai
import pytest

from dosai_async import AsyncDosAI, CreateEmbeddingResponse, RetryPolicy
from dosai_async.testing import DosAIEmulator, Fault
from dosai_async.types import Batch, BatchList, FileDeleted, FileList, FileObject

LINE = {
    "custom_id": "r0",
    "method": "POST",
    "url": "/v1/chat/completions",
    "body": {"model": "dos-ai", "messages": [{"role": "user", "content": "hi"}]},
}
DATA = (json.dumps(LINE) + "\n").encode()


@pytest.fixture
async def emu() -> AsyncIterator[DosAIEmulator]:
    """An emulator whose batches run slowly (a line per second): a batch stays cancellable."""
    async with DosAIEmulator(batch_interval=1.0, balance=5.0) as emulator:
        yield emulator


@pytest.fixture
async def client(emu: DosAIEmulator) -> AsyncIterator[AsyncDosAI]:
    """A client for the emulator that retries without sleeping."""
    async with AsyncDosAI(
        api_key=emu.api_key, base_url=emu.base_url, retry=RetryPolicy.zero_wait()
    ) as dos:
        yield dos


async def test_files_raw_responses(client: AsyncDosAI, emu: DosAIEmulator) -> None:
    """create, retrieve, content, list and delete: status, headers, URL and parse() each."""
    created = await client.files.with_raw_response.create(file=DATA)
    uploaded = created.parse()
    assert isinstance(uploaded, FileObject)
    assert (created.status_code, created.method) == (200, "POST")
    assert created.url == emu.base_url + "/files"
    assert uploaded.response is not None
    assert created.request_id == created.headers["x-request-id"] == uploaded.response.request_id
    assert created.json()["id"] == uploaded.id

    got = await client.files.with_raw_response.retrieve(uploaded.id)
    assert got.parse() == uploaded
    assert got.url == f"{emu.base_url}/files/{uploaded.id}"

    content = await client.files.with_raw_response.content(uploaded.id)
    assert content.parse() == content.content == DATA
    assert content.url == f"{emu.base_url}/files/{uploaded.id}/content"
    assert content.request_id is not None

    listing = await client.files.with_raw_response.list(limit=5)
    page = listing.parse()
    assert isinstance(page, FileList)
    assert [f.id for f in page.data] == [uploaded.id]
    assert listing.url == emu.base_url + "/files?limit=5"

    async with client.files.with_streaming_response.delete(uploaded.id) as response:
        assert response.status_code == 200
        deleted = await response.parse()
        assert isinstance(deleted, FileDeleted)
        assert deleted.deleted
        assert json.loads(await response.read())["id"] == uploaded.id


async def test_batches_raw_responses(client: AsyncDosAI, emu: DosAIEmulator) -> None:
    """create, retrieve, cancel and list: each the one exchange it sends."""
    uploaded = await client.files.create(file=DATA)
    created = await client.batches.with_raw_response.create(input_file_id=uploaded.id)
    batch = created.parse()
    assert isinstance(batch, Batch)
    assert (created.method, created.url) == ("POST", emu.base_url + "/batches")
    assert batch.response is not None
    assert created.request_id == batch.response.request_id is not None

    got = await client.batches.with_raw_response.retrieve(batch.id)
    assert got.parse().id == batch.id
    assert got.status_code == 200

    async with client.batches.with_streaming_response.cancel(batch.id) as response:
        cancelled = await response.parse()
        assert cancelled.status in ("cancelling", "cancelled")
        assert response.url == f"{emu.base_url}/batches/{batch.id}/cancel"
        assert cancelled.response is not None
        assert response.request_id == cancelled.response.request_id is not None

    listing = await client.batches.with_raw_response.list()
    assert isinstance(listing.parse(), BatchList)
    assert [b.id for b in listing.parse().data] == [batch.id]


async def test_embeddings_raw_response(client: AsyncDosAI, emu: DosAIEmulator) -> None:
    """embeddings.create: the wire body is base64, parse() has the floats."""
    raw = await client.embeddings.with_raw_response.create(input=["a", "b"])
    answer = raw.parse()
    assert isinstance(answer, CreateEmbeddingResponse)
    assert len(answer.data) == 2
    assert isinstance(answer.data[0].embedding[0], float)
    assert isinstance(raw.json()["data"][0]["embedding"], str)  # base64 on the wire
    assert raw.request_id == answer.request_id is not None
    assert emu.requests[-1].path.endswith("/embeddings")
    async with client.embeddings.with_streaming_response.create(input="a") as response:
        assert len((await response.parse()).data) == 1


async def test_key_and_balance_raw_responses(client: AsyncDosAI, emu: DosAIEmulator) -> None:
    """key and balance: parse() is what retrieve() returns; the body is the wire's."""
    key = await client.key.with_raw_response.retrieve()
    assert key.parse().limit == 5.0
    assert key.json()["data"]["limit"] == 5.0  # the envelope, as sent
    assert key.url == emu.base_url + "/key"
    async with client.balance.with_streaming_response.retrieve() as response:
        assert (await response.parse()).balance == 5.0
        assert response.url == emu.base_url + "/user/balance"


async def test_raw_response_counts_retries_on_every_namespace(
    client: AsyncDosAI, emu: DosAIEmulator
) -> None:
    """A retried GET reports the attempts before the answer, as chat's does."""
    emu.enqueue(Fault.status(503), route="account")
    raw = await client.balance.with_raw_response.retrieve()
    assert (raw.retries_taken, raw.status_code) == (1, 200)


async def test_refused_methods_say_why(client: AsyncDosAI, tmp_path: Path) -> None:
    """What is not one exchange is refused before anything is sent, with the reason."""
    with pytest.raises(AttributeError, match="run_file is not offered: it is a whole job"):
        client.batches.with_raw_response.run_file  # noqa: B018
    with pytest.raises(AttributeError, match="create_many is not offered: it fans out"):
        client.embeddings.with_streaming_response.create_many  # noqa: B018
    with pytest.raises(TypeError, match=r"content\(to=...\) is refused: the body goes to disk"):
        await client.files.with_raw_response.content("file-x", to=tmp_path / "out")
    with pytest.raises(AttributeError, match="has no method 'upload'"):
        client.files.with_raw_response.upload  # noqa: B018


async def test_same_shape_as_openai(client: AsyncDosAI, emu: DosAIEmulator) -> None:
    """openai's ``with_raw_response`` on the same emulator: the same status, same parsed
    object, the same kind of headers."""
    uploaded = await client.files.create(file=DATA)
    ours = await client.files.with_raw_response.retrieve(uploaded.id)
    async with openai.AsyncOpenAI(
        base_url=emu.base_url, api_key=emu.api_key, max_retries=0
    ) as theirs_client:
        theirs = await theirs_client.files.with_raw_response.retrieve(uploaded.id)
        page = await theirs_client.files.with_raw_response.list()
    assert theirs.status_code == ours.status_code
    assert theirs.parse().model_dump(exclude_none=True) == ours.parse().to_dict()
    assert theirs.headers["x-request-id"] != ours.request_id  # one per request, both sent
    assert theirs.headers["content-type"] == ours.headers["content-type"]
    assert [f.id for f in page.parse().data] == [f.id for f in (await client.files.list()).data]
