"""Multipart bodies as plain values: what a form holds, and each file part's bytes per attempt.

``_transport`` turns a ``Multipart`` into aiohttp's form (it alone imports aiohttp); this
module decides how a file is read, so the rule is in one place: a path is streamed from
disk, an open file is read in chunks and never closed, nothing is read whole twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import IO

import attrs

__all__ = ["FilePart", "Multipart", "payload"]

_UPLOAD_CHUNK = 1 << 16


@attrs.frozen
class FilePart:
    """A file sent as one part of a multipart form: ``bytes``, a path, or an open binary file.

    A path is opened afresh for each attempt and streamed from disk (never read whole); an
    open file is read in chunks and left open, rewound to ``start`` for each attempt when it
    is seekable (``start`` is its position when the call began), so a retry resends it whole.
    """

    filename: str
    source: bytes | Path | IO[bytes] = attrs.field(repr=False)
    content_type: str = "application/octet-stream"
    start: int | None = None


@attrs.frozen
class Multipart:
    """A ``multipart/form-data`` body: plain text ``fields`` and ``files`` by field name."""

    fields: Mapping[str, str]
    files: Mapping[str, FilePart]


def payload(part: FilePart) -> bytes | IO[bytes] | AsyncIterator[bytes]:
    """What to send for ``part`` on one attempt (a fresh file handle or iterator each time)."""
    source = part.source
    if isinstance(source, (bytes, Path)):
        # A path is opened for this attempt; aiohttp streams it and closes it.
        return source if isinstance(source, bytes) else source.open("rb")
    if part.start is not None:
        source.seek(part.start)  # a retry resends the file from where the caller had it
    return _chunks(source)


async def _chunks(source: IO[bytes]) -> AsyncIterator[bytes]:
    """The caller's open file in chunks, left open: it is not ours to close."""
    while chunk := source.read(_UPLOAD_CHUNK):
        yield chunk
