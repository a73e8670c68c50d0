"""``run_batch_file``: a JSONL batch file through ``Batch``, resumable and kill-safe.

Plan: recover the output file (lock it, repair a torn last line, read which ``custom_id``
already succeeded) -> count the input's request lines (for progress) -> stream the input
line by line into ``client.chat.completions.batch`` -> append one output line per result,
in completion order, as it finishes.

Decisions:

- **One output file.** Malformed input lines do not stop the batch: they are reported in
  the summary with their line numbers and, when they carry a usable ``custom_id``, also
  written as an error line (``code: invalid_request``), so the output accounts for every
  request. A duplicate ``custom_id`` is reported but never written, since its line would
  be mistaken for the first one's result.
- **One line per ``custom_id``, the latest.** A resumed run skips every ``custom_id``
  whose latest line is a success (status 200, ``error`` null) and re-sends the rest,
  appending their new lines. When a run ends (also when stopped or cancelled) and the
  output holds an older line for an id it rewrote, the output is compacted to the latest
  line per id: written whole to a temporary file beside it, flushed to disk, then put in
  place with ``os.replace``, so a kill at any moment leaves either the old file or the new
  one, never half of one. A run that only added new ids rewrites nothing.
- **Kill safety.** Each result is one ``write()`` of a whole line on an unbuffered
  append-only descriptor: once it returns, the line is in the kernel and survives
  ``SIGKILL``; a kill can at worst leave one torn last line, which the next run cuts off
  (or completes with its newline, if only that was missing). A result still in flight when
  the process dies was never written, so it is sent again: nothing lost, nothing twice.
  ``fsync=True`` also survives power loss, at the cost of one disk flush per result.
- **One writer.** The output is locked (``flock``, where available) for the whole run, so
  two runs cannot interleave lines in one file.
- **Stopping.** Setting ``stop`` ends the run gracefully (nothing new is sent, requests on
  the wire finish and are written); cancelling the task drops what is in flight.
- **Memory.** A run holds the ``custom_id`` values it has seen (to catch duplicates and
  skip completed ones), never the requests or results beyond those in flight.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, BinaryIO, Protocol, Unpack

import attrs

from dosai_async._core._config import DEFAULT_RETRY_STATUSES
from dosai_async._core._exceptions import APIConnectionError, APIStatusError, DosAIError

from ._fanout import Batch, BatchParams, BatchRequests
from ._item import BatchItem, BatchStats
from ._jsonl import LineError, encode, invalid_record, parse_line
from ._jsonl import result_record as _result_record
from ._output import compact, count_requests, open_output, refuse_same_file, scan_output
from ._preflight import PreflightClient, file_requests
from ._preflight import preflight as _preflight


class _BatchCompletions(Protocol):
    def batch(self, requests: BatchRequests, **pacing: Unpack[BatchParams]) -> Batch: ...


class _BatchChat(Protocol):
    @property
    def completions(self) -> _BatchCompletions: ...


class BatchClient(Protocol):
    """What ``run_batch_file`` needs of a client: ``client.chat.completions.batch``."""

    @property
    def chat(self) -> _BatchChat: ...


#: How many malformed lines a summary lists (all are counted).
MAX_LISTED_INVALID = 100


@attrs.frozen
class InvalidLine:
    """A malformed input line: 1-based ``line`` number, its ``custom_id`` if any, why."""

    line: int
    custom_id: str | None
    reason: str


@attrs.frozen
class BatchProgress:
    """A snapshot of a file batch, handed to the ``progress`` callback after each event.

    ``total`` request lines in the input; ``skipped`` already completed in the output;
    ``succeeded`` / ``failed`` in this run, ``transient`` of the failures those that may
    pass on another run (connection errors, timeouts, 408, 409, 429 and 5xx answers, as
    opposed to requests the server refused); ``invalid`` malformed lines; ``retrying``,
    ``in_flight``, ``requests`` (HTTP requests sent) and ``throttled`` (429/503 answers)
    from the live batch; ``tokens`` used by this run's successes; ``elapsed`` seconds.
    """

    total: int
    skipped: int = 0
    succeeded: int = 0
    failed: int = 0
    transient: int = 0
    invalid: int = 0
    retrying: int = 0
    in_flight: int = 0
    requests: int = 0
    throttled: int = 0
    tokens: int = 0
    elapsed: float = 0.0

    @property
    def done(self) -> int:
        """Lines accounted for so far: skipped, succeeded, failed or invalid."""
        return self.skipped + self.succeeded + self.failed + self.invalid


@attrs.frozen
class BatchSummary(BatchProgress):
    """The end of a file batch: the last progress, the malformed lines, and whether it stopped.

    ``invalid_lines`` lists at most ``MAX_LISTED_INVALID`` of them; ``ok`` is True when no
    request failed and no line was malformed.
    """

    invalid_lines: tuple[InvalidLine, ...] = ()
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        """Whether every request line ended as a success (now or in an earlier run)."""
        return not (self.failed or self.invalid or self.interrupted)


ProgressCallback = Callable[[BatchProgress], object]

#: The progress fields that are the live batch's counters: ``BatchStats`` declares them,
#: ``BatchProgress`` copies them (a frozen snapshot), and no third list names them.
_LIVE_COUNTERS = tuple(f.name for f in attrs.fields(BatchProgress) if hasattr(BatchStats, f.name))


async def run_batch_file(
    client: BatchClient,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    progress: ProgressCallback | None = None,
    stop: asyncio.Event | None = None,
    fsync: bool = False,
    preflight: bool = False,
    **pacing: Unpack[BatchParams],
) -> BatchSummary:
    """Run a Batch API JSONL file, appending a result line per request to ``output_path``.

    Re-running with the same output resumes: completed ``custom_id`` values are skipped and
    the failed ones retried; the output keeps one line per ``custom_id``, the latest.
    ``preflight=True`` first compares the balance with the lowest cost of the requests still
    to send and raises ``PreflightError`` before sending any when it cannot pay (see
    ``preflight``).
    ``client`` is an ``AsyncDosAI``; ``concurrency``, ``requests_per_minute`` and
    ``tokens_per_minute`` pace it (``BatchParams``). Raises ``ValueError`` when both paths
    name one file, ``OSError`` for unreadable files and ``DosAIError`` when another run holds
    the output.
    """
    run = _FileRun(Path(input_path), progress, fsync)
    output_file = Path(output_path)
    refuse_same_file(run.input_path, output_file)
    run.total = count_requests(run.input_path)
    with open_output(output_file) as output:
        run.output = output
        run.done, run.present, run.compact = scan_output(output_file)
        if preflight:
            await _preflight(_can_preflight(client), file_requests(run.input_path, run.done))
        batch = client.chat.completions.batch(run.requests, **pacing)
        try:
            return await run.drive(batch, stop)
        finally:
            if run.compact:  # under the lock still: no other run can append meanwhile
                compact(output_file)


def _can_preflight(client: BatchClient) -> PreflightClient:
    if not (hasattr(client, "balance") and hasattr(client, "models")):
        raise TypeError("preflight=True needs an AsyncDosAI (client.balance and client.models)")
    return client  # type: ignore[return-value]  # checked just above


class _FileRun:
    """State of one run over one input file."""

    def __init__(self, input_path: Path, progress: ProgressCallback | None, fsync: bool) -> None:
        self.input_path = input_path
        self.output: BinaryIO | None = None
        self.done: set[str] = set()
        self.present: set[str] = set()  # every custom_id with a line in the output
        self.compact = False  # whether some custom_id has more than one line there
        self.total = 0
        self._progress = progress
        self._fsync = fsync
        self._seen: dict[str, int] = {}  # custom_id -> line number, for duplicates
        self._pending: dict[int, str] = {}  # batch index -> custom_id, for items in flight
        self._skipped = 0
        self._invalid: list[InvalidLine] = []
        self._invalid_count = 0
        self._transient = 0
        self._started = time.monotonic()
        self._batch: Batch | None = None
        self.requests = self._requests()

    async def drive(self, batch: Batch, stop: asyncio.Event | None) -> BatchSummary:
        """Consume the batch, writing each result; end with the summary."""
        self._batch = batch
        self._report()
        watcher = asyncio.create_task(_stop_when(stop, batch)) if stop is not None else None
        try:
            async for item in batch:
                self._write_result(item)
        finally:
            self.requests.close()  # closes the input file now, even after a stop
            self._report()  # the last word, also when cancelled
            if watcher is not None:
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
        return self._summary(stop is not None and stop.is_set())

    def _requests(self) -> Generator[dict[str, Any], None, None]:
        """The input's requests, lazily; malformed and completed lines are handled here."""
        index = 0
        with self.input_path.open("rb") as lines:
            for number, raw in enumerate(lines, 1):
                if not raw.strip():
                    continue
                request = self._accept(number, raw)
                if request is None:
                    continue
                self._pending[index] = request[0]
                index += 1
                yield request[1]

    def _accept(self, number: int, raw: bytes) -> tuple[str, dict[str, Any]] | None:
        try:
            custom_id, params = parse_line(raw)
        except LineError as exc:
            self._reject(number, exc.custom_id, exc.reason, write=True)
            return None
        first = self._seen.setdefault(custom_id, number)
        if first != number:
            self._reject(number, custom_id, f"duplicate custom_id (first on line {first})")
            return None
        if custom_id in self.done:
            self._skipped += 1
            self._report()
            return None
        return custom_id, params

    def _reject(self, number: int, custom_id: str | None, reason: str, write: bool = False) -> None:
        # Written only under a custom_id no other line owns and no earlier run completed.
        owned = custom_id is None or custom_id in self._seen or custom_id in self.done
        if write and not owned and custom_id is not None:
            self._seen[custom_id] = number
            self._write(invalid_record(custom_id, f"line {number}: {reason}"))
        self._invalid_count += 1
        if len(self._invalid) < MAX_LISTED_INVALID:
            self._invalid.append(InvalidLine(number, custom_id, reason))
        self._report()

    def _write_result(self, item: BatchItem) -> None:
        if isinstance(item.result, DosAIError) and _is_transient(item.result):
            self._transient += 1
        self._write(_result_record(self._pending.pop(item.index), item.result))
        self._report()

    def _write(self, record: dict[str, Any]) -> None:
        assert self.output is not None
        custom_id = record["custom_id"]
        if custom_id in self.present:
            self.compact = True  # its older line goes when the run ends
        else:
            self.present.add(custom_id)
        line = memoryview(encode(record))
        while line:  # a regular file takes it in one write; loop on a short write anyway
            written = self.output.write(line)
            line = line[written:]
        if self._fsync:
            os.fsync(self.output.fileno())

    def _report(self) -> None:
        if self._progress is not None:
            self._progress(self._snapshot())

    def _snapshot(self) -> BatchProgress:
        return BatchProgress(**self._counts())

    def _summary(self, interrupted: bool) -> BatchSummary:
        return BatchSummary(
            **self._counts(), invalid_lines=tuple(self._invalid), interrupted=interrupted
        )

    def _counts(self) -> dict[str, Any]:
        stats = self._batch.stats if self._batch is not None else None
        return {
            "total": self.total,
            "skipped": self._skipped,
            "transient": self._transient,
            "invalid": self._invalid_count,
            "elapsed": time.monotonic() - self._started,
            **(_batch_counts(stats) if stats is not None else {}),
        }


def _batch_counts(stats: BatchStats) -> dict[str, int]:
    return {name: getattr(stats, name) for name in _LIVE_COUNTERS}


async def _stop_when(stop: asyncio.Event, batch: Batch) -> None:
    await stop.wait()
    batch.stop()


def _is_transient(exc: DosAIError) -> bool:
    """Whether another run may succeed where this one failed (the default retry rules)."""
    if isinstance(exc, APIStatusError):
        status = exc.status_code
        if status is None:  # an error event inside a 200 stream: the server's trouble
            return True
        return status in DEFAULT_RETRY_STATUSES or status >= 500
    return isinstance(exc, APIConnectionError)  # timeouts included
