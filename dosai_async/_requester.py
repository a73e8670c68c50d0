"""The request pipeline: build -> send (with retries, under one deadline) -> check -> parse.

::

    request_json(...)  -> Transport.fetch -> raise_for_status -> _parse (first attempt
                          inline; from a retryable failure on: _fetch's retry loop)
    request_stream(...) -> _stream -> _attempt_stream -> Transport.open (under the stream's
                          watchdog) -> raise_for_status -> prime(stream) (reads up to the
                          first content, inside the retry)

The stream is primed inside the retry loop so that a failure before any content (a 429, a
reset, a cut) is retried, and a failure after it never is: tokens are never duplicated.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn, Protocol, TypeVar

import attrs

from ._core._config import RetryPolicy, Timeout
from ._core._deadline import AttemptTimeout, Deadline, attempt_limits, headers_limit, whole_call
from ._core._error_bodies import ResponseErrors
from ._core._exceptions import ResponseValidationError
from ._core._multipart import Multipart
from ._core._replies import api_key, raise_for_status, request_id, write_body
from ._core._retry import OnRetry, call_with_retries, resume_after, retries_after
from ._core._transport import (
    HTTPRequest,
    HTTPResponse,
    StreamingResponse,
    Transport,
)
from ._core._watch import CallWatch, Observers
from ._models import _converter
from ._models._types import ResponseMeta
from ._streaming._stream import AsyncStream, on_release, prime
from ._streaming._watchdog import ReadWatchdog, until_first_token

T = TypeVar("T")

#: Builds the stream object for an open response: (response, meta, deadline, sent_at, secret,
#: watchdog), ``secret`` being the API key to mask in whatever error the stream turns into
#: and ``watchdog`` the timer its headers were awaited under, for the stream to take over.
StreamFactory = Callable[
    [StreamingResponse, ResponseMeta, Deadline, float, str, ReadWatchdog], AsyncStream[Any]
]


class RetryRunner(Protocol):
    """What runs an attempt under a retry policy: ``call_with_retries``, or a wrapper of it."""

    async def __call__(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        policy: RetryPolicy,
        deadline: Deadline,
        describe: str,
        sleep: Callable[[float], Awaitable[None]],
        on_retry: OnRetry | None = None,
    ) -> T: ...


def _whole_call(options: CallOptions) -> AttemptTimeout:
    return whole_call(options.timeout)


def _stream_open(options: CallOptions) -> AttemptTimeout:
    # No total: the stream's watchdog bounds the wait for the headers (one timer, not two).
    return AttemptTimeout(None, options.timeout.connect, options.timeout.read)


@attrs.frozen
class CallOptions:
    """Per-call settings after the client's defaults and the call's overrides are merged."""

    timeout: Timeout
    retry: RetryPolicy
    extra_headers: Mapping[str, str] | None = None
    # A first attempt's limits, built once per options (the client reuses its options across
    # calls) instead of per request; later attempts get what is left of the deadline.
    first_fetch: AttemptTimeout = attrs.field(
        init=False, eq=False, repr=False, default=attrs.Factory(_whole_call, takes_self=True)
    )
    stream_open: AttemptTimeout = attrs.field(
        init=False, eq=False, repr=False, default=attrs.Factory(_stream_open, takes_self=True)
    )


class Requester:
    """Sends API calls for one client: auth headers, retries, deadlines, error mapping."""

    def __init__(
        self,
        transport: Transport,
        base_url: str,
        headers: Mapping[str, str],
        observers: Observers | None = None,
    ) -> None:
        self._transport = transport
        self._base_url = base_url.rstrip("/")
        self._use_headers(headers)
        self._with_retries: RetryRunner = call_with_retries
        self._observers = observers or Observers()

    def _use_headers(self, headers: Mapping[str, str]) -> None:
        # Built once per client, not per request: the headers of each Accept, and the key.
        self._headers = dict(headers)
        self._accepts = {
            accept: {**self._headers, "Accept": accept}
            for accept in ("text/event-stream", "application/octet-stream")
        }
        self._accepts["application/json"] = self._headers
        self._key = api_key(self._headers)

    @property
    def base_url(self) -> str:
        """The URL every path is appended to."""
        return self._base_url

    def retarget(self, base_url: str, headers: Mapping[str, str]) -> Requester:
        """A copy sending to ``base_url`` with ``headers`` (``AsyncDosAI.copy``), same transport."""
        clone = copy.copy(self)
        clone._base_url = base_url.rstrip("/")
        clone._use_headers(headers)
        return clone

    def observed(self, wrap: Callable[[RetryRunner], RetryRunner]) -> Requester:
        """A copy whose calls run through ``wrap(runner)``: how ``with_raw_response`` sees a
        call's attempts and responses, while the plain path pays nothing for it."""
        clone = copy.copy(self)
        clone._with_retries = wrap(self._with_retries)
        return clone

    async def request_json(
        self,
        method: str,
        path: str,
        cls: type[T],
        options: CallOptions,
        body: Mapping[str, Any] | Multipart | None = None,
    ) -> T:
        """Send a call and structure its JSON answer into ``cls`` (``body`` JSON or a form)."""
        request = self._build(method, path, body, options)
        watch = self._observers.watch(method, request.url, path, body)
        if watch is None and self._with_retries is call_with_retries:
            # The usual call: its first attempt inline, as call_with_retries would run it,
            # without a closure, a Deadline or a coroutine frame of its own; the clock read
            # is what a retry's deadline counts from.
            started = time.monotonic()
            try:
                reply = _reply(await self._transport.fetch(request, options.first_fetch), request)
            except Exception as exc:
                if not retries_after(exc, options.retry):
                    raise
                deadline = Deadline(options.timeout.total, started)
                reply = await self._fetch(request, options, path, deadline, None, exc)
            return _parse(reply, cls, request)
        deadline = Deadline(options.timeout.total)
        if watch is None:  # observed by a wrapped runner (with_raw_response)
            return _parse(await self._fetch(request, options, path, deadline, None), cls, request)
        try:
            result = _parse(
                await self._fetch(request, options, path, deadline, watch), cls, request
            )
        except BaseException as exc:
            watch.finish(None, exc)
            raise
        watch.finish(result, None)
        return result

    async def request_bytes(self, path: str, options: CallOptions) -> bytes:
        """``GET path`` and return the body as it is (a file's content)."""
        request = self._build("GET", path, None, options, accept="application/octet-stream")
        deadline = Deadline(options.timeout.total)
        return (await self._fetch(request, options, path, deadline, None)).body

    async def _fetch(
        self,
        request: HTTPRequest,
        options: CallOptions,
        path: str,
        deadline: Deadline,
        watch: CallWatch | None,
        failed: Exception | None = None,
    ) -> HTTPResponse:
        """The attempts of a call under its retry policy; ``failed``: the first attempt ran
        inline and failed with it (``retries_after`` said yes)."""
        # The first attempt starts microseconds after the deadline: it gets its whole length.
        retried = failed is not None

        async def attempt() -> HTTPResponse:
            nonlocal retried
            limits = attempt_limits(options.timeout, deadline) if retried else options.first_fetch
            retried = True
            return _reply(await self._transport.fetch(request, limits), request)

        runner = self._with_retries if failed is None else resume_after(failed)
        return await runner(
            attempt if watch is None else watch.attempts(attempt, _reply_facts),
            policy=options.retry,
            deadline=deadline,
            describe=f"{request.method} {path}",
            sleep=self._transport.sleep,
            on_retry=None if watch is None else watch.retrying,
        )

    async def request_stream(
        self,
        path: str,
        body: Mapping[str, Any],
        options: CallOptions,
        make_stream: StreamFactory,
    ) -> AsyncStream[Any]:
        """Open a stream and read up to its first content, retrying failures before that."""
        request = self._build("POST", path, body, options, accept="text/event-stream")
        watch = self._observers.watch("POST", request.url, path, body)
        deadline = Deadline(options.timeout.total)
        if watch is None and self._with_retries is call_with_retries:
            try:  # the usual call's first attempt inline, as in request_json
                return await self._attempt_stream(request, options, make_stream, deadline)
            except Exception as exc:
                if not retries_after(exc, options.retry):
                    raise
                return await self._stream(request, path, options, make_stream, deadline, None, exc)
        if watch is None:  # observed by a wrapped runner (with_raw_response)
            return await self._stream(request, path, options, make_stream, deadline, None)
        try:
            stream = await self._stream(request, path, options, make_stream, deadline, watch)
        except BaseException as exc:
            watch.finish(None, exc)
            raise
        on_release(stream, watch.finish)  # the call lasts until its stream ends
        return stream

    async def _stream(
        self,
        request: HTTPRequest,
        path: str,
        options: CallOptions,
        make_stream: StreamFactory,
        deadline: Deadline,
        watch: CallWatch | None,
        failed: Exception | None = None,
    ) -> AsyncStream[Any]:
        """A stream's attempts under its retry policy (``failed``: as in ``_fetch``)."""

        async def attempt() -> AsyncStream[Any]:
            return await self._attempt_stream(request, options, make_stream, deadline)

        runner = self._with_retries if failed is None else resume_after(failed)
        return await runner(
            attempt if watch is None else watch.attempts(attempt, _stream_facts),
            policy=options.retry,
            deadline=deadline,
            describe=f"POST {path} (stream)",
            sleep=self._transport.sleep,
            on_retry=None if watch is None else watch.retrying,
        )

    async def _attempt_stream(
        self,
        request: HTTPRequest,
        options: CallOptions,
        make_stream: StreamFactory,
        deadline: Deadline,
    ) -> AsyncStream[Any]:
        sent_at = time.monotonic()
        timeout = options.timeout  # one timer, the watchdog's, for the headers and the body
        watchdog = ReadWatchdog(
            until_first_token(timeout.first_token, deadline, sent_at), soonest=timeout.idle
        )
        try:
            response = await watchdog.wait(self._transport.open(request, options.stream_open))
            if response.status >= 300:
                await watchdog.wait(_refused(response, request))
        except BaseException:
            watchdog.cancel()
            raise
        meta, secret = _meta(response.status, response.headers), self._stream_secret(request)
        stream = make_stream(response, meta, deadline, sent_at, secret, watchdog)
        await prime(stream)  # closes the stream (and stops its watchdog) if it fails
        return stream

    async def request_download(self, path: str, target: Path, options: CallOptions) -> int:
        """``GET path`` with the body streamed into ``target``; the number of bytes written.

        Each attempt rewrites ``target`` from the start, so a retried download never
        appends to a torn one.
        """
        request = self._build("GET", path, None, options, accept="application/octet-stream")
        deadline = Deadline(options.timeout.total)

        async def attempt() -> int:
            limit, name = headers_limit(options.timeout, attempt_limits(options.timeout, deadline))
            response = await self._open(request, limit, name)
            try:
                return await write_body(response, target)
            finally:
                response.close()

        return await self._with_retries(
            attempt,
            policy=options.retry,
            deadline=deadline,
            describe=f"GET {path} (download)",
            sleep=self._transport.sleep,
        )

    async def _open(
        self, request: HTTPRequest, limit: AttemptTimeout, name: str = "total"
    ) -> StreamingResponse:
        """Send ``request`` and wait for its headers within ``limit`` (named ``name``); an
        error status is read and raised."""
        response = await self._transport.open(request, limit, deadline=name)
        if response.status >= 300:
            await _refused(response, request)
        return response

    def _build(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | Multipart | None,
        options: CallOptions,
        accept: str = "application/json",
    ) -> HTTPRequest:
        headers = self._accepts[accept]
        if options.extra_headers:
            headers = {**headers, **options.extra_headers}
        data = body if body is None or isinstance(body, Multipart) else _converter.dumps(body)
        return HTTPRequest(method, self._base_url + path, headers, data)

    def _stream_secret(self, request: HTTPRequest) -> str:
        """``_secret(request)`` of a stream, read once per client unless extra_headers."""
        own = request.headers is self._accepts["text/event-stream"]
        return self._key if own else _secret(request)


