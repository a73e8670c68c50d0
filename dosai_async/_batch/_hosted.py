"""``run_hosted_file``: a JSONL file through the hosted Batch API, resumable by batch id.

Plan: fingerprint the input (SHA-256) -> re-attach to its batch, or upload it and create one
whose ``metadata`` carries the fingerprint -> poll with backoff and jitter, reporting each
``Batch`` (``request_counts``) -> download the output and error files (streamed to disk) ->
merge them into OUTPUT in the local runner's line format (``_hosted_merge``).

Decisions:

- **Re-attach, never resubmit.** Right after the batch is created, a state file beside the
  output (``OUTPUT.batch.json``: batch id, input file id, fingerprint) is written whole and
  renamed into place. A run that finds it re-attaches to that batch; one whose input changed
  since is refused with a message saying what to do. A kill between create and that write is
  covered too: without a state file, the newest batches are searched for one created for the
  same fingerprint that has not failed, expired or been cancelled. The state file is removed
  once OUTPUT is written; running again then re-attaches to the finished batch through that
  search and writes the same results, at no extra cost.
- **Stopping detaches.** Cancelling the run (Ctrl-C in the CLI) leaves the batch running on
  the server, and the state file in place: run again to re-attach, or cancel the batch by id.
- **Polling** starts at ``poll_interval`` and grows by half each time up to
  ``max_poll_interval``, each wait jittered by +-10% so many runs do not poll in step. A 429
  that outlasts the client's retries waits its ``Retry-After`` and polls on.
- **Layers.** This room sees no client and no resource: ``client.batches.run_file`` hands it
  a ``HostedApi`` of five callables.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import random
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from dosai_async._core._exceptions import DosAIError, NotFoundError, RateLimitError
from dosai_async._models import _converter
from dosai_async._models._batches import Batch
from dosai_async._models._files import FileObject

from ._hosted_merge import merge_results
from ._output import refuse_same_file

__all__ = [
    "FINGERPRINT_KEY",
    "HostedApi",
    "HostedBatchSummary",
    "read_state",
    "run_hosted_file",
    "state_path",
]

#: The ``metadata`` key that carries the input's fingerprint (``sha256:<hex>``).
FINGERPRINT_KEY = "dosai_input_sha256"
#: How many of the newest batches are searched for a lost batch of the same input.
RECOVER_SCAN = 100
_GAVE_UP = frozenset({"failed", "expired", "cancelled", "cancelling"})


@attrs.frozen
class HostedApi:
    """What ``run_hosted_file`` needs of the API, as callables (built by ``client.batches``)."""

    upload: Callable[[Path], Awaitable[FileObject]]
    create: Callable[[str, str, Mapping[str, str]], Awaitable[Batch]]
    retrieve: Callable[[str], Awaitable[Batch]]
    recent: Callable[[], AsyncIterator[Batch]]
    download: Callable[[str, Path], Awaitable[object]]
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


@attrs.frozen
class HostedBatchSummary:
    """The end of a hosted batch: the final ``batch``, the lines written, and how it began.

    ``succeeded`` and ``failed`` count OUTPUT's lines (one per ``custom_id``);
    ``reattached`` is True when this run found the batch of an earlier run instead of
    creating one. ``ok`` is True when the batch completed and no request failed.
    """

    batch: Batch
    output_path: Path
    succeeded: int
    failed: int
    reattached: bool

    @property
    def ok(self) -> bool:
        """Whether the batch completed and every request succeeded."""
        return self.batch.status == "completed" and not self.failed


def state_path(output_path: str | os.PathLike[str]) -> Path:
    """The state file of a hosted run writing ``output_path``: ``OUTPUT.batch.json``."""
    output = Path(output_path)
    return output.with_name(output.name + ".batch.json")


async def run_hosted_file(
    api: HostedApi,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    endpoint: str = "/v1/chat/completions",
    metadata: Mapping[str, str] | None = None,
    poll_interval: float = 2.0,
    max_poll_interval: float = 60.0,
    progress: Callable[[Batch], object] | None = None,
) -> HostedBatchSummary:
    """Run ``input_path`` as a hosted batch and write its results to ``output_path``."""
    source, target = Path(input_path), Path(output_path)
    refuse_same_file(source, target)
    _check_intervals(poll_interval, max_poll_interval)
    fingerprint = await asyncio.to_thread(_fingerprint, source, endpoint)
    batch = await _attach(api, state_path(target), fingerprint)
    reattached = batch is not None
    if batch is None:
        meta = {**(metadata or {}), FINGERPRINT_KEY: fingerprint}
        batch = await _submit(api, source, target, endpoint, meta)
    batch = await _poll(api, batch, poll_interval, max_poll_interval, progress)
    succeeded, failed = await _write_results(api, batch, source, target)
    state_path(target).unlink(missing_ok=True)
    return HostedBatchSummary(batch, target, succeeded, failed, reattached)


def _check_intervals(poll_interval: float, max_poll_interval: float) -> None:
    if not 0 <= poll_interval <= max_poll_interval:
        raise ValueError(
            "poll_interval must be >= 0 and at most max_poll_interval, not "
            f"{poll_interval!r} and {max_poll_interval!r}"
        )


def _fingerprint(source: Path, endpoint: str) -> str:
    digest = hashlib.sha256(endpoint.encode() + b"\n")
    with source.open("rb") as data:
        while chunk := data.read(1 << 20):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


async def _attach(api: HostedApi, state: Path, fingerprint: str) -> Batch | None:
    """The batch an earlier run created for this input, if there is one."""
    saved = read_state(state)
    if saved is not None:
        if saved.get("fingerprint") != fingerprint:
            raise DosAIError(
                f"{state} belongs to batch {saved.get('batch_id')} for a different input "
                "(the input file changed since it was submitted). Write to another OUTPUT, or "
                "delete the state file to submit this input as a new batch."
            )
        try:
            return await api.retrieve(str(saved["batch_id"]))
        except NotFoundError:
            raise DosAIError(
                f"{state} names batch {saved.get('batch_id')}, which the server does not know "
                "(404: another server or account, or a local emulator that is gone). Delete "
                "the state file to submit this input as a new batch."
            ) from None
    async for batch in api.recent():
        ours = (batch.metadata or {}).get(FINGERPRINT_KEY) == fingerprint
        if ours and batch.status not in _GAVE_UP:
            return batch
    return None


def read_state(state: Path) -> dict[str, Any] | None:
    """A state file's record (it has a ``batch_id``), None when there is none."""
    try:
        raw = state.read_bytes()
    except FileNotFoundError:
        return None
    try:
        saved = _converter.loads(raw)
    except _converter.JSONDecodeError:
        saved = None
    if not isinstance(saved, dict) or not isinstance(saved.get("batch_id"), str):
        raise DosAIError(f"{state} is not a batch state file; move it away to start over")
    return saved


