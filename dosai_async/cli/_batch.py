"""``dosai batch INPUT.jsonl OUTPUT.jsonl``: run a Batch API file with live progress.

The progress display (done, failed, retrying, requests/s, tokens/s, ETA) goes to stderr
and the final summary to stdout. Re-running with the same OUTPUT resumes: completed
requests are skipped, failed ones retried. Exit status: 0 when every request succeeded,
1 when any failed or a line was malformed, 2 for bad usage (a missing input file), 130
after Ctrl-C. The first Ctrl-C stops sending and waits for the requests on the wire (their
results are written); a second one cancels them. Either way the summary is printed.

``--local`` runs against a DOS AI emulator in this process that answers at once, so a
10,000-line file is a few seconds' demo.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from dosai_async import BatchProgress, BatchSummary, run_batch_file

from ._common import (
    EXIT_API_ERROR,
    EXIT_USAGE,
    CLIError,
    add_client_options,
    console,
    open_client,
)

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.progress import Progress, TaskID

EXIT_INTERRUPTED = 130
_REFRESH = 0.1  # seconds between progress updates; rich redraws on its own clock anyway
_LISTED_INVALID = 10  # malformed lines named in the summary; the output has the rest


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``dosai batch``."""
    parser = subparsers.add_parser(
        "batch",
        help="run a Batch API JSONL file with live progress (resumable)",
        description="Send every request of a Batch API JSONL file (lines of {custom_id, "
        "method, url, body}) and write one result line per custom_id to OUTPUT (the latest "
        "one, when a run is repeated). Run it again with the same OUTPUT to resume: completed "
        "requests are skipped, failed ones sent again.",
    )
    parser.add_argument("input", type=Path, metavar="INPUT.jsonl", help="requests to send")
    parser.add_argument(
        "output", type=Path, metavar="OUTPUT.jsonl", help="results, one line per custom_id"
    )
    parser.add_argument(
        "--concurrency",
        type=_positive_int,
        default=64,
        metavar="N",
        help="requests in flight at most (default: %(default)s)",
    )
    parser.add_argument("--rpm", type=_positive_int, metavar="N", help="requests per minute cap")
    parser.add_argument("--tpm", type=_positive_int, metavar="N", help="tokens per minute cap")
    parser.add_argument(
        "--fsync", action="store_true", help="flush each result to disk (survives power loss)"
    )
    parser.add_argument(
        "--hosted",
        action="store_true",
        help="submit the file to the hosted Batch API (half price, results within 24 h); "
        "re-running re-attaches to the batch",
    )
    parser.add_argument(
        "--cancel",
        action="store_true",
        help="with --hosted: cancel the batch a run writing OUTPUT left running "
        "(OUTPUT.batch.json names it), wait until it stops and print its final status",
    )
    parser.add_argument(
        "--poll-interval",
        type=_positive_float,
        default=2.0,
        metavar="S",
        help="with --hosted: seconds between the first status checks (default: %(default)s)",
    )
    parser.add_argument(
        "--preflight",
        action="store_true",
        help="first check the balance; refuse (sending nothing) if it clearly cannot pay",
    )
    add_client_options(parser, per="request")
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    """Run the file; the exit code."""
    if args.cancel:
        return await _cancel(args)
    _check_paths(args.input, args.output)
    if args.hosted:
        from . import _hosted

        return await _hosted.run(args)
    out = console()
    display = _Display(console(stderr=True))
    with display:
        summary = await _run_interruptible(args, display)
    _print_summary(out, summary or display.last_summary(), args.output)
    if summary is None or summary.interrupted:
        return EXIT_INTERRUPTED
    return 0 if summary.ok else EXIT_API_ERROR


async def _cancel(args: argparse.Namespace) -> int:
    if not args.hosted:
        raise CLIError("--cancel stops a hosted batch: add --hosted", EXIT_USAGE)
    if args.local:
        raise CLIError(
            "--cancel with --local: a --local batch ends with the run that started it, so "
            "there is nothing to cancel",
            EXIT_USAGE,
        )
    from . import _hosted

    return await _hosted.cancel(args)


def _check_paths(source: Path, target: Path) -> None:
    if source.is_dir():
        raise CLIError(f"{source}: is a directory; name the input JSONL file", EXIT_USAGE)
    if not source.is_file():
        raise CLIError(f"{source}: no such input file", EXIT_USAGE)
    if target.is_dir():
        raise CLIError(
            f"{target}: is a directory; name the output file, e.g. {target / 'results.jsonl'}",
            EXIT_USAGE,
        )
    if not target.parent.is_dir():
        raise CLIError(f"{target.parent}: no such directory for the output", EXIT_USAGE)
    # samefile follows symlinks and compares inodes, so hard links are caught too.
    if target.exists() and source.samefile(target):
        raise CLIError(
            f"{target}: is the input file itself; write the results to another file",
            EXIT_USAGE,
        )


async def _run_interruptible(args: argparse.Namespace, display: _Display) -> BatchSummary | None:
    """The run's summary; ``None`` when a second Ctrl-C cancelled it."""
    stop = asyncio.Event()
    task = asyncio.current_task()
    assert task is not None
    with _on_sigint(lambda: _interrupt(stop, task, display.note)):
        try:
            async with open_client(args, reasoning=False, batch=True) as client:
                return await run_batch_file(
                    client,
                    args.input,
                    args.output,
                    concurrency=args.concurrency,
                    requests_per_minute=args.rpm,
                    tokens_per_minute=args.tpm,
                    progress=display.update,
                    stop=stop,
                    fsync=args.fsync,
                    preflight=args.preflight,
                )
        except asyncio.CancelledError:
            if not stop.is_set() or task.uncancel():
                raise  # not our Ctrl-C
            return None


