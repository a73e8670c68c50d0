"""``client.files``: upload, look up, download and delete files (names as in openai).

Uploads are not idempotent (a retried upload that had in fact arrived makes a second file),
so ``create`` retries only connection errors that happen before any response, as openai
does, and an open file that cannot be rewound is not retried at all. Downloads are
idempotent and retried as any ``GET``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Unpack, overload
from urllib.parse import quote, urlencode

import attrs

from dosai_async._core._multipart import FilePart, Multipart
from dosai_async._models._files import FileDeleted, FileList, FileObject
from dosai_async._models._params import FileInput, RequestOptions
from dosai_async._requester import CallOptions

from ._base import CallOptionsFn, RequesterFn
from ._pages import AsyncPager
from ._raw_namespaces import FilesWithRawResponse, FilesWithStreamingResponse


class Files:
    """``client.files``."""

    def __init__(self, requester: RequesterFn, call_options: CallOptionsFn) -> None:
        self._requester = requester
        self._call_options = call_options

    @property
    def with_raw_response(self) -> FilesWithRawResponse:
        """Each method returning a ``RawResponse`` (headers, status, ``parse()``)."""
        return FilesWithRawResponse(self)

    @property
    def with_streaming_response(self) -> FilesWithStreamingResponse:
        """Each method as ``async with`` around its ``AsyncRawResponse``."""
        return FilesWithStreamingResponse(self)

    async def create(
        self, *, file: FileInput, purpose: str = "batch", **options: Unpack[RequestOptions]
    ) -> FileObject:
        """Upload ``file`` (``POST /files``, multipart) and return its ``FileObject``.

        ``file`` is bytes, a path (streamed from disk, never read whole), an open binary
        file (read from its current position, left open), or ``(filename, content)``.
        The DOS Batch API takes ``purpose="batch"``.
        """
        part = _file_part(file)
        form = Multipart({"purpose": purpose}, {"file": part})
        call = _upload_options(self._call_options(options), part)
        return await self._requester().request_json("POST", "/files", FileObject, call, form)

    async def retrieve(self, file_id: str, **options: Unpack[RequestOptions]) -> FileObject:
        """``GET /files/{file_id}``."""
        call = self._call_options(options)
        return await self._requester().request_json("GET", _path(file_id), FileObject, call)

    @overload
    async def content(self, file_id: str, **options: Unpack[RequestOptions]) -> bytes: ...

    @overload
    async def content(
        self, file_id: str, *, to: str | os.PathLike[str], **options: Unpack[RequestOptions]
    ) -> Path: ...

    async def content(
        self,
        file_id: str,
        *,
        to: str | os.PathLike[str] | None = None,
        **options: Unpack[RequestOptions],
    ) -> bytes | Path:
        """A file's bytes (``GET /files/{file_id}/content``); with ``to=path``, saved there.

        With ``to``, the body is streamed to disk chunk by chunk (a large batch output never
        sits in memory) through a temporary file renamed into place, and the path returned.
        """
        call = self._call_options(options)
        path = _path(file_id) + "/content"
        if to is None:
            return await self._requester().request_bytes(path, call)
        target = Path(to)
        await self._requester().request_download(path, target, call)
        return target

    async def delete(self, file_id: str, **options: Unpack[RequestOptions]) -> FileDeleted:
        """``DELETE /files/{file_id}``."""
        call = self._call_options(options)
        return await self._requester().request_json("DELETE", _path(file_id), FileDeleted, call)

    def list(
        self,
        *,
        purpose: str | None = None,
        limit: int | None = None,
        order: str | None = None,
        after: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[FileObject, FileList]:
        """``GET /files``: ``await`` it for the first page, ``async for`` it for every file."""
        call = self._call_options(options)
        query = {"purpose": purpose, "limit": limit, "order": order}

        async def fetch(cursor: str | None) -> FileList:
            path = "/files" + _query({**query, "after": cursor})
            return await self._requester().request_json("GET", path, FileList, call)

        return AsyncPager(fetch, after)


def _path(file_id: str) -> str:
    if not file_id:
        raise ValueError("file_id must be a non-empty file id, e.g. 'file-abc123'")
    return "/files/" + quote(file_id, safe="")


def _query(params: dict[str, object]) -> str:
    given = {key: str(value) for key, value in params.items() if value is not None}
    return "?" + urlencode(given) if given else ""


def _file_part(file: FileInput) -> FilePart:
    if isinstance(file, tuple):
        name, content = file
        return _part(name, content)
    if isinstance(file, (str, os.PathLike)):
        path = Path(file)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file to upload")
        return FilePart(path.name, path)
    return _part(None, file)


def _part(name: str | None, content: bytes | IO[bytes]) -> FilePart:
    if isinstance(content, (bytes, bytearray, memoryview)):
        return FilePart(name or "upload.jsonl", bytes(content))
    if not hasattr(content, "read"):
        raise TypeError(
            "file must be bytes, a path, an open binary file or (filename, content), "
            f"not {type(content).__name__}"
        )
    filename = name or Path(str(getattr(content, "name", "") or "upload.jsonl")).name
    start = content.tell() if content.seekable() else None
    return FilePart(filename, content, start=start)


def _upload_options(call: CallOptions, part: FilePart) -> CallOptions:
    """Retry an upload only where it cannot have arrived: a connection error before any
    response; and not at all from an open file that cannot be rewound."""
    once = not isinstance(part.source, (bytes, Path)) and part.start is None
    retry = attrs.evolve(
        call.retry, retry_statuses=frozenset(), max_retries=0 if once else call.retry.max_retries
    )
    return attrs.evolve(call, retry=retry)
