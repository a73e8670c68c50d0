"""The emulator's embeddings, files, batches, key and balance routes.

Driven through the official `openai` package where OpenAI has the same API, and raw aiohttp
for the DOS-specific routes. Batches run with a tiny `batch_interval` and every wait is
bounded, so the file stays fast.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import pytest

from dosai_async.testing import DosAIEmulator, Fault

EMBEDDER = "qwen3-embedding-4b"
CHAT_URL = "/v1/chat/completions"
DEADLINE = 10.0


def line(i: int, **body: Any) -> dict[str, Any]:
    """One batch input line asking a small chat question."""
    request = {"model": "dos-ai", "messages": [{"role": "user", "content": f"q {i}"}], **body}
    return {"custom_id": f"r{i}", "method": "POST", "url": CHAT_URL, "body": request}


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    """Lines as a JSONL file."""
    return "".join(json.dumps(item) + "\n" for item in lines).encode()


def auth(emu: DosAIEmulator) -> dict[str, str]:
    """The Authorization header for the emulator."""
    return {"Authorization": f"Bearer {emu.api_key}"}


@pytest.fixture
async def emu() -> AsyncIterator[DosAIEmulator]:
    """An emulator whose batches run at 1 ms per line."""
    async with DosAIEmulator(batch_interval=0.001) as emulator:
        yield emulator


@pytest.fixture
async def sdk(emu: DosAIEmulator) -> AsyncIterator[openai.AsyncOpenAI]:
    """The official async client pointed at the emulator."""
    async with openai.AsyncOpenAI(
        base_url=emu.base_url, api_key=emu.api_key, max_retries=0
    ) as client:
        yield client


async def start_batch(
    sdk: openai.AsyncOpenAI, lines: list[dict[str, Any]], **options: Any
) -> openai.types.Batch:
    """Upload the lines and create a chat batch from them."""
    uploaded = await sdk.files.create(file=("in.jsonl", jsonl(lines)), purpose="batch")
    return await sdk.batches.create(
        input_file_id=uploaded.id, endpoint=CHAT_URL, completion_window="24h", **options
    )


async def settle(sdk: openai.AsyncOpenAI, batch_id: str) -> openai.types.Batch:
    """Poll the batch until it is final (bounded)."""
    async with asyncio.timeout(DEADLINE):
        while True:
            batch = await sdk.batches.retrieve(batch_id)
            if batch.status in ("completed", "failed", "expired", "cancelled"):
                return batch
            await asyncio.sleep(0.01)


async def progressed(sdk: openai.AsyncOpenAI, batch_id: str, lines: int) -> None:
    """Poll until at least `lines` lines of the batch completed (bounded)."""
    async with asyncio.timeout(DEADLINE):
        while True:
            counts = (await sdk.batches.retrieve(batch_id)).request_counts
            if counts is not None and counts.completed >= lines:
                return
            await asyncio.sleep(0.01)


async def download(sdk: openai.AsyncOpenAI, file_id: str | None) -> list[dict[str, Any]]:
    """A batch output file's lines, parsed."""
    assert file_id is not None
    content = await sdk.files.content(file_id)
    return [json.loads(text) for text in content.text.splitlines()]


# -- embeddings ----------------------------------------------------------------------------


async def test_embeddings_float_and_base64_decode_to_the_same_unit_vectors(
    sdk: openai.AsyncOpenAI,
) -> None:
    """base64 (the SDK's default) and float give the same float32 numbers, norm 1."""
    packed = await sdk.embeddings.create(model=EMBEDDER, input=["hello", "world"])
    plain = await sdk.embeddings.create(
        model=EMBEDDER, input=["hello", "world"], encoding_format="float"
    )
    assert [d.embedding for d in packed.data] == [d.embedding for d in plain.data]
    first = plain.data[0].embedding
    assert len(first) == 2560
    assert math.isclose(math.fsum(x * x for x in first), 1.0, rel_tol=1e-5)
    assert first != plain.data[1].embedding
    assert plain.object == "list"
    assert [d.index for d in plain.data] == [0, 1]
    assert plain.usage.prompt_tokens == plain.usage.total_tokens == 2


