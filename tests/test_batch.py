"""``client.chat.completions.batch``: ordering, per-item errors, bounds, retries, cancel.

Real HTTP on 127.0.0.1: the package's emulator, or a small aiohttp.web app where a test
needs exact control of timing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp import web

from dosai_async import (
    AsyncDosAI,
    ChatCompletion,
    DosAIError,
    InternalServerError,
    NotFoundError,
    RetryPolicy,
)
from dosai_async._batch._fanout import Batch, held_at_most
from dosai_async._batch._item import BatchItem
from dosai_async.testing import DosAIEmulator, Fault

from ._rawserver import settle
from .conftest import COMPLETION

Serve = Callable[[Callable[[web.Request], Awaitable[web.StreamResponse]]], Awaitable[str]]


def ask(i: int, **extra: Any) -> dict[str, Any]:
    """A small request; ``max_tokens=i+1`` makes its reply's length identify it."""
    return {
        "messages": [{"role": "user", "content": f"question {i}"}],
        "max_tokens": i + 1,
        **extra,
    }


@contextlib.asynccontextmanager
async def client_for(base_url: str, **options: Any) -> AsyncIterator[AsyncDosAI]:
    """A client for a local server."""
    async with AsyncDosAI(api_key="dos_sk_test", base_url=base_url, **options) as client:
        yield client


@pytest.fixture
async def client(emulator: DosAIEmulator) -> AsyncIterator[AsyncDosAI]:
    """A client for the emulator, retrying without sleeping."""
    async with client_for(emulator.base_url, retry=RetryPolicy.zero_wait()) as c:
        yield c


def tokens(result: ChatCompletion | DosAIError) -> int:
    """The completion-token count that identifies a reply to ``ask(i)``."""
    assert isinstance(result, ChatCompletion), result
    assert result.usage is not None
    return result.usage.completion_tokens


async def test_awaiting_gives_results_in_input_order(client: AsyncDosAI) -> None:
    """Later requests answered first still land at their own index."""
    stall = "X-Emulator-Fault"
    requests = [
        ask(i, extra_headers={stall: f"stall-before-headers={(15 - i) * 0.004}"}) for i in range(15)
    ]
    finished: list[int] = []
    results = await client.chat.completions.batch(
        requests, concurrency=15, on_result=lambda item: finished.append(item.index)
    )
    assert [tokens(result) for result in results] == [i + 1 for i in range(15)]
    assert finished != sorted(finished)  # they did complete out of order


async def test_iterating_yields_items_as_they_complete(client: AsyncDosAI) -> None:
    """async for gives BatchItem objects, fastest first, each naming its input index."""
    requests = [ask(0, extra_headers={"X-Emulator-Fault": "stall-before-headers=0.1"}), ask(1)]
    items = [item async for item in client.chat.completions.batch(requests)]
    assert [item.index for item in items] == [1, 0]
    assert all(item.ok and item.attempts == 1 and item.elapsed > 0 for item in items)
    assert items[1].elapsed >= 0.09
    assert items[0].request is requests[1]


async def test_one_bad_item_never_fails_the_batch(
    client: AsyncDosAI, emulator: DosAIEmulator
) -> None:
    """Each failure is that item's result; every other item still succeeds."""
    requests: list[Any] = [
        ask(0),
        ask(1, model="no-such-model"),  # 404 from the server
        {"model": "dos-ai"},  # no messages
        ask(3, temprature=0.5),  # a misspelt parameter
        ask(4, stream=True),
        "just a string",
        ask(6, extra_headers={"X-Emulator-Fault": "status=400"}),
        ask(7),
    ]
    results = await client.chat.completions.batch(requests)
    assert tokens(results[0]) == 1
    assert tokens(results[7]) == 8
    assert isinstance(results[1], NotFoundError)
    for index in (2, 3, 4, 5):
        assert isinstance(results[index], DosAIError)
        assert results[index].code == "invalid_request", results[index]
    assert isinstance(results[6], DosAIError)
    assert results[6].status_code == 400
    assert len(emulator.requests) == 4  # the invalid ones never left the process


