"""The emulator's batch tasks: one per running batch, all cancelled and awaited on close."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ._batch_routes import BatchApi
from ._batch_runner import run_batch
from ._batches import BatchJob
from ._routes import Api

__all__ = ["BatchTasks"]


class BatchTasks:
    """Start, await and stop the background runners of ``BatchApi``'s jobs."""

    def __init__(self, api: Api, batch_api: BatchApi, interval: Callable[[], float]) -> None:
        self._api = api
        self._batch_api = batch_api
        self._interval = interval
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, job: BatchJob) -> None:
        """Store the job and run it in a task owned here."""
        self._batch_api.batches.add(job)
        runner = run_batch(job, self._api, self._batch_api.files, self._pace)
        task = asyncio.get_running_loop().create_task(runner, name=f"emulator-{job.id}")
        self._tasks[job.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job.id, None))

    async def wait(self, batch_id: str) -> dict[str, Any]:
        """Wait until the batch's runner ended; its object (KeyError if unknown)."""
        job = self._batch_api.batches.get(batch_id)
        if job is None:
            raise KeyError(batch_id)
        task = self._tasks.get(batch_id)
        if task is not None:
            await asyncio.wait((task,))  # not `await task`: a cancelled waiter leaves it be
        return job.object()

    async def stop(self) -> None:
        """Cancel every runner and wait for them to end."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _pace(self) -> None:
        """The wait before each batch step (the emulator's ``batch_interval``, read live)."""
        await asyncio.sleep(max(self._interval(), 0.0))