async def test_embeddings_are_deterministic_and_dimensions_renormalise(
    sdk: openai.AsyncOpenAI,
) -> None:
    """The same text embeds the same way; `dimensions` truncates and renormalises."""
    full = await sdk.embeddings.create(model=EMBEDDER, input="hello", encoding_format="float")
    again = await sdk.embeddings.create(model=EMBEDDER, input="hello", encoding_format="float")
    short = await sdk.embeddings.create(
        model=EMBEDDER, input="hello", dimensions=8, encoding_format="float"
    )
    assert full.data[0].embedding == again.data[0].embedding
    vector = short.data[0].embedding
    assert len(vector) == 8
    assert math.isclose(math.fsum(x * x for x in vector), 1.0, rel_tol=1e-5)
    head = full.data[0].embedding[:8]
    scale = vector[0] / head[0]
    assert all(math.isclose(a, b * scale, rel_tol=1e-4) for a, b in zip(vector, head, strict=True))


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"input": ""}, "empty string"),
        ({"input": []}, "non-empty"),
        ({"input": [[1, 2, 3]]}, "Token arrays"),
        ({"input": "x", "dimensions": 2561}, "between 1 and 2560"),
        ({"input": "x", "dimensions": 0}, "between 1 and 2560"),
        ({"input": "x", "encoding_format": "int8"}, "encoding_format"),
    ],
)
async def test_embeddings_refuse_bad_requests_with_400(
    sdk: openai.AsyncOpenAI, options: dict[str, Any], match: str
) -> None:
    """Empty input, token arrays, out-of-range dimensions: 400 in DOS's shape."""
    with pytest.raises(openai.BadRequestError, match=match) as caught:
        await sdk.embeddings.create(model=EMBEDDER, **options)
    body: Any = caught.value.body
    assert body["type"] == "invalid_request_error"


async def test_embeddings_refuse_a_chat_model(sdk: openai.AsyncOpenAI) -> None:
    """A model that does not embed is a 404."""
    with pytest.raises(openai.NotFoundError, match="embeddings"):
        await sdk.embeddings.create(model="dos-ai", input="x")


async def test_models_list_the_embedding_model(sdk: openai.AsyncOpenAI) -> None:
    """GET /models lists the embedding model with type "embedding"."""
    page = await sdk.models.list()
    kinds = {m.id: (m.model_extra or {}).get("type") for m in page.data}
    assert kinds[EMBEDDER] == "embedding"
    assert kinds["dos-ai"] == "chat"
    model = await sdk.models.retrieve(EMBEDDER)
    assert (model.model_extra or {})["dimensions"] == 2560


# -- files -----------------------------------------------------------------------------


async def test_files_upload_list_retrieve_download_delete(sdk: openai.AsyncOpenAI) -> None:
    """The file lifecycle, as the SDK sees it; content comes back byte for byte."""
    data = jsonl([line(i) for i in range(3)])
    uploaded = await sdk.files.create(file=("in.jsonl", data), purpose="batch")
    assert (uploaded.filename, uploaded.bytes, uploaded.purpose) == ("in.jsonl", len(data), "batch")
    listed = await sdk.files.list()
    assert [f.id for f in listed.data] == [uploaded.id]
    assert (await sdk.files.retrieve(uploaded.id)).id == uploaded.id
    assert (await sdk.files.content(uploaded.id)).content == data
    deleted = await sdk.files.delete(uploaded.id)
    assert deleted.deleted is True
    with pytest.raises(openai.NotFoundError):
        await sdk.files.retrieve(uploaded.id)


async def test_large_file_content_arrives_whole(sdk: openai.AsyncOpenAI) -> None:
    """A file of several 64 KiB chunks downloads intact."""
    data = jsonl([line(i, stop=["x" * 200]) for i in range(2000)])
    assert len(data) > 4 * 64 * 1024
    uploaded = await sdk.files.create(file=("big.jsonl", data), purpose="batch")
    assert (await sdk.files.content(uploaded.id)).content == data


@pytest.mark.parametrize(
    ("lines", "match"),
    [
        ([line(1), line(1)], "line 2: duplicate custom_id"),
        ([{**line(1), "method": "GET"}], "line 1: 'method'"),
        ([{**line(1), "url": "/v1/completions"}], "line 1: 'url'"),
        ([{"custom_id": "a", "method": "POST", "url": CHAT_URL}], "'body'"),
    ],
)
async def test_upload_refuses_a_bad_batch_file(
    sdk: openai.AsyncOpenAI, lines: list[dict[str, Any]], match: str
) -> None:
    """Batch input is validated on upload; the 400 names the line."""
    with pytest.raises(openai.BadRequestError, match=match):
        await sdk.files.create(file=("in.jsonl", jsonl(lines)), purpose="batch")


async def test_upload_past_the_size_cap_is_413() -> None:
    """`max_file_bytes` caps uploads with a 413."""
    async with (
        DosAIEmulator(max_file_bytes=1000) as emu,
        openai.AsyncOpenAI(base_url=emu.base_url, api_key=emu.api_key, max_retries=0) as sdk,
    ):
        with pytest.raises(openai.APIStatusError) as caught:
            await sdk.files.create(
                file=("in.jsonl", jsonl([line(i) for i in range(20)])), purpose="batch"
            )
        assert caught.value.status_code == 413


