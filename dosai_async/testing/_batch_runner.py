"""Run one batch in the background, a line at a time, through the emulator's own engine.

Each line waits one ``pace()`` (the emulator's ``batch_interval``) and is then answered by
``Api.batch_line``, the code behind the chat and embeddings routes. Cancel and expiry are
checked between lines, so ``request_counts`` advance visibly and a cancel lands mid-way.
At the end the output and error lines become ``batch_output`` files.

The server owns the task: closing the emulator cancels it, and a cancelled runner leaves
the job where it was.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ._batches import BatchJob
from ._faults import BatchFault
from ._files import FileStore
from ._plan import error_body
from ._routes import Api

__all__ = ["run_batch"]

Pace = Callable[[], Awaitable[None]]


async def run_batch(job: BatchJob, api: Api, files: FileStore, pace: Pace) -> None:
    """Validate, run every line, then finalize the batch."""
    await pace()
    errors = _validation_errors(job)
    if errors:
        job.fail(errors)
        return
    if job.status != "cancelling":  # a cancel during validation must not be overwritten
        job.mark("in_progress")
    ran = await _run_lines(job, api, pace)
    if job.status == "cancelling":
        job.record_unrun(job.lines[ran:])
        _write_files(job, files)
        job.mark("cancelled")
    elif job.status == "expired":
        job.record_unrun(job.lines[ran:])
        _write_files(job, files)
    else:
        job.mark("finalizing")
        await pace()
        _write_files(job, files)
        job.mark("completed")


def _validation_errors(job: BatchJob) -> list[dict[str, object]]:
    """`BatchError`s: the fault's, or lines whose ``url`` is not the batch's endpoint."""
    fault = job.fault
    if isinstance(fault, BatchFault) and fault.fail is not None:
        return [{"code": "invalid_request", "message": fault.fail, "param": None, "line": None}]
    return [
        {
            "code": "invalid_url",
            "message": f"The url {line.url!r} does not match the batch endpoint {job.endpoint!r}",
            "param": "url",
            "line": line.number,
        }
        for line in job.lines
        if line.url != job.endpoint
    ]


async def _run_lines(job: BatchJob, api: Api, pace: Pace) -> int:
    """Answer lines until done, cancelled or expired; how many ran."""
    fault = job.fault if isinstance(job.fault, BatchFault) else None
    for ran, line in enumerate(job.lines):
        if fault is not None and fault.expire_after is not None and ran >= fault.expire_after:
            job.mark("expired")
            return ran
        await pace()
        if job.status == "cancelling":
            return ran
        status = fault.line_error(ran + 1) if fault is not None else None
        if status is not None:
            job.record(line, status, error_body(status))
        else:
            job.record(line, *api.batch_line(line.url, line.body))
    return len(job.lines)


def _write_files(job: BatchJob, files: FileStore) -> None:
    """Store the output and error lines as ``batch_output`` files (only non-empty ones)."""
    if job.output:
        name = f"batch_{job.id}_output.jsonl"
        job.output_file_id = files.add(name, "batch_output", b"".join(job.output)).id
    if job.error_output:
        name = f"batch_{job.id}_error.jsonl"
        job.error_file_id = files.add(name, "batch_output", b"".join(job.error_output)).id
