"""``with_raw_response`` and ``with_streaming_response``: one mechanism for every namespace.

openai's ``client.chat.completions.with_raw_response.create(...)`` returns the HTTP response
(headers, status, request id) with the result behind ``raw.parse()`` (not awaited: the body
is read), and ``with_streaming_response`` one behind ``await response.parse()``. Here those
are ``RawResponse`` and ``AsyncRawResponse``, built without a second code path: the call
runs the resource's own method on a shallow copy of the resource whose ``_requester`` is the
client's requester ``observed()`` by an ``_Exchange``. The exchange wraps the retry loop,
so it counts the attempts and keeps the last one's response; the plain path runs no such
wrapper, so it costs nothing when unused.

Any namespace gets the feature by holding its requester as ``_requester`` (every namespace
does) and exposing ``RawResponses(self)`` / ``StreamingResponses(self)``: their
``__getattr__`` re-binds each public coroutine method. A subclass per namespace declares,
for mypy, what each method returns, and in ``_RAW`` how the wrapper treats its other
methods: a ``list`` that returns an ``AsyncPager`` is awaited (``parse()`` is the first
page, the response that page's), and a method that is not one HTTP exchange (a fan-out, a
whole batch job, a download to disk) is refused with the reason, instead of reporting the
headers of whichever request happened to come last.
"""

from __future__ import annotations

import copy
import datetime
import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, ClassVar, Generic, TypeVar

from dosai_async._core._config import RetryPolicy, header
from dosai_async._core._deadline import Deadline
from dosai_async._core._meta import ResponseMeta
from dosai_async._core._retry import OnRetry
from dosai_async._models import _converter
from dosai_async._requester import Requester, RetryRunner

R = TypeVar("R")
T = TypeVar("T")
F = TypeVar("F", bound="_ResponseFacts[Any]")


class _ResponseFacts(Generic[R]):
    """What both kinds of raw response know: the final attempt's status, headers and
    request id, ``retries_taken`` (the attempts before it), ``elapsed`` (the whole call,
    retries included), and the ``method`` and ``url`` sent."""

    def __init__(
        self,
        meta: ResponseMeta,
        parsed: R,
        *,
        body: bytes | None,
        method: str,
        url: str,
        elapsed: float,
        retries_taken: int,
    ) -> None:
        self._meta = meta
        self._parsed = parsed
        self._body = body
        self.method = method
        self.url = url
        self.elapsed = datetime.timedelta(seconds=elapsed)
        self.retries_taken = retries_taken

    @property
    def status_code(self) -> int:
        """The HTTP status of the final attempt."""
        return self._meta.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        """The response headers (case-insensitive)."""
        return self._meta.headers

    @property
    def request_id(self) -> str | None:
        """The server's ``x-request-id``, if it sent one."""
        return self._meta.request_id

    def _bytes(self) -> bytes:
        if self._body is None:
            raise TypeError("this response is a stream: its body is read by iterating parse()")
        return self._body

    async def close(self) -> None:
        """Close the stream ``parse()`` gives, if this is one; nothing to do otherwise."""
        closer = getattr(self._parsed, "aclose", None)
        if closer is not None:
            await closer()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.status_code}] {self.method} {self.url}>"


class RawResponse(_ResponseFacts[R]):
    """What ``with_raw_response`` returns: the HTTP facts, the result behind ``parse()``
    (openai's ``LegacyAPIResponse``, whose ``parse()`` is not awaited either).

    The body has been read by then, so nothing here is awaited: ``parse()``, ``content``,
    ``text``, ``json()``. For a stream, ``parse()`` gives the ``AsyncStream`` (already open,
    read it or close it) and the body is read through it.
    """

    def parse(self) -> R:
        """The typed result: what the method called without ``with_raw_response`` returns."""
        return self._parsed

    @property
    def content(self) -> bytes:
        """The body's bytes (not for a stream: iterate the ``AsyncStream`` of ``parse()``)."""
        return self._bytes()

    @property
    def text(self) -> str:
        """The body as text."""
        return self._bytes().decode("utf-8", errors="replace")

    def json(self) -> object:
        """The body as parsed JSON."""
        return _converter.loads(self._bytes())


class AsyncRawResponse(_ResponseFacts[R]):
    """What ``async with ...with_streaming_response.create(...)`` gives: the HTTP facts, the
    result behind ``await parse()`` (openai's ``AsyncAPIResponse``); ``await read()``,
    ``text()`` and ``json()`` read a non-streamed body."""

    async def parse(self) -> R:
        """The typed result: an ``AsyncStream`` for ``stream=True``, closed on leaving."""
        return self._parsed

    async def read(self) -> bytes:
        """The body's bytes (not for a stream: iterate the ``AsyncStream`` of ``parse()``)."""
        return self._bytes()

    async def text(self) -> str:
        """The body as text."""
        return self._bytes().decode("utf-8", errors="replace")

    async def json(self) -> object:
        """The body as parsed JSON."""
        return _converter.loads(self._bytes())


