"""``client.chat.completions.batch(...)``: bounded, paced, ordered fan-out of many requests.

::

    batch = client.chat.completions.batch(requests, concurrency=64)
    results = await batch                      # input order: ChatCompletion | DosAIError
    async for item in batch: ...               # or: BatchItem as each one completes

Plan: workers, not a task per item. Each worker pulls the next request, runs it
(``_batch_item``: every send passes one shared ``AdaptivePacer``, ``_batch_pacer``), hands the
result over, and pulls again; a worker that pulls an item starts the next worker, up to
``concurrency`` workers when awaited and ``held_at_most(concurrency)`` when iterated, so a
batch of three requests starts three. Awaited, a worker stores each result at its index and
the awaiting task wakes only when a worker ends; iterated, finished items go to a queue
that the consumer drains, and a worker pulls only once the consumer has freed room for it
(back pressure: a consumer that stops reading stops the sending, and a generator of a
million requests is never materialised). Per item, the happy path creates no task, no
future, no timer and no ``BatchItem`` unless one is handed out.

Decisions:

- One object, two ways to consume it, as ``asyncio`` has: awaiting it (like ``gather``)
  gives results in input order, which must hold every result; iterating it (like
  ``as_completed``) yields ``BatchItem`` objects as they finish and holds none. A batch is
  consumed once, since its input may be a one-shot generator.
- The buffer (a quarter of ``concurrency``, at least 4) keeps sends going while the consumer
  is busy with a result (e.g. writing it to disk), without letting results pile up.
- Leaving early (``break``, an exception, cancellation) cancels the in-flight requests and
  waits for them to end: nothing is left running. ``break`` closes the iterator when it is
  garbage collected; ``contextlib.aclosing`` or ``await batch.aclose()`` does it at once.
- ``stop()`` is the graceful end (a CLI's first Ctrl-C): nothing new is sent, requests on
  the wire finish and are yielded, the iteration ends. Items never finished are left out
  (awaited results hold a ``DosAIError`` saying so).
- The batch gets what it needs, not the client: a ``create`` callable (each attempt is one
  call with retries off) and ``policy_for``, which resolves a request's retry policy the
  way ``create`` would. It imports neither ``_resources`` nor ``_client``.
"""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
)
from typing import Any, TypedDict

from dosai_async._core._exceptions import DosAIError
from dosai_async._models._params import CreateFn
from dosai_async._models._types import ChatCompletion

from ._item import BatchItem, BatchStats, ItemRunner, PolicyFn, Track
from ._pacer import AdaptivePacer

#: What a batch takes: an iterable or async iterable of ``create`` keyword mappings.
BatchRequests = Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]]
#: Called with each ``BatchItem`` as it is handed out (progress bars, logging).
BatchCallback = Callable[[BatchItem], object]


class BatchParams(TypedDict, total=False):
    """How a batch is paced; declared once for ``batch()``, ``run_batch_file`` and ``dosai batch``.

    ``concurrency`` (default 64) caps the requests in flight; ``requests_per_minute`` and
    ``tokens_per_minute`` cap the pace on this side (unset: no cap).
    """

    concurrency: int
    requests_per_minute: float | None
    tokens_per_minute: float | None


_WAKE = object()  # queued to make the consumer re-check whether the batch is over


