"""``client.chat.completions.batch(...)``: bounded, paced, ordered fan-out of many requests.

::

    batch = client.chat.completions.batch(requests, concurrency=64)
    results = await batch                      # input order: ChatCompletion | DosAIError
    async for item in batch: ...               # or: BatchItem as each one completes

Plan: a *feeder* task pulls requests lazily and starts one task per item, never holding
more than ``concurrency`` + a small buffer of items that were pulled and not yet handed to
the consumer; each item task (``_batch_item``) sends through one shared ``AdaptivePacer``
(``_batch_pacer``); finished items go to a queue that the consumer drains. The consumer
frees room for the next item, so a consumer that stops reading stops the sending (back
pressure) and a generator of a million requests is never materialised.

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
from collections.abc import AsyncIterable, AsyncIterator, Callable, Generator, Iterable, Mapping
from typing import Any, TypedDict

from dosai_async._core._exceptions import DosAIError
from dosai_async._models._params import CreateFn
from dosai_async._models._types import ChatCompletion

from ._item import BatchItem, BatchStats, ItemRunner, PolicyFn
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
        self._consumed = False
        self._queue: asyncio.Queue[BatchItem | object] = asyncio.Queue()
        self._room = asyncio.Semaphore(self._limit)  # items pulled and not yet delivered
        self._tasks: set[asyncio.Task[BatchItem | None]] = set()
        self._feeder: asyncio.Task[None] | None = None
        self._pulled = 0

    def __repr__(self) -> str:
        stats = self.stats
        return f"<Batch succeeded={stats.succeeded} failed={stats.failed}>"

    # -- consuming ---------------------------------------------------------------------

    def __await__(self) -> Generator[Any, None, list[ChatCompletion | DosAIError]]:
        return self._gather().__await__()

    def __aiter__(self) -> AsyncIterator[BatchItem]:
        if self._consumed:
            raise RuntimeError("a Batch can be consumed once; create a new one to run again")
        self._consumed = True
        return self._iterate()

    async def aclose(self) -> None:
        """Cancel whatever is still in flight and wait for it (safe to call at any time)."""
        await self._cancel_all()

    close = aclose

    def stop(self) -> None:
        """Send nothing more: requests on the wire finish and are yielded, then it ends."""
        self._runner.stopping = True
        self._pacer.close()
        if self._feeder is not None:
            self._feeder.cancel()
        for task in self._tasks:
            if task not in self._runner.sending:
                task.cancel()

    async def _gather(self) -> list[ChatCompletion | DosAIError]:
        results: list[ChatCompletion | DosAIError | None] = []
        async for item in self:
            if item.index >= len(results):
                results.extend([None] * (item.index + 1 - len(results)))
            results[item.index] = item.result
        results.extend([None] * (self._pulled - len(results)))
        return [_stopped() if result is None else result for result in results]

    async def _iterate(self) -> AsyncIterator[BatchItem]:
        self._feeder = asyncio.create_task(self._feed())
        try:
            while not (self._feeder.done() and not self._tasks and self._queue.empty()):
                got = await self._queue.get()
                if isinstance(got, _Failure):
                    raise got.error
                if isinstance(got, BatchItem):
                    yield self._deliver(got)
        finally:
            await self._cancel_all()

    def _deliver(self, item: BatchItem) -> BatchItem:
        self._room.release()
        if self._on_result is not None:
            self._on_result(item)
        return item

    async def _cancel_all(self) -> None:
        self._pacer.close()
        pending = [task for task in (self._feeder, *self._tasks) if task is not None]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    # -- feeding -----------------------------------------------------------------------

    async def _feed(self) -> None:
        """Pull requests one at a time, each only once there is room for it."""
        await self._room.acquire()
        try:
            if isinstance(self._requests, AsyncIterable):
                async for request in self._requests:
                    if not await self._start(request):
                        break
            else:
                for request in self._requests:
                    if not await self._start(request):
                        break
        except Exception as exc:  # the caller's iterator failed: the batch cannot go on
            self._queue.put_nowait(_Failure(exc))
        finally:
            self._queue.put_nowait(_WAKE)

    async def _start(self, request: Mapping[str, Any]) -> bool:
        """Start the item; False once the batch is stopping (pull nothing more)."""
        if self._runner.stopping:
            return False
        task = asyncio.create_task(self._runner.run(self._pulled, request))
        self._pulled += 1
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        await self._room.acquire()  # room for the next one, before pulling it
        return not self._runner.stopping

    def _finished(self, task: asyncio.Task[BatchItem | None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            self._room.release()
            self._queue.put_nowait(_WAKE)
            return
        error = task.exception()
        if error is not None:  # a bug, not an item's error: those are results
            self._queue.put_nowait(_Failure(error))
            return
        item = task.result()
        if item is None:
            self._room.release()
        self._queue.put_nowait(_WAKE if item is None else item)


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
