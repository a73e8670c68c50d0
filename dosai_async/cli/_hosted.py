"""``dosai batch IN OUT --hosted``: the file through the hosted Batch API, with progress.

Uploads IN, creates a batch, shows ``request_counts`` as a progress bar (stderr), then
writes OUT in the same line format as the local runner and prints a summary (stdout).
Running the same command again re-attaches to the batch (``OUT.batch.json`` names it)
instead of submitting IN a second time. Ctrl-C detaches: the batch keeps running on the
server, and the same command picks it up later. With ``--local`` the batch runs on an
emulator inside this process (so it ends with the process: nothing to re-attach to).

``--cancel`` stops the batch ``OUT.batch.json`` names (a detached or killed run's), waits
until it is final, prints that status and removes the state file. No state file: it says
there is nothing to cancel and exits 0, as the batch is not running either way.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from dosai_async import BatchJob, HostedBatchSummary

from ._common import EXIT_API_ERROR, console, open_client

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

EXIT_INTERRUPTED = 130


async def run(args: argparse.Namespace) -> int:
    """Run IN as a hosted batch; the exit code."""
    out, err = console(), console(stderr=True)
    display = _Display(err)
    try:
        with display:
            async with open_client(args, reasoning=False, batch=True) as client:
                summary = await client.batches.run_file(
                    args.input,
                    args.output,
                    poll_interval=args.poll_interval,
                    max_poll_interval=max(args.poll_interval, 30.0),
                    progress=display.update,
                )
    except asyncio.CancelledError:
        if display.batch_id is None:
            raise
        _detached(out, display.batch_id, args)
        return EXIT_INTERRUPTED
    _print_summary(out, summary)
    return 0 if summary.ok else EXIT_API_ERROR


async def cancel(args: argparse.Namespace) -> int:
    """Cancel the hosted batch of OUT; the exit code (0 once it is final or was none)."""
    out, err = console(), console(stderr=True)
    shown: list[str] = []

    def progress(batch: BatchJob) -> None:
        if batch.status not in shown:
            shown.append(batch.status)
            err.print(f"batch {batch.id}: {batch.status}", markup=False)

    async with open_client(args, reasoning=False, batch=True) as client:
        batch = await client.batches.cancel_file(
            args.output, poll_interval=args.poll_interval, progress=progress
        )
    out.print(_cancelled(batch, args), markup=False)
    return 0


def _cancelled(batch: BatchJob | None, args: argparse.Namespace) -> str:
    state = f"{args.output}.batch.json"
    if batch is None:
        return f"nothing to cancel: no hosted batch is pending for {args.output} (no {state})"
    counts = batch.request_counts
    ran = f"{counts.completed + counts.failed:,} of {counts.total:,}" if counts else "no"
    if batch.status == "cancelled":
        return (
            f"batch {batch.id} cancelled ({ran} requests had run); removed {state}. Running "
            f"without --cancel submits {args.input} as a new batch."
        )
    return (
        f"batch {batch.id} had already {batch.status}: nothing to cancel; removed {state}. "
        f"Run without --cancel to write {args.output} from it."
    )


class _Display:
    """A progress bar over ``request_counts``, with the batch's status beside it."""

    def __init__(self, err: Console) -> None:
        self._progress = _progress(err)
        self._task: TaskID = self._progress.add_task("uploading", total=None)
        self.batch_id: str | None = None

    def __enter__(self) -> _Display:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def update(self, batch: BatchJob) -> None:
        """Show one state of the batch (the first one also prints its id)."""
        if self.batch_id is None:
            self.batch_id = batch.id
            self._progress.console.print(f"batch {batch.id}", markup=False)
        counts = batch.request_counts
        total = counts.total if counts is not None and counts.total else None
        done = counts.completed + counts.failed if counts is not None else 0
        self._progress.update(self._task, total=total, completed=done, description=batch.status)


def _progress(err: Console) -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn("[bold]hosted batch[/] {task.description}"),
        BarColumn(bar_width=None),
        MofNCompleteColumn(),
        console=err,
        expand=True,
    )


def _detached(out: Console, batch_id: str, args: argparse.Namespace) -> None:
    if args.local:
        # The emulator went with this process: nothing is left to re-attach to, so the state
        # file (OUTPUT.batch.json, named by the library's run_file) must not make the next
        # run look for it.
        output = Path(args.output)
        output.with_name(output.name + ".batch.json").unlink(missing_ok=True)
        out.print(f"interrupted: batch {batch_id} ran on the --local emulator, which is gone")
        return
    out.print(
        f"detached: batch {batch_id} keeps running on the server. Run the same command "
        f"again to re-attach and write {args.output}; to stop it, run it with --cancel.",
        markup=False,
    )


def _print_summary(out: Console, s: HostedBatchSummary) -> None:
    from rich.table import Table

    table = Table(title="hosted batch summary", show_header=False, title_justify="left")
    counts = s.batch.request_counts
    rows = [
        ("batch", s.batch.id),
        ("status", s.batch.status),
        ("requests", f"{counts.total:,}" if counts is not None else "-"),
        ("succeeded", f"{s.succeeded:,}"),
        ("failed", f"{s.failed:,}"),
        ("re-attached", "yes" if s.reattached else "no"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)
    verdict = (
        f"all {_requests(s.succeeded)} succeeded; results in {s.output_path}"
        if s.ok
        else f"{_requests(s.failed)} failed (batch {s.batch.status}); the error lines in "
        f"{s.output_path} say why"
    )
    out.print(verdict, markup=False)


def _requests(count: int) -> str:
    return f"{count:,} request" + ("" if count == 1 else "s")