class _Failure:
    """An error that ends the whole batch (the input iterator raised, or a bug)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class Batch:
    """Many chat completions sent concurrently, paced as one; see the module docstring.

    Create it with ``client.chat.completions.batch(...)``. ``await batch`` returns
    ``list[ChatCompletion | DosAIError]`` in input order; ``async for item in batch``
    yields ``BatchItem`` as items finish. ``stats`` has live counters for progress.
    ``prompt_key`` is the request key that must be present (``"input"`` for embeddings).
    """

    def __init__(
        self,
        create: CreateFn,
        policy_for: PolicyFn,
        requests: BatchRequests,
        *,
        concurrency: int = 64,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        on_result: BatchCallback | None = None,
        prompt_key: str = "messages",
    ) -> None:
        if isinstance(requests, (Mapping, str, bytes)):
            raise TypeError("requests must be an iterable of request mappings, not one request")
        self._pacer = AdaptivePacer(
            concurrency,
            requests_per_minute=requests_per_minute,
            tokens_per_minute=tokens_per_minute,
        )
        self.stats = BatchStats()
        self._runner = ItemRunner(create, policy_for, self._pacer, self.stats, prompt_key)
        self._requests = requests
        self._on_result = on_result
        self._limit = held_at_most(concurrency)
        self._workers_at_most = concurrency  # awaiting; iterating: self._limit (see __aiter__)
        self._consumed = False
        self._queue: asyncio.Queue[BatchItem | object] = asyncio.Queue()
        self._room: asyncio.Semaphore | None = None  # iterating: items pulled, not yet delivered
        self._results: list[ChatCompletion | DosAIError | None] | None = None  # awaiting
        self._source: Iterator[Mapping[str, Any]] | None = None
        self._async_source: AsyncIterator[Mapping[str, Any]] | None = None
        self._pulling = asyncio.Lock()  # an async source is pulled by one worker at a time
        self._workers: set[asyncio.Task[None]] = set()
        self._pulled = 0
        self._ended = False  # the input is exhausted (or failed, or the batch stopped)

    def __repr__(self) -> str:
        stats = self.stats
        return f"<Batch succeeded={stats.succeeded} failed={stats.failed}>"

    # -- consuming ---------------------------------------------------------------------

    def __await__(self) -> Generator[Any, None, list[ChatCompletion | DosAIError]]:
        return self._gather().__await__()

    def __aiter__(self) -> AsyncIterator[BatchItem]:
        self._claim()
        self._room = asyncio.Semaphore(self._limit)
        self._workers_at_most = self._limit  # the buffer's workers send while the consumer is busy
        return self._iterate()

    async def aclose(self) -> None:
        """Cancel whatever is still in flight and wait for it (safe to call at any time)."""
        await self._cancel_all()

    close = aclose

    def stop(self) -> None:
        """Send nothing more: requests on the wire finish and are yielded, then it ends."""
        self._runner.stopping = True
        self._pacer.close()
        for task in self._workers:
            if task not in self._runner.sending:
                task.cancel()

    def _claim(self) -> None:
        if self._consumed:
            raise RuntimeError("a Batch can be consumed once; create a new one to run again")
        self._consumed = True

    async def _gather(self) -> list[ChatCompletion | DosAIError]:
        """Every result in input order. Each worker stores its results where they belong,
        so the awaiting task wakes when a worker ends, not once per item."""
        self._claim()
        results = self._results = []
        try:
            async for _ in self._events():
                pass  # only failures and the end come here
        finally:
            await self._cancel_all()
        return [_stopped() if result is None else result for result in results]

    async def _iterate(self) -> AsyncIterator[BatchItem]:
        room = self._room
        assert room is not None
        try:
            async for item in self._events():
                room.release()
                if self._on_result is not None:
                    self._on_result(item)
                yield item
        finally:
            await self._cancel_all()

    async def _events(self) -> AsyncIterator[BatchItem]:
        """Items queued by the workers (when iterating), until every worker has ended."""
        self._start_worker()
        while self._workers or not self._queue.empty():
            got = await self._queue.get()
            if isinstance(got, _Failure):
                raise got.error
            if isinstance(got, BatchItem):
                yield got

    async def _cancel_all(self) -> None:
        self._pacer.close()
        self._ended = True
        workers = list(self._workers)
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    # -- working -----------------------------------------------------------------------

    def _start_worker(self) -> None:
        if self._ended or len(self._workers) >= self._workers_at_most:
            return
        task = asyncio.create_task(self._work())
        self._workers.add(task)
        task.add_done_callback(self._worker_ended)

    async def _work(self) -> None:
        """Pull an item, run it, hand it over; again, until the input ends or the batch stops.

        Each worker that pulls an item starts the next worker (up to ``held_at_most``), so
        a batch of three requests starts three workers and a long one ``held_at_most``.
        """
        task = asyncio.current_task()
        assert task is not None
        track = Track(task)
        runner, results, on_result = self._runner, self._results, self._on_result
        while True:
            pulled = await self._pull()
            if pulled is None:
                return
            index, request = pulled
            self._start_worker()
            result = await runner.run(request, track)
            if result is None:  # stopped before it ended: left out
                if self._room is not None:
                    self._room.release()
                continue
            if results is None:  # iterating: the consumer delivers it and frees its room
                self._queue.put_nowait(track.item(index, request, result))
                continue
            results[index] = result
            if on_result is not None:
                on_result(track.item(index, request, result))

    async def _pull(self) -> tuple[int, Mapping[str, Any]] | None:
        """The next request and its index, once there is room for it; ``None`` at the end."""
        if self._room is not None:
            await self._room.acquire()
        if self._ended or self._runner.stopping:
            self._ended = True
            return None
        try:
            request = await self._next_request()
        except StopAsyncIteration:
            self._ended = True
            return None
        except Exception as exc:  # the caller's iterator failed: the batch cannot go on
            self._ended = True
            self._queue.put_nowait(_Failure(exc))
            return None
        index = self._pulled
        self._pulled += 1
        if self._results is not None:
            self._results.append(None)
        return index, request

    async def _next_request(self) -> Mapping[str, Any]:
        """``next`` of the input (``StopAsyncIteration`` at its end, whatever its kind)."""
        source = self._source
        if source is None and self._async_source is None:
            requests = self._requests
            if isinstance(requests, AsyncIterable):
                self._async_source = aiter(requests)
            else:
                source = self._source = iter(requests)
        if source is not None:
            try:
                return next(source)
            except StopIteration:
                raise StopAsyncIteration from None
        assert self._async_source is not None
        async with self._pulling:
            if self._ended:
                raise StopAsyncIteration
            return await anext(self._async_source)

    def _worker_ended(self, task: asyncio.Task[None]) -> None:
        self._workers.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._ended = True  # a bug, or on_result raised: either ends the batch
            self._queue.put_nowait(_Failure(task.exception()))  # type: ignore[arg-type]
            return
        self._queue.put_nowait(_WAKE)


def held_at_most(concurrency: int) -> int:
    """Most items a batch holds at once: pulled from the input and not yet handed out.

    That is ``concurrency`` in flight plus a buffer of finished ones waiting for the consumer
    (a quarter of ``concurrency``, at least 4). The item being handed out is within it too:
    its room is freed as it is handed out, but the feeder can take that room only once the
    consumer awaits again. So at any instant, a kill included, at most this many requests
    have been sent whose results the consumer has not yet received.
    """
    return concurrency + max(4, concurrency // 4)


def _stopped() -> DosAIError:
    error = DosAIError("not completed: the batch was stopped before this request finished")
    error.code = "stopped"
    return error
