"""Files kept in memory, the multipart upload they arrive in, and batch input validation.

A file is OpenAI's ``file`` object plus its bytes. Uploads take purpose "batch" (the server
itself makes "batch_output" files) and are validated as batch input at once: every non-blank
line a JSON object with a unique non-empty ``custom_id``, ``method`` "POST", ``url``
"/v1/chat/completions" or "/v1/embeddings", and an object ``body``. A bad file is a 400 whose
message names the line. Uploads past the size cap get a 413. No I/O here.
"""

from __future__ import annotations

import email.message
import os
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any

import attrs
import orjson

from ._request import RequestError, invalid

__all__ = ["BatchLine", "FileStore", "StoredFile", "page", "parse_batch_lines", "parse_upload"]

BATCH_URLS = ("/v1/chat/completions", "/v1/embeddings")
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


@attrs.frozen
class StoredFile:
    """One file: its metadata and its bytes."""

    id: str
    filename: str
    purpose: str
    data: bytes = attrs.field(repr=False)
    created_at: int

    def object(self) -> dict[str, Any]:
        """OpenAI's ``file`` object."""
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "expires_at": None,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "status_details": None,
        }


@attrs.frozen
class BatchLine:
    """One request of a batch input file (``number`` counts lines from 1)."""

    number: int
    custom_id: str
    url: str
    body: Any


class FileStore:
    """Files by id, oldest first, up to ``max_bytes`` per upload."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._files: dict[str, StoredFile] = {}

    def add(self, filename: str, purpose: str, data: bytes) -> StoredFile:
        """Store a new file and return it."""
        stored = StoredFile(f"file-{os.urandom(12).hex()}", filename, purpose, data, _now())
        self._files[stored.id] = stored
        return stored

    def get(self, file_id: str) -> StoredFile:
        """The file, or a 404."""
        stored = self._files.get(file_id)
        if stored is None:
            raise RequestError(404, f"No such File object: {file_id}", "file_not_found", "id")
        return stored

    def delete(self, file_id: str) -> StoredFile:
        """Remove the file (404 if unknown)."""
        stored = self.get(file_id)
        del self._files[file_id]
        return stored

    def __iter__(self) -> Iterator[StoredFile]:
        return iter(list(self._files.values()))


def parse_upload(content_type: str, raw: bytes, max_bytes: int) -> tuple[str, str, bytes]:
    """The ``file`` part's name and bytes and the ``purpose`` of a multipart upload."""
    match = _BOUNDARY.search(content_type)
    if not content_type.lower().startswith("multipart/form-data") or match is None:
        raise invalid("Upload files as multipart/form-data", "invalid_request")
    parts = dict(_parts(raw, match.group(1).encode()))
    if "file" not in parts:
        raise invalid("Missing the 'file' part", "missing_required_parameter", "file")
    filename, data = parts["file"]
    purpose = parts.get("purpose", ("", b""))[1].decode(errors="replace").strip()
    if purpose != "batch":
        raise invalid(f"Invalid purpose {purpose!r}: use 'batch'", "invalid_value", "purpose")
    if len(data) > max_bytes:
        message = f"File is too large: {len(data)} bytes, the limit is {max_bytes}"
        raise RequestError(413, message, "file_too_large", "file")
    return filename or "upload.jsonl", purpose, data


def _parts(raw: bytes, boundary: bytes) -> Iterator[tuple[str, tuple[str, bytes]]]:
    """(field name, (filename, bytes)) for each part of a multipart body."""
    for chunk in raw.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            return
        head, _, body = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = email.message.Message()
        for line in head.decode("latin-1").split("\r\n"):
            header, _, value = line.partition(":")
            headers[header.strip()] = value.strip()
        field = headers.get_param("name", header="content-disposition")
        filename = headers.get_filename() or ""
        if isinstance(field, str):
            yield field, (filename, body.removesuffix(b"\r\n"))


def parse_batch_lines(data: bytes) -> tuple[BatchLine, ...]:
    """Validate a batch input file; a 400 names the first bad line."""
    lines: list[BatchLine] = []
    seen: set[str] = set()
    for number, text in enumerate(data.splitlines(), 1):
        if text.strip():
            line = _batch_line(number, text)
            if line.custom_id in seen:
                raise _bad_line(number, f"duplicate custom_id {line.custom_id!r}")
            seen.add(line.custom_id)
            lines.append(line)
    if not lines:
        raise invalid("The batch input file has no requests", "invalid_file", "file")
    return tuple(lines)


def _batch_line(number: int, text: bytes) -> BatchLine:
    """One checked line."""
    try:
        item = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise _bad_line(number, "not valid JSON") from None
    if not isinstance(item, dict):
        raise _bad_line(number, "not a JSON object")
    custom_id = item.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        raise _bad_line(number, "'custom_id' must be a non-empty string")
    if item.get("method") != "POST":
        raise _bad_line(number, "'method' must be 'POST'")
    if item.get("url") not in BATCH_URLS:
        raise _bad_line(number, f"'url' must be one of {', '.join(BATCH_URLS)}")
    if not isinstance(item.get("body"), dict):
        raise _bad_line(number, "'body' must be a JSON object")
    return BatchLine(number, custom_id, item["url"], item["body"])


def _bad_line(number: int, problem: str) -> RequestError:
    """A 400 for one line of a batch input file."""
    return invalid(f"Invalid batch input file, line {number}: {problem}", "invalid_file", "file")


def page(items: Sequence[dict[str, Any]], limit: int, after: str | None) -> dict[str, Any]:
    """An OpenAI cursor page over ``items`` (already in listing order): ``after`` an id."""
    start = 0
    if after is not None:
        ids = [item["id"] for item in items]
        start = ids.index(after) + 1 if after in ids else len(items)
    data = list(items[start : start + limit])
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": start + limit < len(items),
    }


def _now() -> int:
    """Whole seconds since the epoch."""
    return int(time.time())
