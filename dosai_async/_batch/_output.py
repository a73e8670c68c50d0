"""The output file of ``run_batch_file``: opened locked, repaired, scanned and compacted.

Each result is one ``write()`` of a whole line on an unbuffered append-only descriptor; a kill
can at worst leave one torn last line, which ``open_output`` cuts off (or completes). The file
is locked (``flock``) for the whole run. ``compact`` rewrites it to the latest line per
``custom_id`` through a temporary file and ``os.replace``, so a kill leaves the old file or the
new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from dosai_async._core._exceptions import DosAIError
from dosai_async._models import _converter

from ._jsonl import is_completed

__all__ = ["compact", "count_requests", "open_output", "refuse_same_file", "scan_output"]

_CHUNK = 1 << 16  # read size when looking for the last newline


def refuse_same_file(source: Path, target: Path) -> None:
    """``ValueError`` when ``target`` is ``source`` (same path, symlink or hard link)."""
    # samefile follows symlinks and compares inodes, so a hard link is caught too.
    if target.exists() and source.samefile(target):
        raise ValueError(f"{target} is the input file itself: write the results elsewhere")


@contextlib.contextmanager
def open_output(path: Path) -> Iterator[BinaryIO]:
    """The output opened for appending (unbuffered), locked, with a torn tail repaired."""
    while True:
        with path.open("a+b", buffering=0) as output:
            _lock(output, path)
            if not _still_at(output, path):
                continue  # a run that just ended compacted it: lock the file now there
            _repair_tail(output)
            yield output
            return


def _still_at(output: BinaryIO, path: Path) -> bool:
    """Whether ``path`` still names the open file (``os.replace`` may have swapped it)."""
    try:
        return os.path.samestat(os.fstat(output.fileno()), os.stat(path))
    except FileNotFoundError:
        return False


def _lock(output: BinaryIO, path: Path) -> None:
    if sys.platform == "win32":  # pragma: no cover - no flock there
        return
    import fcntl

    try:
        fcntl.flock(output.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise DosAIError(f"another batch run is writing to {path}; wait for it to end") from None


def _repair_tail(output: BinaryIO) -> None:
    """Cut a torn last line (a kill mid-write); add the newline if only that is missing."""
    size = output.seek(0, os.SEEK_END)
    if size == 0:
        return
    start = max(size - _CHUNK, 0)
    output.seek(start)
    chunk = output.read(size - start)
    if chunk.endswith(b"\n"):
        return
    cut = _last_newline(output, start, chunk)
    tail = _read_from(output, cut, size)
    if _is_whole_record(tail):
        output.write(b"\n")
    else:
        output.truncate(cut)


def _last_newline(output: BinaryIO, start: int, chunk: bytes) -> int:
    """Offset just after the file's last newline (0 if it has none)."""
    while True:
        found = chunk.rfind(b"\n")
        if found >= 0:
            return start + found + 1
        if start == 0:
            return 0
        end, start = start, max(start - _CHUNK, 0)
        output.seek(start)
        chunk = output.read(end - start)


def _read_from(output: BinaryIO, start: int, end: int) -> bytes:
    output.seek(start)
    return output.read(end - start)


def _is_whole_record(tail: bytes) -> bool:
    try:
        record = _converter.loads(tail)
    except _converter.JSONDecodeError:
        return False
    return isinstance(record, dict) and isinstance(record.get("custom_id"), str)


def scan_output(path: Path) -> tuple[set[str], set[str], bool]:
    """The output's completed ids, all its ids, and whether any id has several lines."""
    latest: dict[str, bool] = {}
    repeated = False
    with path.open("rb") as lines:
        for raw in lines:
            record = _record(raw)
            if record is not None:
                repeated = repeated or record[0] in latest
                latest[record[0]] = is_completed(record[1])
    done = {custom_id for custom_id, completed in latest.items() if completed}
    return done, set(latest), repeated


def _record(raw: bytes) -> tuple[str, dict[str, Any]] | None:
    """``(custom_id, record)`` for a result line; ``None`` for anything else."""
    try:
        record = _converter.loads(raw)
    except _converter.JSONDecodeError:
        return None  # not ours to judge: only whole result lines count
    custom_id = record.get("custom_id") if isinstance(record, dict) else None
    return (custom_id, record) if isinstance(custom_id, str) else None


def compact(path: Path) -> None:
    """Keep only the latest line per ``custom_id``, replacing the file in one step.

    Two passes over the file, so only the ids are held in memory. Lines that are not
    result records are kept as they are: they are not ours to drop.
    """
    target = path.resolve()  # through a symlink: replace the file, not the link
    with target.open("rb") as lines:
        last = {record[0]: n for n, raw in enumerate(lines) if (record := _record(raw))}
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as compacted, target.open("rb") as lines:
            for n, raw in enumerate(lines):
                record = _record(raw)
                if record is None or last[record[0]] == n:
                    compacted.write(raw)
            compacted.flush()
            os.fsync(compacted.fileno())  # the data is on disk before its name moves
        os.chmod(temporary, stat.S_IMODE(target.stat().st_mode))
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def count_requests(path: Path) -> int:
    """The input's request lines (non-blank), for progress."""
    with path.open("rb") as lines:
        return sum(1 for raw in lines if raw.strip())
