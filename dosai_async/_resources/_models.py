"""``client.models``: the models the API serves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack
from urllib.parse import quote

from dosai_async._models._params import RequestOptions
from dosai_async._models._types import Model, ModelList

from ._base import CallOptionsFn, RequesterFn
from ._raw import RawResponse, RawResponseManager, RawResponses, StreamingResponses


class Models:
    """``client.models``: the models the API serves."""

    def __init__(self, requester: RequesterFn, call_options: CallOptionsFn) -> None:
        self._requester = requester
        self._call_options = call_options

    @property
    def with_raw_response(self) -> ModelsWithRawResponse:
        """Each method returning a ``RawResponse`` (headers, status, ``parse()``)."""
        return ModelsWithRawResponse(self)

    @property
    def with_streaming_response(self) -> ModelsWithStreamingResponse:
        """Each method as ``async with`` around its ``AsyncRawResponse``."""
        return ModelsWithStreamingResponse(self)

    async def list(self, **options: Unpack[RequestOptions]) -> ModelList:
        """``GET /models``; the result iterates over ``Model`` objects."""
        call = self._call_options(options)
        return await self._requester().request_json("GET", "/models", ModelList, call)

    async def retrieve(self, model: str, **options: Unpack[RequestOptions]) -> Model:
        """``GET /models/{model}``."""
        if not model:
            raise ValueError("model must be a non-empty model id, e.g. 'dos-ai'")
        call = self._call_options(options)
        path = "/models/" + quote(model, safe="")
        return await self._requester().request_json("GET", path, Model, call)


class ModelsWithRawResponse(RawResponses):
    """``client.models.with_raw_response`` (the result types, for mypy; see ``_raw``)."""

    if TYPE_CHECKING:

        async def list(self, **options: Unpack[RequestOptions]) -> RawResponse[ModelList]: ...

        async def retrieve(
            self, model: str, **options: Unpack[RequestOptions]
        ) -> RawResponse[Model]: ...


class ModelsWithStreamingResponse(StreamingResponses):
    """``client.models.with_streaming_response`` (the result types, for mypy)."""

    if TYPE_CHECKING:

        def list(self, **options: Unpack[RequestOptions]) -> RawResponseManager[ModelList]: ...

        def retrieve(
            self, model: str, **options: Unpack[RequestOptions]
        ) -> RawResponseManager[Model]: ...