async def test_retries_follow_the_client_policy(emulator: DosAIEmulator) -> None:
    """A 500 is retried under the client's policy; a 400 is not; max_retries=0 is obeyed."""
    emulator.enqueue(Fault.status(500))
    async with client_for(emulator.base_url, retry=RetryPolicy.zero_wait()) as client:
        [item] = [item async for item in client.chat.completions.batch([ask(0)])]
    assert item.ok
    assert item.attempts == 2
    emulator.enqueue(Fault.status(500))
    async with client_for(emulator.base_url, max_retries=0) as client:
        [result] = await client.chat.completions.batch([ask(0)])
    assert isinstance(result, InternalServerError)
    async with client_for(emulator.base_url, retry=RetryPolicy.zero_wait()) as client:
        bad = ask(0, extra_headers={"X-Emulator-Fault": "status=400"})
        [item] = [item async for item in client.chat.completions.batch([bad])]
    assert not item.ok
    assert item.attempts == 1


async def test_a_request_may_bring_its_own_retry_policy(emulator: DosAIEmulator) -> None:
    """max_retries in a request mapping applies to that item only."""
    emulator.enqueue(Fault.status(502), Fault.status(502))
    async with client_for(emulator.base_url, retry=RetryPolicy.zero_wait(5)) as client:
        [result] = await client.chat.completions.batch([ask(0, max_retries=1)])
    assert isinstance(result, InternalServerError)
    assert len(emulator.requests) == 2


@pytest.mark.parametrize("concurrency", [1, 7])
async def test_concurrency_bound_holds_at_the_server(concurrency: int) -> None:
    """The server never sees more requests at once than the bound, and does reach it."""
    async with (
        DosAIEmulator(ttft=0.01, rate_limit=1_000_000_000) as emulator,
        client_for(emulator.base_url) as client,
    ):
        results = await client.chat.completions.batch(
            (ask(i) for i in range(60)), concurrency=concurrency
        )
    assert all(isinstance(result, ChatCompletion) for result in results)
    assert emulator.stats.max_in_flight == concurrency


async def test_a_generator_is_pulled_lazily(client: AsyncDosAI) -> None:
    """Never more than concurrency + buffer requests pulled and not yet handed out."""
    concurrency = 16
    pulled = yielded = most = 0

    def endless() -> Iterator[dict[str, Any]]:
        nonlocal pulled, most
        while True:  # a million, or more: it must never be materialised
            pulled += 1
            most = max(most, pulled - yielded)
            yield ask(pulled % 20)

    batch = client.chat.completions.batch(endless(), concurrency=concurrency)
    async with contextlib.aclosing(aiter(batch)) as items:
        async for _ in items:
            yielded += 1
            if yielded == 3000:
                break
    assert most <= held_at_most(concurrency)
    assert pulled < 3000 + 2 * concurrency


@pytest.mark.parametrize("concurrency", [1, 8, 64])
async def test_a_stalled_consumer_leaves_at_most_held_at_most_results_unread(
    client: AsyncDosAI, emulator: DosAIEmulator, concurrency: int
) -> None:
    """Sent but not yet handed out: held_at_most(concurrency), reached and never exceeded."""
    limit = held_at_most(concurrency)
    batch = client.chat.completions.batch(
        (ask(i % 20) for i in range(1000)), concurrency=concurrency
    )
    async with contextlib.aclosing(aiter(batch)) as items:
        await anext(items)  # then the consumer stalls, as a process about to be killed
        assert await settle(lambda: len(emulator.requests) == 1 + limit, 10)
        await asyncio.sleep(0.2)  # a margin in which one request too many would show
        assert len(emulator.requests) == 1 + limit