# -- batches ----------------------------------------------------------------------------


async def test_batch_runs_to_completion_through_the_chat_engine(
    sdk: openai.AsyncOpenAI, emu: DosAIEmulator
) -> None:
    """Upload, create, poll, download: one output line per request, as OpenAI writes them."""
    batch = await start_batch(sdk, [line(i, seed=i) for i in range(4)], metadata={"job": "t"})
    assert (batch.status, batch.metadata) == ("validating", {"job": "t"})
    done = await settle(sdk, batch.id)
    assert done.status == "completed"
    assert done.request_counts is not None
    assert (done.request_counts.total, done.request_counts.completed) == (4, 4)
    assert None not in (done.in_progress_at, done.finalizing_at, done.completed_at)
    assert done.error_file_id is None
    output = await download(sdk, done.output_file_id)
    assert [item["custom_id"] for item in output] == ["r0", "r1", "r2", "r3"]
    assert all(item["error"] is None for item in output)
    assert all(item["response"]["status_code"] == 200 for item in output)
    direct = await sdk.chat.completions.create(
        model="dos-ai", messages=[{"role": "user", "content": "q 2"}], seed=2
    )
    body = output[2]["response"]["body"]
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"] == direct.choices[0].message.content
    assert len(emu.batches) == 1


async def test_embedding_batch_writes_embedding_bodies(sdk: openai.AsyncOpenAI) -> None:
    """A /v1/embeddings batch runs its lines through the embeddings engine."""
    request = {"custom_id": "e1", "method": "POST", "url": "/v1/embeddings"}
    request["body"] = {"model": EMBEDDER, "input": "hello", "dimensions": 4}
    uploaded = await sdk.files.create(file=("e.jsonl", jsonl([request])), purpose="batch")
    batch = await sdk.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/embeddings", completion_window="24h"
    )
    done = await settle(sdk, batch.id)
    (item,) = await download(sdk, done.output_file_id)
    assert len(item["response"]["body"]["data"][0]["embedding"]) == 4


async def test_failing_lines_go_to_the_error_file(sdk: openai.AsyncOpenAI) -> None:
    """An invalid body and an unknown model are answered as the chat route would answer."""
    lines = [line(0), line(1, model="nope"), line(2, n=0)]
    done = await settle(sdk, (await start_batch(sdk, lines)).id)
    assert done.status == "completed"
    assert done.request_counts is not None
    assert (done.request_counts.completed, done.request_counts.failed) == (1, 2)
    errors = await download(sdk, done.error_file_id)
    statuses = {item["custom_id"]: item["response"]["status_code"] for item in errors}
    assert statuses == {"r1": 404, "r2": 400}
    assert all("error" in item["response"]["body"] for item in errors)
    assert all(item["error"] is None for item in errors)


async def test_cancel_mid_way_keeps_what_ran(sdk: openai.AsyncOpenAI, emu: DosAIEmulator) -> None:
    """A cancel lands between lines: cancelled, partial output, the rest batch_cancelled."""
    emu.batch_interval = 0.02
    batch = await start_batch(sdk, [line(i) for i in range(50)])
    await progressed(sdk, batch.id, 2)
    cancelling = await sdk.batches.cancel(batch.id)
    assert cancelling.status == "cancelling"
    done = await settle(sdk, batch.id)
    assert done.status == "cancelled"
    assert None not in (done.cancelling_at, done.cancelled_at)
    assert done.request_counts is not None
    ran = done.request_counts.completed
    assert 2 <= ran < 50
    assert len(await download(sdk, done.output_file_id)) == ran
    unrun = await download(sdk, done.error_file_id)
    assert len(unrun) == 50 - ran
    assert {item["error"]["code"] for item in unrun} == {"batch_cancelled"}
    with pytest.raises(openai.ConflictError):
        await sdk.batches.cancel((await settle(sdk, (await start_batch(sdk, [line(9)])).id)).id)


async def test_batches_list_pages_newest_first(sdk: openai.AsyncOpenAI, emu: DosAIEmulator) -> None:
    """limit and after page through the batches; has_more, first_id and last_id fit."""
    ids = [(await start_batch(sdk, [line(i)])).id for i in range(3)]
    first = await sdk.batches.list(limit=2)
    assert [b.id for b in first.data] == [ids[2], ids[1]]
    assert first.has_more is True
    assert (first.first_id, first.last_id) == (ids[2], ids[1])  # type: ignore[attr-defined]
    rest = await sdk.batches.list(limit=2, after=ids[1])
    assert [b.id for b in rest.data] == [ids[0]]
    assert rest.has_more is False
    assert [b["id"] for b in emu.batches] == ids


