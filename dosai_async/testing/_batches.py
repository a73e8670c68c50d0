"""Batch jobs as OpenAI's Batch API describes them: state, transitions, output lines.

Statuses: validating -> in_progress -> finalizing -> completed, or -> failed (validation),
-> expired (the completion window ran out), or cancelling -> cancelled. Each transition
stamps its ``<status>_at`` time. ``request_counts`` count the lines that ran: ``completed`` for a
2xx answer, ``failed`` otherwise. Lines that never ran (expired or cancelled batch) go to the
error file with ``error.code`` ``batch_expired`` / ``batch_cancelled`` and are not counted.

Output lines follow OpenAI's batch output format:
`{"id": "batch_req_…", "custom_id", "response": {"status_code", "request_id", "body"},
"error": null}`; a 2xx goes to the output file, anything else to the error file. The runner
that moves a job along is in ``_batch_runner``; this module does no I/O.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import orjson

from ._files import BatchLine

__all__ = ["BatchJob", "BatchStore", "StartBatch"]

WINDOW_SECONDS = 24 * 3600
_TIMES = (
    "in_progress_at",
    "finalizing_at",
    "completed_at",
    "failed_at",
    "expired_at",
    "cancelling_at",
    "cancelled_at",
)
_TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
_UNRUN = {
    "expired": ("batch_expired", "This request could not be executed before the "
                "completion window expired."),
    "cancelling": ("batch_cancelled", "This request was not executed: the batch was cancelled."),
}  # fmt: skip


@attrs.define
class BatchJob:
    """One batch: what it runs, where it is, and the output lines so far."""

    endpoint: str
    input_file_id: str
    lines: tuple[BatchLine, ...] = attrs.field(repr=False)
    metadata: Mapping[str, str] | None = None
    fault: Any = None  # a BatchFault, or None
    id: str = attrs.Factory(lambda: f"batch_{os.urandom(12).hex()}")
    created_at: int = attrs.Factory(lambda: int(time.time()))
    status: str = "validating"
    times: dict[str, int | None] = attrs.Factory(lambda: dict.fromkeys(_TIMES))
    errors: list[dict[str, Any]] | None = None
    completed: int = 0
    failed: int = 0
    output: list[bytes] = attrs.Factory(list)
    error_output: list[bytes] = attrs.Factory(list)
    output_file_id: str | None = None
    error_file_id: str | None = None

    @property
    def done(self) -> bool:
        """True once the batch reached a final status."""
        return self.status in _TERMINAL

    def mark(self, status: str) -> None:
        """Move to ``status``, stamping its time."""
        self.status = status
        self.times[f"{status}_at"] = int(time.time())

    def fail(self, errors: list[dict[str, Any]]) -> None:
        """Validation failed with these `BatchError`s."""
        self.errors = errors
        self.mark("failed")

    def record(self, line: BatchLine, status: int, body: Any) -> None:
        """The answer to one line, into the output or the error file."""
        response = {"status_code": status, "request_id": os.urandom(16).hex(), "body": body}
        entry = _line(line, response, None)
        if 200 <= status < 300:
            self.completed += 1
            self.output.append(entry)
        else:
            self.failed += 1
            self.error_output.append(entry)

    def record_unrun(self, lines: tuple[BatchLine, ...]) -> None:
        """Lines that never ran, as ``batch_expired`` or ``batch_cancelled`` errors."""
        code, message = _UNRUN[self.status]
        error = {"code": code, "message": message}
        self.error_output.extend(_line(line, None, error) for line in lines)

    def object(self) -> dict[str, Any]:
        """OpenAI's ``batch`` object."""
        errors = None if self.errors is None else {"object": "list", "data": self.errors}
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "model": _model(self.lines),
            "errors": errors,
            "input_file_id": self.input_file_id,
            "completion_window": "24h",
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": self.created_at,
            "expires_at": self.created_at + WINDOW_SECONDS,
            **self.times,
            "request_counts": {
                "total": len(self.lines),
                "completed": self.completed,
                "failed": self.failed,
            },
            "metadata": self.metadata,
        }


@attrs.frozen
class StartBatch:
    """A plan effect: store ``job`` and start running it once the answer is sent."""

    job: BatchJob


class BatchStore:
    """Every batch created, oldest first."""

    def __init__(self) -> None:
        self._jobs: dict[str, BatchJob] = {}

    def add(self, job: BatchJob) -> None:
        """Keep a new batch."""
        self._jobs[job.id] = job

    def get(self, batch_id: str) -> BatchJob | None:
        """The batch, or None."""
        return self._jobs.get(batch_id)

    def __iter__(self) -> Iterator[BatchJob]:
        return iter(list(self._jobs.values()))

    def __len__(self) -> int:
        return len(self._jobs)


def _model(lines: tuple[BatchLine, ...]) -> str | None:
    """The model the batch's first line asks for, as OpenAI reports it."""
    model = lines[0].body.get("model") if lines else None
    return model if isinstance(model, str) else None


def _line(line: BatchLine, response: Any, error: Any) -> bytes:
    """One JSONL line of an output or error file."""
    entry = {
        "id": f"batch_req_{os.urandom(12).hex()}",
        "custom_id": line.custom_id,
        "response": response,
        "error": error,
    }
    return orjson.dumps(entry) + b"\n"
