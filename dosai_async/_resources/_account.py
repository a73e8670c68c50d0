"""``client.key`` and ``client.balance``: DOS's account endpoints (openai has neither)."""

from __future__ import annotations

from typing import Unpack

import attrs

from dosai_async._models._account import Balance, KeyInfo, KeyInfoEnvelope
from dosai_async._models._params import RequestOptions

from ._base import CallOptionsFn, RequesterFn
from ._raw_namespaces import (
    BalanceWithRawResponse,
    BalanceWithStreamingResponse,
    KeyWithRawResponse,
    KeyWithStreamingResponse,
)


class KeyResource:
    """``client.key``: the API key in use."""

    def __init__(self, requester: RequesterFn, call_options: CallOptionsFn) -> None:
        self._requester = requester
        self._call_options = call_options

    @property
    def with_raw_response(self) -> KeyWithRawResponse:
        """``retrieve`` returning a ``RawResponse`` (headers, status, ``parse()``)."""
        return KeyWithRawResponse(self)

    @property
    def with_streaming_response(self) -> KeyWithStreamingResponse:
        """``retrieve`` as ``async with`` around its ``AsyncRawResponse``."""
        return KeyWithStreamingResponse(self)

    async def retrieve(self, **options: Unpack[RequestOptions]) -> KeyInfo:
        """``GET /key``: the key's label, USD spent (``usage``), ``limit`` and rate limit."""
        call = self._call_options(options)
        envelope = await self._requester().request_json("GET", "/key", KeyInfoEnvelope, call)
        return attrs.evolve(envelope.data, response=envelope.response)


class BalanceResource:
    """``client.balance``: the account's credit."""

    def __init__(self, requester: RequesterFn, call_options: CallOptionsFn) -> None:
        self._requester = requester
        self._call_options = call_options

    @property
    def with_raw_response(self) -> BalanceWithRawResponse:
        """``retrieve`` returning a ``RawResponse`` (headers, status, ``parse()``)."""
        return BalanceWithRawResponse(self)

    @property
    def with_streaming_response(self) -> BalanceWithStreamingResponse:
        """``retrieve`` as ``async with`` around its ``AsyncRawResponse``."""
        return BalanceWithStreamingResponse(self)

    async def retrieve(self, **options: Unpack[RequestOptions]) -> Balance:
        """``GET /user/balance``: ``balance`` (USD, None when unlimited), ``is_active``, ..."""
        call = self._call_options(options)
        return await self._requester().request_json("GET", "/user/balance", Balance, call)