async def test_an_async_iterable_is_pulled_lazily(client: AsyncDosAI) -> None:
    """Async generators work too, and are pulled only as room frees up."""
    pulled = 0

    async def source() -> AsyncIterator[dict[str, Any]]:
        nonlocal pulled
        for i in range(200):
            pulled += 1
            yield ask(i % 20)

    seen = 0
    async for item in client.chat.completions.batch(source(), concurrency=4):
        seen += 1
        assert pulled - seen <= 4 + 4 + 1
        assert item.ok
    assert seen == pulled == 200


async def test_breaking_out_cancels_in_flight_requests(serve: Serve) -> None:
    """After an early exit nothing of the batch is left running, and the server sees it."""
    dropped = 0

    async def slow(request: web.Request) -> web.StreamResponse:
        nonlocal dropped
        if "fast" not in await request.text():
            # aiohttp has no "client went away" event to wait on: poll the socket.
            while request.transport is not None and not request.transport.is_closing():  # noqa: ASYNC110
                await asyncio.sleep(0.005)
            dropped += 1
        return web.json_response(COMPLETION)

    base_url = await serve(slow)
    requests = [{"messages": [{"role": "user", "content": "fast"}]}] + [ask(i) for i in range(5)]
    async with client_for(base_url) as client:
        batch = client.chat.completions.batch(requests)
        async with contextlib.aclosing(aiter(batch)) as items:
            async for item in items:
                assert item.index == 0
                break
        assert _batch_tasks() == []
    await asyncio.sleep(0.05)
    assert dropped == 5