def _reply(response: HTTPResponse, request: HTTPRequest) -> HTTPResponse:
    if response.status >= 300:
        raise_for_status(response.status, response.headers, response.body, _secret(request))
    return response


async def _refused(response: StreamingResponse, request: HTTPRequest) -> NoReturn:
    """Read an error status's body, close the response, and raise the status's error."""
    try:
        raw = await response.read()
    finally:
        response.close()
    status, headers = response.status, response.headers
    raise ResponseErrors(status, headers, request_id(headers), _secret(request)).status_error(raw)


def _secret(request: HTTPRequest) -> str:
    return api_key(request.headers)


def _meta(status: int, headers: Mapping[str, str]) -> ResponseMeta:
    return ResponseMeta(status, headers, request_id(headers))


def _reply_facts(reply: HTTPResponse) -> tuple[int | None, str | None]:
    return reply.status, request_id(reply.headers)


def _stream_facts(stream: AsyncStream[Any]) -> tuple[int | None, str | None]:
    return stream.response.status_code, stream.response.request_id


def _parse(reply: HTTPResponse, cls: type[T], request: HTTPRequest) -> T:
    """``reply``'s JSON body structured into ``cls``; errors mask ``request``'s key."""
    raw, meta = reply.body, _meta(reply.status, reply.headers)
    try:
        data = _converter.loads(raw)
    except _converter.JSONDecodeError:
        expected = f"expected a JSON {cls.__name__} but the body is not JSON"
        raise _errors(meta, request).invalid(expected, raw, quote=200) from None
    if data.__class__ is not dict:
        raise _errors(meta, request).invalid(
            f"expected a JSON object for {cls.__name__}, got {type(data).__name__}", raw
        )
    if data.get("error") is not None:  # an error object sent with a 2xx (some gateways do)
        raise _errors(meta, request).in_band(raw)
    try:
        return _converter.structure(data, cls, response=meta)
    except ResponseValidationError as exc:  # rebuilt from the raw body: masked, depth-safe
        raise _errors(meta, request).invalid(exc.message, raw, errors=exc.errors) from None


def _errors(meta: ResponseMeta, request: HTTPRequest) -> ResponseErrors:
    return ResponseErrors(meta.status_code, meta.headers, meta.request_id, _secret(request))