def _interrupt(
    stop: asyncio.Event, task: asyncio.Task[object], note: Callable[[str], None]
) -> None:
    """First Ctrl-C: stop sending and drain; second: cancel what is in flight."""
    if stop.is_set():
        note("cancelling the requests in flight (they will be sent again on resume)")
        task.cancel()
    else:
        note("stopping: waiting for the requests in flight (Ctrl-C again to cancel them)")
        stop.set()


@contextlib.contextmanager
def _on_sigint(handler: Callable[[], None]) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, handler)
    except (NotImplementedError, RuntimeError, ValueError):
        yield  # Windows, or not the main thread: Ctrl-C stays a KeyboardInterrupt
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


# -- display --------------------------------------------------------------------------


class _Display:
    """A rich progress bar plus a line of live figures, fed by progress snapshots."""

    def __init__(self, err: Console) -> None:
        self._figures = "starting"
        self._progress = _progress(err, lambda: self._figures)
        self._task: TaskID = self._progress.add_task("batch", total=None, eta="-")
        self._last: BatchProgress | None = None
        self._shown = 0.0

    def __enter__(self) -> _Display:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._last is not None:
            self._show(self._last)
        self._progress.stop()

    def note(self, message: str) -> None:
        """Print a line above the progress bar."""
        self._progress.console.print(message, markup=False)

    def update(self, snapshot: BatchProgress) -> None:
        """Record a snapshot; redraw at most every ``_REFRESH`` seconds."""
        self._last = snapshot
        now = time.monotonic()
        if now - self._shown >= _REFRESH:
            self._shown = now
            self._show(snapshot)

    def _show(self, p: BatchProgress) -> None:
        rate = (p.succeeded + p.failed) / p.elapsed if p.elapsed > 0 else 0.0
        left = p.total - p.done
        eta = _duration(left / rate) if rate > 0 and left > 0 else "-"
        self._figures = _figures(p, rate)
        self._progress.update(self._task, total=p.total, completed=p.done, eta=eta)

    def last_summary(self) -> BatchSummary:
        """A summary built from the last snapshot (the run was cancelled)."""
        last = self._last or BatchProgress(total=0)
        return BatchSummary(**attrs.asdict(last, recurse=False), interrupted=True)


def _progress(err: Console, figures: Callable[[], str]) -> Progress:
    """A progress bar with the live figures on a line of their own below it."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
    )
    from rich.text import Text

    class WithFigures(Progress):
        def get_renderables(self) -> Iterable[RenderableType]:
            yield self.make_tasks_table(self.tasks)
            yield Text.from_markup(figures())

    return WithFigures(
        TextColumn("[bold]batch"),
        BarColumn(bar_width=None),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("ETA {task.fields[eta]}"),
        console=err,
        expand=True,
    )


def _figures(p: BatchProgress, rate: float) -> str:
    failed = p.failed + p.invalid
    tokens = p.tokens / p.elapsed if p.elapsed > 0 else 0.0
    shown = f"[red]{failed:,} failed[/]" if failed else "0 failed"
    return (
        f"{shown} · {p.retrying:,} retrying · {p.in_flight:,} in flight · "
        f"{rate:,.0f} req/s · {tokens:,.0f} tok/s"
    )


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def _print_summary(out: Console, s: BatchSummary, output: Path) -> None:
    from rich.table import Table

    table = Table(title="batch summary", show_header=False, title_justify="left")
    rows = [
        ("requests in input", s.total),
        ("already done (skipped)", s.skipped),
        ("succeeded", s.succeeded),
        ("failed", s.failed),
        ("malformed lines", s.invalid),
        ("HTTP requests sent", s.requests),
        ("throttled (429/503)", s.throttled),
        ("tokens", s.tokens),
    ]
    for name, value in rows:
        table.add_row(name, f"{value:,}")
    table.add_row("time", f"{s.elapsed:.1f} s")
    out.print(table)
    for bad in s.invalid_lines[:_LISTED_INVALID]:
        out.print(f"line {bad.line}: {bad.reason}", markup=False)
    if s.invalid > _LISTED_INVALID:
        out.print(f"... and {s.invalid - _LISTED_INVALID} more malformed lines")
    out.print(_verdict(s, output), markup=False)


def _verdict(s: BatchSummary, output: Path) -> str:
    if s.interrupted:
        return f"interrupted: run the same command again to resume (results in {output})"
    if s.ok and s.total == 0:
        return f"the input holds no requests; nothing was sent ({output} is unchanged)"
    if s.ok:
        return f"all {s.total:,} requests succeeded; results in {output}"
    return "; ".join(_failures(s, output))


def _failures(s: BatchSummary, output: Path) -> Iterator[str]:
    """What failed, and whether running again can help: only for transient failures."""
    if s.transient:
        yield (
            f"{_many(s.transient, 'request')} failed on the way (network, timeout, 429 or "
            "5xx): run the same command again to retry them"
        )
    refused = s.failed - s.transient
    if refused:
        yield (
            f"{_many(refused, 'request')} refused by the server: the error lines in {output} "
            "say why; sending them again will not change that"
        )
    if s.invalid:
        yield f"{_many(s.invalid, 'malformed line')}: correct the input first"


def _many(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {text}")
    return value