async def test_cancelling_the_awaiting_task_cancels_everything(serve: Serve) -> None:
    """Cancelling ``await batch`` leaves no task behind."""

    async def stalled(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(30)
        return web.json_response(COMPLETION)

    async with client_for(await serve(stalled)) as client:
        waiting = asyncio.ensure_future(client.chat.completions.batch([ask(i) for i in range(8)]))
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert _batch_tasks() == []


async def test_stop_finishes_what_is_on_the_wire(client: AsyncDosAI) -> None:
    """stop(): no new sends, requests in flight finish and are yielded, then the end."""
    slow = {"X-Emulator-Fault": "stall-before-headers=0.05"}
    requests = (ask(i, extra_headers=slow) for i in range(100))
    batch = client.chat.completions.batch(requests, concurrency=4)
    items: list[BatchItem] = []
    sent_before_stop = 0
    async for item in batch:
        items.append(item)
        if len(items) == 6:
            batch.stop()
            sent_before_stop = batch.stats.requests
    assert batch.stats.requests == sent_before_stop == len(items)  # nothing sent after stop
    assert all(item.ok for item in items)


async def test_awaited_results_after_stop_say_so(client: AsyncDosAI) -> None:
    """Items never finished appear as a DosAIError with code "stopped"."""
    slow = {"X-Emulator-Fault": "stall-before-headers=0.2"}
    batch = client.chat.completions.batch([ask(0), ask(1, extra_headers=slow)], concurrency=1)
    batch.stop()
    results = await batch
    assert all(isinstance(r, DosAIError) and r.code == "stopped" for r in results)


async def test_a_batch_is_consumed_once(client: AsyncDosAI) -> None:
    """A second consumption is an error, not a silent empty run."""
    batch = client.chat.completions.batch([ask(0)])
    await batch
    with pytest.raises(RuntimeError, match="once"):
        await batch


async def test_a_failing_input_iterator_ends_the_batch(client: AsyncDosAI) -> None:
    """The caller's own iterator raising is the caller's error, raised from the batch."""

    def broken() -> Iterator[dict[str, Any]]:
        yield ask(0)
        raise LookupError("the input broke")

    with pytest.raises(LookupError, match="input broke"):
        await client.chat.completions.batch(broken())
    assert _batch_tasks() == []


def test_a_single_request_is_not_a_batch() -> None:
    """Passing one mapping instead of a list of them fails at once."""
    client = AsyncDosAI(api_key="dos_sk_test", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(TypeError, match="iterable of request mappings"):
        client.chat.completions.batch({"messages": []})  # type: ignore[arg-type]


async def test_stats_count_what_happened(client: AsyncDosAI, emulator: DosAIEmulator) -> None:
    """Live stats: successes, failures, HTTP requests, throttles and tokens."""
    emulator.enqueue(Fault.status(429, retry_after=0))
    batch: Batch = client.chat.completions.batch([ask(0), ask(1), ask(2, model="nope")])
    await batch
    stats = batch.stats
    assert (stats.succeeded, stats.failed, stats.throttled) == (2, 1, 1)
    assert stats.requests == len(emulator.requests) == 4
    assert stats.completion_tokens == 3
    assert stats.in_flight == stats.retrying == 0


def _batch_tasks() -> list[asyncio.Task[Any]]:
    """Tasks of the batch machinery still pending (the test's own task excluded)."""
    current = asyncio.current_task()
    return [
        task
        for task in asyncio.all_tasks()
        if task is not current and "_batch" in _code_file(task.get_coro())
    ]


def _code_file(coro: object) -> str:
    """The file a task's coroutine was defined in (its repr names only the function)."""
    code = getattr(coro, "cr_code", None)
    return code.co_filename if code is not None else ""


async def test_the_task_helper_sees_batch_tasks(client: AsyncDosAI) -> None:
    """``_batch_tasks`` finds a running batch's workers, so its empty answers mean something."""
    batch = client.chat.completions.batch(
        [ask(0, extra_headers={"X-Emulator-Fault": "stall-before-headers=0.2"})]
    )
    waiting = asyncio.ensure_future(batch)
    await asyncio.sleep(0.05)
    assert _batch_tasks()
    await waiting
    assert _batch_tasks() == []


async def test_stop_before_consuming_pulls_nothing_more(client: AsyncDosAI) -> None:
    """A batch stopped before it starts ends at once, even over an endless generator."""

    def endless() -> Iterator[dict[str, Any]]:
        while True:
            yield ask(0)

    batch = client.chat.completions.batch(endless())
    batch.stop()
    assert await asyncio.wait_for(batch, 1) == []


async def test_messages_from_a_generator_survive_a_retry(
    client: AsyncDosAI, emulator: DosAIEmulator
) -> None:
    """A one-shot iterable of messages is kept, so the re-sent request still carries it."""
    emulator.enqueue(Fault.status(500))
    messages = iter([{"role": "user", "content": "hi"}])
    [result] = await client.chat.completions.batch([{"messages": messages}])
    assert isinstance(result, ChatCompletion)
    assert [r.body["messages"] for r in emulator.requests] == [
        [{"role": "user", "content": "hi"}]
    ] * 2


async def test_requests_per_minute_caps_the_sends(
    client: AsyncDosAI, emulator: DosAIEmulator
) -> None:
    """With requests_per_minute=5, the sixth request waits for the minute to roll over."""
    batch = client.chat.completions.batch([ask(i) for i in range(7)], requests_per_minute=5)
    items: list[BatchItem] = []

    async def collect() -> None:
        async for item in batch:
            items.append(item)

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(collect(), 0.5)
    assert len(items) == len(emulator.requests) == 5


async def test_tokens_per_minute_is_corrected_by_actual_usage(client: AsyncDosAI) -> None:
    """Estimates of 600 tokens under a 1,000 cap would go one a minute; real usage is tiny."""
    requests = [ask(i, max_tokens=600) for i in range(6)]
    results = await asyncio.wait_for(
        client.chat.completions.batch(requests, tokens_per_minute=1000), 5
    )
    assert all(isinstance(result, ChatCompletion) for result in results)


def test_per_minute_caps_must_be_positive() -> None:
    """requests_per_minute=0 is refused rather than meaning "no cap"."""
    client = AsyncDosAI(api_key="dos_sk_test", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ValueError, match="positive"):
        client.chat.completions.batch([], requests_per_minute=0)