async def test_unknown_batch_and_file_are_404(sdk: openai.AsyncOpenAI) -> None:
    """Retrieving a batch that does not exist, or creating one from a missing file: 404."""
    with pytest.raises(openai.NotFoundError):
        await sdk.batches.retrieve("batch_nope")
    with pytest.raises(openai.NotFoundError):
        await sdk.batches.create(
            input_file_id="file-nope", endpoint=CHAT_URL, completion_window="24h"
        )


# -- batch faults ---------------------------------------------------------------------------


async def test_batch_fault_failed_from_python(sdk: openai.AsyncOpenAI, emu: DosAIEmulator) -> None:
    """Fault.batch_failed: status failed with errors.data, no output."""
    emu.enqueue(Fault.batch_failed("bad input"), route="batches")
    done = await settle(sdk, (await start_batch(sdk, [line(0)])).id)
    assert done.status == "failed"
    assert done.failed_at
    assert done.errors is not None
    assert [e.message for e in done.errors.data or []] == ["bad input"]
    assert done.output_file_id is None


async def test_a_batch_fault_waits_for_the_create_past_lists_and_polls(
    sdk: openai.AsyncOpenAI, emu: DosAIEmulator
) -> None:
    """A fault queued on "batches" goes to the next create: a list or a retrieve first (as
    ``run_file`` does) does not use it up; "batch-status" faults hit those reads."""
    emu.enqueue(Fault.batch_failed("bad input"), route="batches")
    emu.enqueue(Fault.status(503), route="batch-status")
    with pytest.raises(openai.InternalServerError):
        await sdk.with_options(max_retries=0).batches.list()
    await sdk.batches.list()
    done = await settle(sdk, (await start_batch(sdk, [line(0)])).id)
    assert done.status == "failed"


async def test_batch_with_lines_for_another_endpoint_fails_validation(
    sdk: openai.AsyncOpenAI,
) -> None:
    """Lines whose url is not the batch's endpoint fail it, naming each line."""
    other = {"custom_id": "e", "method": "POST", "url": "/v1/embeddings", "body": {}}
    done = await settle(sdk, (await start_batch(sdk, [line(0), other])).id)
    assert done.status == "failed"
    assert done.errors is not None
    assert [e.line for e in done.errors.data or []] == [2]


async def test_batch_fault_expired_from_the_header(
    sdk: openai.AsyncOpenAI, emu: DosAIEmulator
) -> None:
    """X-Emulator-Fault: batch-expired=2 expires after 2 lines; the rest are batch_expired."""
    batch = await start_batch(
        sdk, [line(i) for i in range(5)], extra_headers={"X-Emulator-Fault": "batch-expired=2"}
    )
    done = await settle(sdk, batch.id)
    assert done.status == "expired"
    assert done.expired_at
    assert len(await download(sdk, done.output_file_id)) == 2
    expired = await download(sdk, done.error_file_id)
    assert [item["custom_id"] for item in expired] == ["r2", "r3", "r4"]
    assert all(item["response"] is None for item in expired)
    assert {item["error"]["code"] for item in expired} == {"batch_expired"}


async def test_batch_fault_line_errors(sdk: openai.AsyncOpenAI, emu: DosAIEmulator) -> None:
    """Fault.batch_line_errors(3, 429): every third line is a 429 in the error file."""
    emu.enqueue(Fault.batch_line_errors(3, status=429), route="batches")
    done = await settle(sdk, (await start_batch(sdk, [line(i) for i in range(6)])).id)
    assert done.request_counts is not None
    assert (done.request_counts.completed, done.request_counts.failed) == (4, 2)
    errors = await download(sdk, done.error_file_id)
    assert [item["custom_id"] for item in errors] == ["r2", "r5"]
    assert {item["response"]["status_code"] for item in errors} == {429}
    assert errors[0]["response"]["body"]["error"]["type"] == "rate_limit_error"


async def test_a_status_fault_on_create_creates_no_batch(
    sdk: openai.AsyncOpenAI, emu: DosAIEmulator
) -> None:
    """A gateway 500 on POST /batches means no batch; a reset mid-body still made one."""
    uploaded = await sdk.files.create(file=("in.jsonl", jsonl([line(0)])), purpose="batch")
    emu.enqueue(Fault.status(500), Fault.reset_mid_body(), route="batches")
    for error in (openai.InternalServerError, openai.APIConnectionError):
        with pytest.raises(error):
            await sdk.batches.create(
                input_file_id=uploaded.id, endpoint=CHAT_URL, completion_window="24h"
            )
    assert len(emu.batches) == 1