class RawResponseManager(Generic[R]):
    """``async with ...with_streaming_response.create(...) as response``: the call is sent
    on entry, and a stream it opened is closed on exit."""

    def __init__(self, call: Callable[[], Awaitable[AsyncRawResponse[R]]]) -> None:
        self._call = call
        self._response: AsyncRawResponse[R] | None = None

    async def __aenter__(self) -> AsyncRawResponse[R]:
        self._response = await self._call()
        return self._response

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._response is not None:
            await self._response.close()


#: ``_RAW`` values: a method the wrapper awaits the result of (a pager: its first page).
PAGED = "paged"


class _Wrapper:
    """What both wrappers share: the resource, and ``_RAW``, per method name: ``PAGED``,
    a refusal (why the method is not one exchange), or an argument refused with why, as
    ``("to", "why")``. Only the namespace's subclass fills it."""

    _RAW: ClassVar[Mapping[str, str | tuple[str, str]]] = {}

    def __init__(self, resource: object) -> None:
        self._resource = resource

    def _check(self, name: str) -> None:
        rule = self._RAW.get(name)
        kind = f"{type(self._resource).__name__}.with_raw_response"
        if isinstance(rule, str) and rule != PAGED:
            raise AttributeError(f"{kind}.{name} is not offered: {rule}")
        method = getattr(self._resource, name, None) if not name.startswith("_") else None
        if rule != PAGED and not inspect.iscoroutinefunction(method):
            raise AttributeError(f"{kind} has no method {name!r}")

    def _refuse_arguments(self, name: str, kwargs: Mapping[str, Any]) -> None:
        rule = self._RAW.get(name)
        if isinstance(rule, tuple) and kwargs.get(rule[0]) is not None:
            kind = f"{type(self._resource).__name__}.with_raw_response"
            raise TypeError(f"{kind}.{name}({rule[0]}=...) is refused: {rule[1]}")


class RawResponses(_Wrapper):
    """``namespace.with_raw_response``: each public coroutine method, returning a
    ``RawResponse`` of what it returns."""

    def __getattr__(self, name: str) -> Callable[..., Awaitable[RawResponse[Any]]]:
        self._check(name)

        async def call(*args: Any, **kwargs: Any) -> RawResponse[Any]:
            self._refuse_arguments(name, kwargs)
            return await _raw_call(self._resource, name, args, kwargs, RawResponse)

        return call


class StreamingResponses(_Wrapper):
    """``namespace.with_streaming_response``: each public coroutine method, as an
    ``async with`` block around its ``RawResponse``."""

    def __getattr__(self, name: str) -> Callable[..., RawResponseManager[Any]]:
        self._check(name)

        def call(*args: Any, **kwargs: Any) -> RawResponseManager[Any]:
            self._refuse_arguments(name, kwargs)
            return RawResponseManager(
                lambda: _raw_call(self._resource, name, args, kwargs, AsyncRawResponse)
            )

        return call


async def _raw_call(
    resource: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], kind: type[F]
) -> F:
    exchange = _Exchange(resource._requester)
    clone = copy.copy(resource)
    clone._requester = exchange.requester
    started = time.monotonic()
    result = await getattr(clone, name)(*args, **kwargs)  # a coroutine, or a pager's first page
    return exchange.response(kind, result, time.monotonic() - started)


class _Exchange:
    """What one call's retry loop saw: its attempts and the last response (the runner wrap)."""

    def __init__(self, requester: Callable[[], Requester]) -> None:
        self._requester = requester
        self.base_url = ""
        self.describe = ""
        self.attempts = 0
        self.last: object = None

    def requester(self) -> Requester:
        requester = self._requester()
        self.base_url = requester.base_url
        return requester.observed(self.wrap)

    def wrap(self, runner: RetryRunner) -> RetryRunner:
        async def run(
            attempt: Callable[[], Awaitable[T]],
            *,
            policy: RetryPolicy,
            deadline: Deadline,
            describe: str,
            sleep: Callable[[float], Awaitable[None]],
            on_retry: OnRetry | None = None,
        ) -> T:
            self.describe, self.attempts = describe, 0  # a helper's last request counts

            async def counted() -> T:
                self.attempts += 1
                self.last = result = await attempt()
                return result

            return await runner(
                counted,
                policy=policy,
                deadline=deadline,
                describe=describe,
                sleep=sleep,
                on_retry=on_retry,
            )

        return run

    def response(self, kind: type[F], result: object, elapsed: float) -> F:
        meta, body = _facts(self.last)
        method, _, rest = self.describe.partition(" ")  # "POST /chat/completions (stream)"
        return kind(
            meta,
            result,
            body=body,
            method=method,
            url=self.base_url + rest.partition(" ")[0],
            elapsed=elapsed,
            retries_taken=max(self.attempts - 1, 0),
        )


def _facts(last: object) -> tuple[ResponseMeta, bytes | None]:
    """The response meta and body of an attempt's result: ``request_json``'s attempts return
    ``(status, headers, body)``, ``request_stream``'s the stream (its ``response`` is the meta)."""
    if isinstance(last, tuple):
        status, headers, body = last
        return ResponseMeta(status, headers, header(headers, "x-request-id")), body
    meta = getattr(last, "response", None)
    if not isinstance(meta, ResponseMeta):
        raise TypeError("with_raw_response: this method sent no request to report on")
    return meta, None
