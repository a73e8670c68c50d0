"""``with_raw_response`` / ``with_streaming_response`` of ``files``, ``batches``,
``embeddings``, ``key`` and ``balance``: the result types (for mypy) and, in ``_RAW``, which
methods are paged or refused (see ``_raw``). The behaviour is ``_raw``'s."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, Unpack

from dosai_async._models._account import Balance, KeyInfo
from dosai_async._models._batches import Batch, BatchList
from dosai_async._models._embeddings import CreateEmbeddingResponse
from dosai_async._models._files import FileDeleted, FileList, FileObject
from dosai_async._models._params import EncodingFormat, FileInput, RequestOptions

from ._raw import PAGED, RawResponse, RawResponseManager, RawResponses, StreamingResponses

_FILES: Mapping[str, str | tuple[str, str]] = {
    "list": PAGED,
    "content": (
        "to",
        "the body goes to disk, not into the response; call content(file_id) for the bytes "
        "with the headers, or files.content(file_id, to=path) without with_raw_response",
    ),
}
_BATCHES: Mapping[str, str | tuple[str, str]] = {
    "list": PAGED,
    "run_file": "it is a whole job (upload, create, polls, downloads), not one HTTP call; "
    "use create, retrieve and cancel, which each are one",
    "cancel_file": "it reads a state file and polls until the batch is final; use cancel "
    "(one call) for its response",
}
_EMBEDDINGS: Mapping[str, str | tuple[str, str]] = {
    "create_many": "it fans out into many requests, which have no one status or headers; "
    "use create for one request's response",
}


class FilesWithRawResponse(RawResponses):
    """``client.files.with_raw_response``; ``list()`` gives the first page."""

    _RAW: ClassVar[Mapping[str, str | tuple[str, str]]] = _FILES

    if TYPE_CHECKING:

        async def create(
            self, *, file: FileInput, purpose: str = ..., **options: Unpack[RequestOptions]
        ) -> RawResponse[FileObject]: ...

        async def retrieve(
            self, file_id: str, **options: Unpack[RequestOptions]
        ) -> RawResponse[FileObject]: ...

        async def content(
            self, file_id: str, **options: Unpack[RequestOptions]
        ) -> RawResponse[bytes]: ...

        async def delete(
            self, file_id: str, **options: Unpack[RequestOptions]
        ) -> RawResponse[FileDeleted]: ...

        async def list(
            self,
            *,
            purpose: str | None = ...,
            limit: int | None = ...,
            order: str | None = ...,
            after: str | None = ...,
            **options: Unpack[RequestOptions],
        ) -> RawResponse[FileList]: ...


class FilesWithStreamingResponse(StreamingResponses):
    """``client.files.with_streaming_response``; ``list()`` gives the first page."""

    _RAW: ClassVar[Mapping[str, str | tuple[str, str]]] = _FILES

    if TYPE_CHECKING:

        def create(
            self, *, file: FileInput, purpose: str = ..., **options: Unpack[RequestOptions]
        ) -> RawResponseManager[FileObject]: ...

        def retrieve(
            self, file_id: str, **options: Unpack[RequestOptions]
        ) -> RawResponseManager[FileObject]: ...

        def content(
            self, file_id: str, **options: Unpack[RequestOptions]
        ) -> RawResponseManager[bytes]: ...

        def delete(
            self, file_id: str, **options: Unpack[RequestOptions]
        ) -> RawResponseManager[FileDeleted]: ...

        def list(
            self,
            *,
            purpose: str | None = ...,
            limit: int | None = ...,
            order: str | None = ...,
            after: str | None = ...,
            **options: Unpack[RequestOptions],
        ) -> RawResponseManager[FileList]: ...


class BatchesWithRawResponse(RawResponses):
    """``client.batches.with_raw_response``; ``list()`` gives the first page."""

    _RAW: ClassVar[Mapping[str, str | tuple[str, str]]] = _BATCHES

    if TYPE_CHECKING:

        async def create(
            self,
            *,
            input_file_id: str,
            endpoint: str = ...,
            completion_window: str = ...,
            metadata: Mapping[str, str] | None = ...,
            **options: Unpack[RequestOptions],
        ) -> RawResponse[Batch]: ...

        async def retrieve(
            self, batch_id: str, **options: Unpack[RequestOptions]
        ) -> RawResponse[Batch]: ...

        async def cancel(
            self, batch_id: str, **options: Unpack[RequestOptions]
        ) -> RawResponse[Batch]: ...

        async def list(
            self,
            *,
            limit: int | None = ...,
            after: str | None = ...,
            **options: Unpack[RequestOptions],
        ) -> RawResponse[BatchList]: ...


class BatchesWithStreamingResponse(StreamingResponses):
    """``client.batches.with_streaming_response``; ``list()`` gives the first page."""

    _RAW: ClassVar[Mapping[str, str | tuple[str, str]]] = _BATCHES

    if TYPE_CHECKING:

        def create(
            self,
            *,
            input_file_id: str,
            endpoint: str = ...,
            completion_window: str = ...,
            metadata: Mapping[str, str] | None = ...,
            **options: Unpack[RequestOptions],
        ) -> RawResponseManager[Batch]: ...

        def retrieve(
            self, batch_id: str, **options: Unpack[RequestOptions]
        ) -> RawResponseManager[Batch]: ...

        def cancel(
            self, batch_id: str, **options: Unpack[RequestOptions]
        ) -> RawResponseManager[Batch]: ...

        def list(
            self,
            *,
            limit: int | None = ...,
            after: str | None = ...,
            **options: Unpack[RequestOptions],
        ) -> RawResponseManager[BatchList]: ...


class EmbeddingsWithRawResponse(RawResponses):
    """``client.embeddings.with_raw_response`` (``create``; ``create_many`` is refused)."""

    _RAW: ClassVar[Mapping[str, str | tuple[str, str]]] = _EMBEDDINGS

    if TYPE_CHECKING:

        async def create(
            self,
            *,
            input: str | Sequence[str],
            model: str = ...,
            encoding_format: EncodingFormat | None = ...,
            dimensions: int | None = ...,
            user: str | None = ...,
            **options: Unpack[RequestOptions],
        ) -> RawResponse[CreateEmbeddingResponse]: ...


class EmbeddingsWithStreamingResponse(StreamingResponses):
    """``client.embeddings.with_streaming_response`` (``create``)."""

    _RAW: ClassVar[Mapping[str, str | tuple[str, str]]] = _EMBEDDINGS

    if TYPE_CHECKING:

        def create(
            self,
            *,
            input: str | Sequence[str],
            model: str = ...,
            encoding_format: EncodingFormat | None = ...,
            dimensions: int | None = ...,
            user: str | None = ...,
            **options: Unpack[RequestOptions],
        ) -> RawResponseManager[CreateEmbeddingResponse]: ...


class KeyWithRawResponse(RawResponses):
    """``client.key.with_raw_response``."""

    if TYPE_CHECKING:

        async def retrieve(self, **options: Unpack[RequestOptions]) -> RawResponse[KeyInfo]: ...


class KeyWithStreamingResponse(StreamingResponses):
    """``client.key.with_streaming_response``."""

    if TYPE_CHECKING:

        def retrieve(self, **options: Unpack[RequestOptions]) -> RawResponseManager[KeyInfo]: ...


class BalanceWithRawResponse(RawResponses):
    """``client.balance.with_raw_response``."""

    if TYPE_CHECKING:

        async def retrieve(self, **options: Unpack[RequestOptions]) -> RawResponse[Balance]: ...


class BalanceWithStreamingResponse(StreamingResponses):
    """``client.balance.with_streaming_response``."""

    if TYPE_CHECKING:

        def retrieve(self, **options: Unpack[RequestOptions]) -> RawResponseManager[Balance]: ...
