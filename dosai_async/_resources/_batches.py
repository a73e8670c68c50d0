"""``client.batches``: the hosted Batch API (names as in openai) and ``run_file``, the whole job.

Creating a batch is not idempotent (a retried create that had arrived makes a second
batch), so ``create`` retries only connection errors before any response, as uploads do.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Unpack
from urllib.parse import quote, urlencode

import attrs

from dosai_async._batch._hosted import (
    RECOVER_SCAN,
    HostedApi,
    HostedBatchSummary,
    run_hosted_file,
)
from dosai_async._batch._hosted_cancel import cancel_hosted_file
from dosai_async._models._batches import Batch, BatchList
from dosai_async._models._files import FileObject
from dosai_async._models._params import RequestOptions

from ._base import CallOptionsFn, RequesterFn
from ._files import Files
from ._pages import AsyncPager
from ._raw_namespaces import BatchesWithRawResponse, BatchesWithStreamingResponse


class Batches:
    """``client.batches``."""

    def __init__(self, requester: RequesterFn, call_options: CallOptionsFn, files: Files) -> None:
        self._requester = requester
        self._call_options = call_options
        self._files = files

    @property
    def with_raw_response(self) -> BatchesWithRawResponse:
        """Each method returning a ``RawResponse`` (headers, status, ``parse()``)."""
        return BatchesWithRawResponse(self)

    @property
    def with_streaming_response(self) -> BatchesWithStreamingResponse:
        """Each method as ``async with`` around its ``AsyncRawResponse``."""
        return BatchesWithStreamingResponse(self)

    async def create(
        self,
        *,
        input_file_id: str,
        endpoint: str = "/v1/chat/completions",
        completion_window: str = "24h",
        metadata: Mapping[str, str] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Batch:
        """Start a batch over an uploaded ``purpose="batch"`` file (``POST /batches``)."""
        if not input_file_id:
            raise ValueError("input_file_id must be the id of an uploaded file, e.g. 'file-abc'")
        body: dict[str, object] = {
            "input_file_id": input_file_id,
            "endpoint": endpoint,
            "completion_window": completion_window,
        }
        if metadata is not None:
            body["metadata"] = dict(metadata)
        call = self._call_options(options)
        call = attrs.evolve(call, retry=attrs.evolve(call.retry, retry_statuses=frozenset()))
        return await self._requester().request_json("POST", "/batches", Batch, call, body)

    async def retrieve(self, batch_id: str, **options: Unpack[RequestOptions]) -> Batch:
        """``GET /batches/{batch_id}``: the batch's ``status`` and ``request_counts`` now."""
        call = self._call_options(options)
        return await self._requester().request_json("GET", _path(batch_id), Batch, call)

    async def cancel(self, batch_id: str, **options: Unpack[RequestOptions]) -> Batch:
        """``POST /batches/{batch_id}/cancel``: "cancelling" now, "cancelled" soon after.

        Lines that already ran keep their results (in the output and error files).
        """
        call = self._call_options(options)
        path = _path(batch_id) + "/cancel"
        return await self._requester().request_json("POST", path, Batch, call)

    def list(
        self,
        *,
        limit: int | None = None,
        after: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[Batch, BatchList]:
        """``GET /batches``, newest first: ``await`` it for a page, ``async for`` for all."""
        call = self._call_options(options)

        async def fetch(cursor: str | None) -> BatchList:
            query = {k: str(v) for k, v in (("limit", limit), ("after", cursor)) if v is not None}
            path = "/batches" + ("?" + urlencode(query) if query else "")
            return await self._requester().request_json("GET", path, BatchList, call)

        return AsyncPager(fetch, after)

    async def run_file(
        self,
        input_path: str | os.PathLike[str],
        output_path: str | os.PathLike[str],
        *,
        endpoint: str = "/v1/chat/completions",
        metadata: Mapping[str, str] | None = None,
        poll_interval: float = 2.0,
        max_poll_interval: float = 60.0,
        progress: Callable[[Batch], object] | None = None,
    ) -> HostedBatchSummary:
        """Run a Batch API JSONL file as a hosted batch; one result line per request in OUTPUT.

        Uploads the file, creates the batch (its ``metadata`` carries the input's SHA-256),
        polls it with backoff (``progress`` gets each ``Batch``, see ``request_counts``),
        downloads the output and error files and merges them into ``output_path`` in the
        format ``run_batch_file`` writes. A run that was killed or cancelled re-attaches to
        its batch when run again (``OUTPUT.batch.json`` names it) instead of submitting the
        input a second time; cancelling a run leaves the batch running on the server.
        """
        api = HostedApi(
            upload=self._upload,
            create=self._create_for,
            retrieve=self.retrieve,
            recent=self._recent,
            download=self._download,
        )
        return await run_hosted_file(
            api,
            input_path,
            output_path,
            endpoint=endpoint,
            metadata=metadata,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            progress=progress,
        )

    async def cancel_file(
        self,
        output_path: str | os.PathLike[str],
        *,
        poll_interval: float = 2.0,
        progress: Callable[[Batch], object] | None = None,
    ) -> Batch | None:
        """Cancel the batch a ``run_file`` writing ``output_path`` left running; the final
        ``Batch``, or None when nothing is pending for ``output_path``.

        ``OUTPUT.batch.json`` names the batch. It is asked to stop, then retrieved every
        ``poll_interval`` seconds (``progress`` gets each state) until it is final:
        ``cancelled``, or ``completed`` / ``failed`` / ``expired`` when it got there first
        (then it is left as it is). The state file is removed once the batch is final, so
        running ``run_file`` again submits the input as a new batch.
        """
        return await cancel_hosted_file(
            self.retrieve,
            self.cancel,
            output_path,
            poll_interval=poll_interval,
            progress=progress,
        )

    async def _upload(self, path: Path) -> FileObject:
        return await self._files.create(file=path, purpose="batch")

    async def _create_for(self, file_id: str, endpoint: str, metadata: Mapping[str, str]) -> Batch:
        return await self.create(input_file_id=file_id, endpoint=endpoint, metadata=metadata)

    async def _recent(self) -> AsyncIterator[Batch]:
        seen = 0
        async for batch in self.list(limit=RECOVER_SCAN):
            yield batch
            seen += 1
            if seen >= RECOVER_SCAN:
                return

    async def _download(self, file_id: str, target: Path) -> Path:
        return await self._files.content(file_id, to=target)


def _path(batch_id: str) -> str:
    if not batch_id:
        raise ValueError("batch_id must be a non-empty batch id, e.g. 'batch_abc123'")
    return "/batches/" + quote(batch_id, safe="")
