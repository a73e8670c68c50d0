"""Typed contract of the Files and Batch APIs (checked by mypy --strict, never run)."""

from __future__ import annotations

from pathlib import Path
from typing import assert_type

from dosai_async import AsyncDosAI, BatchJob, FileDeleted, FileObject, HostedBatchSummary
from dosai_async.types import Batch, BatchList, BatchRequestCounts, FileList


async def files(client: AsyncDosAI) -> None:
    uploaded = await client.files.create(file=Path("in.jsonl"), purpose="batch")
    assert_type(uploaded, FileObject)
    assert_type(await client.files.content(uploaded.id), bytes)
    assert_type(await client.files.content(uploaded.id, to="out.jsonl"), Path)
    assert_type(await client.files.list(), FileList)
    async for item in client.files.list(purpose="batch"):
        assert_type(item, FileObject)
    assert_type(await client.files.delete(uploaded.id), FileDeleted)


async def batches(client: AsyncDosAI) -> None:
    batch = await client.batches.create(input_file_id="file-x", metadata={"k": "v"})
    assert_type(batch, Batch)
    assert_type(batch, BatchJob)
    assert_type(batch.request_counts, BatchRequestCounts | None)
    assert_type(batch.output_file_id, str | None)
    assert_type(await client.batches.list(), BatchList)
    async for job in client.batches.list(limit=10):
        assert_type(job.status, str)
    summary = await client.batches.run_file("in.jsonl", "out.jsonl", progress=print)
    assert_type(summary, HostedBatchSummary)
    assert_type(summary.ok, bool)
    assert_type(await client.batches.cancel_file("out.jsonl"), BatchJob | None)