async def test_close_with_a_batch_in_progress_leaves_no_task() -> None:
    """close() cancels and awaits the batch task: nothing is left running."""
    emu = DosAIEmulator(batch_interval=10)
    async with emu, openai.AsyncOpenAI(base_url=emu.base_url, api_key=emu.api_key) as sdk:
        batch = await start_batch(sdk, [line(0), line(1)])
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert emu.batches[0]["id"] == batch.id
    assert emu.batches[0]["status"] == "validating"


async def test_wait_for_batch_returns_the_final_object(
    sdk: openai.AsyncOpenAI, emu: DosAIEmulator
) -> None:
    """emu.wait_for_batch waits on the emulator's side; file_content reads the output."""
    batch = await start_batch(sdk, [line(0)])
    async with asyncio.timeout(DEADLINE):
        done = await emu.wait_for_batch(batch.id)
    assert done["status"] == "completed"
    assert b'"custom_id":"r0"' in emu.file_content(done["output_file_id"])


# -- key and balance (DOS) ---------------------------------------------------------------------


async def test_key_and_balance_report_an_unlimited_key_by_default(emu: DosAIEmulator) -> None:
    """GET /key and /user/balance without a balance: unlimited, nothing spent."""
    async with aiohttp.ClientSession(headers=auth(emu)) as http:
        async with http.get(f"{emu.base_url}/key") as response:
            key = (await response.json())["data"]
        async with http.get(f"{emu.base_url}/user/balance") as response:
            balance = await response.json()
    assert key["label"].startswith("dos_sk_")
    assert emu.api_key not in key["label"]
    assert (key["usage"], key["limit"], key["limit_remaining"]) == (0.0, None, None)
    assert key["rate_limit"] == {"requests": 300, "interval": "60s"}
    assert key["is_free_tier"] is False
    assert balance["balance"] is None
    assert (balance["currency"], balance["is_active"]) == ("USD", True)


async def test_balance_falls_by_usage_cost_then_402() -> None:
    """Each chat costs its usage.cost; at zero chat and embeddings answer 402."""
    async with (
        DosAIEmulator(balance=0.0001) as emu,
        aiohttp.ClientSession(headers=auth(emu)) as http,
    ):
        ask = {"model": "dos-ai", "messages": [{"role": "user", "content": "hi"}]}
        async with http.post(f"{emu.base_url}/chat/completions", json=ask) as response:
            cost = (await response.json())["usage"]["cost"]
        assert emu.balance == pytest.approx(0.0001 - cost)
        async with http.get(f"{emu.base_url}/user/balance") as response:
            assert (await response.json())["balance"] == pytest.approx(0.0001 - cost)
        while emu.balance:
            async with http.post(f"{emu.base_url}/chat/completions", json=ask) as response:
                assert response.status == 200
        async with http.post(f"{emu.base_url}/chat/completions", json=ask) as response:
            assert response.status == 402
            error = (await response.json())["error"]
        embed = {"model": EMBEDDER, "input": "x"}
        async with http.post(f"{emu.base_url}/embeddings", json=embed) as response:
            assert response.status == 402
        async with http.get(f"{emu.base_url}/key") as response:
            key = (await response.json())["data"]
    assert (error["code"], error["type"]) == ("insufficient_credits", "payment_required")
    assert key["limit_remaining"] == 0.0
    assert key["usage"] == pytest.approx(0.0001, abs=1e-9)


async def test_a_rejected_request_is_not_charged() -> None:
    """A 429 fault replaces the answer: the balance is untouched."""
    async with (
        DosAIEmulator(balance=1.0) as emu,
        aiohttp.ClientSession(headers=auth(emu)) as http,
    ):
        emu.enqueue(Fault.status(429))
        ask = {"messages": [{"role": "user", "content": "hi"}]}
        async with http.post(f"{emu.base_url}/chat/completions", json=ask) as response:
            assert response.status == 429
    assert (emu.balance, emu.spent) == (1.0, 0.0)


async def test_batch_lines_cost_half(sdk: openai.AsyncOpenAI, emu: DosAIEmulator) -> None:
    """A batch line is charged half its usage.cost."""
    emu.balance = 1.0
    done = await settle(sdk, (await start_batch(sdk, [line(0), line(1)])).id)
    output = await download(sdk, done.output_file_id)
    full = sum(item["response"]["body"]["usage"]["cost"] for item in output)
    assert emu.spent == pytest.approx(full / 2)
    assert emu.balance == pytest.approx(1.0 - full / 2)