async def _submit(
    api: HostedApi, source: Path, target: Path, endpoint: str, metadata: Mapping[str, str]
) -> Batch:
    uploaded = await api.upload(source)
    batch = await api.create(uploaded.id, endpoint, metadata)
    state = {
        "batch_id": batch.id,
        "input_file_id": uploaded.id,
        "fingerprint": metadata[FINGERPRINT_KEY],
        "input": str(source),
    }
    _write_atomically(state_path(target), _converter.dumps(state) + b"\n")
    return batch


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


async def _poll(
    api: HostedApi,
    batch: Batch,
    interval: float,
    ceiling: float,
    progress: Callable[[Batch], object] | None,
) -> Batch:
    """Retrieve the batch until it is final, reporting each state; the final batch."""
    while True:
        if progress is not None:
            progress(batch)
        if batch.is_done:
            return batch
        await api.sleep(interval * random.uniform(0.9, 1.1))
        interval = min(interval * 1.5, ceiling)
        try:
            batch = await api.retrieve(batch.id)
        except RateLimitError as exc:
            await api.sleep(exc.retry_after or interval)


async def _write_results(
    api: HostedApi, batch: Batch, source: Path, target: Path
) -> tuple[int, int]:
    """Download the result files beside OUTPUT, merge them into it, remove the downloads."""
    parts = [
        target.with_name(f".{target.name}.{kind}.jsonl")
        for kind, file_id in (("output", batch.output_file_id), ("errors", batch.error_file_id))
        if file_id is not None
    ]
    ids = [i for i in (batch.output_file_id, batch.error_file_id) if i is not None]
    try:
        for file_id, part in zip(ids, parts, strict=True):
            await api.download(file_id, part)
        return await asyncio.to_thread(merge_results, target, parts, source, batch)
    finally:
        for part in parts:
            part.unlink(missing_ok=True)
