"""The request pipeline: build -> send (with retries, under one deadline) -> check -> parse.

::

    request_json(...)  -> _send_with_retries -> _send_once -> Transport.fetch -> _raise_for_status
                       -> _parse
    request_stream(...) -> _send_with_retries -> _open_once -> Transport.open -> _raise_for_status
                       -> prime(stream) (reads up to the first content, inside the retry)

The stream is primed inside the retry loop so that a failure before any content (a 429, a
reset, a cut) is retried, and a failure after it never is: tokens are never duplicated.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs

from ._core._config import RetryPolicy, Timeout, header
from ._core._deadline import Deadline
from ._core._exceptions import ResponseValidationError, in_band_error, status_error
from ._core._retry import call_with_retries
from ._core._transport import AttemptTimeout, HTTPRequest, StreamingResponse, Transport
from ._models import _converter
from ._models._types import ResponseMeta
from ._streaming._stream import AsyncStream, prime

T = TypeVar("T")

#: Builds the stream object for an open response: (response, meta, deadline, sent_at).
StreamFactory = Callable[[StreamingResponse, ResponseMeta, Deadline, float], AsyncStream[Any]]


@attrs.frozen
class CallOptions:
    """Per-call settings after the client's defaults and the call's overrides are merged."""

    timeout: Timeout
    retry: RetryPolicy
    extra_headers: Mapping[str, str] | None = None


class Requester:
    """Sends API calls for one client: auth headers, retries, deadlines, error mapping."""

    def __init__(self, transport: Transport, base_url: str, headers: Mapping[str, str]) -> None:
        self._transport = transport
        self._base_url = base_url.rstrip("/")
        self._headers = dict(headers)

    async def request_json(
        self,
        method: str,
        path: str,
        cls: type[T],
        options: CallOptions,
        body: Mapping[str, Any] | None = None,
    ) -> T:
        """Send a call and structure its JSON answer into ``cls``."""
        request = self._build(method, path, body, options)
        deadline = Deadline(options.timeout.total)

        async def attempt() -> tuple[int, Mapping[str, str], bytes]:
            response = await self._transport.fetch(request, _attempt_timeout(options, deadline))
            _raise_for_status(response.status, response.headers, response.body, request)
            return response.status, response.headers, response.body

        status, headers, raw = await call_with_retries(
            attempt,
            policy=options.retry,
            deadline=deadline,
            describe=f"{method} {path}",
            sleep=self._transport.sleep,
        )
        return _parse(raw, cls, ResponseMeta(status, headers, _request_id(headers)))

    async def request_stream(
        self,
        path: str,
        body: Mapping[str, Any],
        options: CallOptions,
        make_stream: StreamFactory,
    ) -> AsyncStream[Any]:
        """Open a stream and read up to its first content, retrying failures before that."""
        request = self._build("POST", path, body, options, accept="text/event-stream")
        deadline = Deadline(options.timeout.total)

        async def attempt() -> AsyncStream[Any]:
            sent_at = time.monotonic()
            response = await self._open(request, options, deadline)
            meta = ResponseMeta(response.status, response.headers, _request_id(response.headers))
            stream = make_stream(response, meta, deadline, sent_at)
            await prime(stream)  # closes the stream if it fails
            return stream

        return await call_with_retries(
            attempt,
            policy=options.retry,
            deadline=deadline,
            describe=f"POST {path} (stream)",
            sleep=self._transport.sleep,
        )

    async def _open(
        self, request: HTTPRequest, options: CallOptions, deadline: Deadline
    ) -> StreamingResponse:
        first_token = options.timeout.first_token
        limit = _attempt_timeout(options, deadline)
        name = "total"
        if first_token is not None and (limit.total is None or first_token < limit.total):
            limit, name = attrs.evolve(limit, total=first_token), "first_token"
        response = await self._transport.open(request, limit, deadline=name)
        if response.status >= 300:
            try:
                raw = await response.read()
            finally:
                response.close()
            _raise_for_status(response.status, response.headers, raw, request)
        return response

    def _build(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        options: CallOptions,
        accept: str = "application/json",
    ) -> HTTPRequest:
        headers = (
            self._headers if accept == "application/json" else {**self._headers, "Accept": accept}
        )
        if options.extra_headers:
            headers = {**headers, **options.extra_headers}
        data = None if body is None else _converter.dumps(body)
        return HTTPRequest(method, self._base_url + path, headers, data)


def _attempt_timeout(options: CallOptions, deadline: Deadline) -> AttemptTimeout:
    timeout = options.timeout
    return AttemptTimeout(deadline.remaining(), timeout.connect, timeout.read)


def _raise_for_status(
    status: int, headers: Mapping[str, str], body: bytes, request: HTTPRequest
) -> None:
    if status >= 300:
        body = _mask_key(body, request)
        raise status_error(status, body, headers=headers, request_id=_request_id(headers))


def _mask_key(body: bytes, request: HTTPRequest) -> bytes:
    """The body with the request's key masked, for servers that quote it back in an error
    ("Incorrect API key provided: dos_sk_..."): the key must not reach an exception."""
    scheme, _, key = (header(request.headers, "Authorization") or "").partition(" ")
    secret = key.strip().encode()
    if scheme.lower() != "bearer" or len(secret) < 8 or secret not in body:
        return body
    prefix = b"dos_sk_" if secret.startswith(b"dos_sk_") else b""
    tail = secret[-4:] if len(secret) - len(prefix) >= 12 else b""
    return body.replace(secret, prefix + "…".encode() + tail)


def _request_id(headers: Mapping[str, str]) -> str | None:
    return header(headers, "x-request-id")


def _parse(raw: bytes, cls: type[T], meta: ResponseMeta) -> T:
    try:
        data = _converter.loads(raw)
    except _converter.JSONDecodeError:
        snippet = raw[:200].decode("utf-8", errors="replace")
        raise ResponseValidationError(
            f"expected a JSON {cls.__name__} but the body is not JSON: {snippet!r}",
            body=raw,
            status_code=meta.status_code,
        ) from None
    if not isinstance(data, dict):
        raise ResponseValidationError(
            f"expected a JSON object for {cls.__name__}, got {type(data).__name__}",
            body=data,
            status_code=meta.status_code,
        )
    if data.get("error") is not None:  # an error object sent with a 2xx (some gateways do)
        raise in_band_error(data, request_id=meta.request_id, headers=meta.headers, partial=None)
    return _converter.structure(data, cls, response=meta)
