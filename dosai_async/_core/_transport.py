"""HTTP over aiohttp: the only module that imports it.

Everything above this module sees plain values (``HTTPRequest``, ``HTTPResponse``, an async
iterator of body bytes) and this package's exceptions. ``map_errors`` is the one boundary
where aiohttp's exceptions and bare ``TimeoutError`` become ours, and it also wraps the
body iterator, so nothing foreign escapes mid-stream either.

Session lifecycle: the ``aiohttp.ClientSession`` is created lazily inside the running loop,
on first use. A client reused from another event loop (pytest-asyncio gives each test its
own) gets a fresh session there; the old one is closed on its own loop when that loop still
runs, else its sockets are dropped. A borrowed session is used as is and never closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Iterator, Mapping
from typing import Any, NamedTuple, NoReturn

import aiohttp
import attrs

from ._deadline import AttemptTimeout
from ._exceptions import APIConnectionError, APITimeoutError, DosAIError
from ._multipart import Multipart, payload
from ._proxy import proxy_error

logger = logging.getLogger("dosai_async")


#: The session type a caller may lend to the client (re-exported to ``_client`` for typing).
ClientSession = aiohttp.ClientSession


@attrs.frozen
class HTTPRequest:
    """One request as sent on the wire (the body is already JSON bytes, or a ``Multipart``)."""

    method: str
    url: str
    headers: Mapping[str, str] = attrs.field(repr=False)  # holds the key: never printed
    body: bytes | Multipart | None = attrs.field(default=None, repr=False)


class HTTPResponse(NamedTuple):
    """A fully read response: a tuple, as immutable as a frozen class at a third the cost."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@attrs.frozen
class StreamingResponse:
    """An open response whose body is read incrementally; ``close()`` frees the connection."""

    status: int
    headers: Mapping[str, str]
    _response: aiohttp.ClientResponse = attrs.field(repr=False, alias="response")
    _live: set[aiohttp.ClientResponse] = attrs.field(repr=False, alias="live", factory=set)

    async def read(self) -> bytes:
        """Read the rest of the body (used for error statuses)."""
        with map_errors(response_started=True):
            return await self._response.read()

    def body(self) -> AsyncIterator[bytes]:
        """Body bytes as they arrive, with errors translated (see ``_BodyIterator``)."""
        return _BodyIterator(self._response.content)

    def close(self) -> None:
        """Return the connection to the pool if the body was read to the end, else drop it.

        Dropping is what tells the server to stop generating: an abandoned stream must not
        keep a model busy, nor sit in the pool half-read.
        """
        self._live.discard(self._response)
        if self._response.content.at_eof():
            self._response.release()
        else:
            self._response.close()


class _BodyIterator:
    """``readany()`` in a loop (what ``iter_any()`` does) with the error boundary inlined.

    A plain ``__anext__`` rather than an async generator: nothing to finalize if the
    consumer stops early, and no context manager entered per chunk on the hot path.
    """

    __slots__ = ("_content",)

    def __init__(self, content: aiohttp.StreamReader) -> None:
        self._content = content

    def __aiter__(self) -> _BodyIterator:
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk = await self._content.readany()
        except _TRANSPORT_ERRORS as exc:
            raise translate(exc, response_started=True) from exc
        if not chunk:
            raise StopAsyncIteration
        return chunk


_TRANSPORT_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)


@contextlib.contextmanager
def map_errors(*, response_started: bool = False, deadline: str = "total") -> Iterator[None]:
    """Translate aiohttp's exceptions and bare ``TimeoutError`` into this package's tree."""
    try:
        yield
    except _TRANSPORT_ERRORS as exc:
        raise translate(exc, response_started=response_started, deadline=deadline) from exc


_PROXY_ERRORS = (aiohttp.ClientProxyConnectionError, aiohttp.ClientHttpProxyError)


def translate(
    exc: BaseException, *, response_started: bool, deadline: str = "total"
) -> APIConnectionError:
    """The exception of this package that stands for a transport failure."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return APITimeoutError("Timed out while connecting.", deadline="connect")
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return APITimeoutError("Timed out waiting for the server to send data.", deadline="read")
    if isinstance(exc, TimeoutError):
        return APITimeoutError(f"The {deadline} deadline elapsed.", deadline=deadline)
    if isinstance(exc, aiohttp.ClientResponseError):
        _forget_request_headers(exc)
    where = "while reading the response" if response_started else "before a response arrived"
    return APIConnectionError(
        f"Connection failed {where}: {_detail(exc)}", response_started=response_started
    )


def _detail(exc: BaseException) -> str:
    """What went wrong, in words: aiohttp's payload errors print their parser's internals
    ("<TransferEncodingError: 400, message='Not enough data...'>", where 400 is no HTTP
    status), which the chained ``__cause__`` keeps for whoever needs them."""
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "the body was cut off before it was complete (the server closed or reset)"
    return str(exc) or type(exc).__name__


def _forget_request_headers(exc: aiohttp.ClientResponseError) -> None:
    """Empty the sent headers that aiohttp keeps on this error (the key is one of them):
    its ``repr`` prints them, and ours chains it as ``__cause__``."""
    info = exc.request_info
    empty = info.headers.copy()
    empty.clear()
    # The constructor, not _replace(): RequestInfo was an attrs class before aiohttp 3.11.
    exc.request_info = aiohttp.RequestInfo(
        info.url, info.method, type(info.headers)(empty), info.real_url
    )
    exc.args = (exc.request_info, exc.history)


class Transport:
    """Sends ``HTTPRequest`` objects over one lazily created, loop-bound aiohttp session."""

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession | None = None,
        max_connections: int = 1000,
        keepalive_timeout: float = 30.0,
        proxy: str | None = None,
    ) -> None:
        self._borrowed = session
        self._max_connections = max_connections
        # Resolved once by the client (see _proxy.py); also used with a borrowed session.
        self._proxy = proxy
        self._keepalive_timeout = keepalive_timeout
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        # Responses still being read: close() fails them (see there). A stream's leaves when
        # its StreamingResponse closes (a stream dropped unclosed: from its ``__del__``); the
        # set holds the response, never the stream. Plain sets: no weakref per call.
        self._live: set[aiohttp.ClientResponse] = set()
        self._reading: set[aiohttp.ClientResponse] = set()
        self._sleepers: set[asyncio.Future[None]] = set()  # calls waiting to retry
        # aiohttp's timeout objects by (total, connect, read): calls share a few, not one each.
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    async def fetch(self, request: HTTPRequest, limits: AttemptTimeout) -> HTTPResponse:
        """Send a request and read the whole response within ``limits``.

        The hot path of every non-streaming call: aiohttp's own ``total`` timer covers
        sending and reading (no second timer of ours), and errors are translated inline.
        """
        try:
            response = await self._send(request, limits, limits.total)
        except _TRANSPORT_ERRORS as exc:
            self._send_failed(exc, "total")
        reading = self._reading
        reading.add(response)
        try:  # the body read inline: no coroutine of its own per request
            body = await response.read()
        except BaseException as exc:
            response.close()  # cancelled or cut mid-body: the connection cannot be reused
            if isinstance(exc, _TRANSPORT_ERRORS):
                raise translate(exc, response_started=True) from exc
            raise
        finally:
            reading.discard(response)
        response.release()
        return HTTPResponse(response.status, response.headers, body)

    async def open(
        self, request: HTTPRequest, limits: AttemptTimeout, *, deadline: str = "total"
    ) -> StreamingResponse:
        """Send a request and return once the headers arrived; ``deadline`` names the limit.

        Only the wait for headers is bounded here, by ``limits.total``; ``None`` leaves it to
        the caller (a stream's watchdog bounds its headers and body with one timer). The body
        of a stream is read under the stream's own deadlines in ``_streaming``.
        """
        try:  # errors translated inline, as in fetch: no generator context manager per call
            if limits.total is None:
                response = await self._send(request, limits, None)
            else:
                async with asyncio.timeout(limits.total):
                    response = await self._send(request, limits, None)
        except _TRANSPORT_ERRORS as exc:
            self._send_failed(exc, deadline)
        (live := self._live).add(response)
        return StreamingResponse(response.status, response.headers, response=response, live=live)

    async def sleep(self, seconds: float) -> None:
        """Wait before a retry; ``close()`` ends the wait at once (the retry then fails)."""
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        timer = loop.call_later(seconds, _wake, waiter)
        self._sleepers.add(waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._sleepers.discard(waiter)

    def _send(
        self, request: HTTPRequest, limits: AttemptTimeout, total: float | None
    ) -> Awaitable[aiohttp.ClientResponse]:
        """aiohttp's request to await (errors: ``_send_failed``); no coroutine frame of its own."""
        session = self._session_for_running_loop()
        headers, body = request.headers, request.body
        data: bytes | aiohttp.FormData | None = None if isinstance(body, Multipart) else body
        if isinstance(body, Multipart):
            headers, data = _form_headers(headers), _form(body)
        return session.request(
            request.method,
            request.url,
            headers=headers,
            data=data,
            timeout=self._client_timeout(total, limits.connect, limits.read),
            # An API never redirects; following one could carry the key to another host.
            allow_redirects=False,
            proxy=self._proxy,
        )

    def _send_failed(self, exc: BaseException, deadline: str) -> NoReturn:
        """Raise what a send that failed with ``exc`` raises (called in its ``except``)."""
        if self._closed:  # close() cut the connection under this request
            raise _closed_error() from None
        if self._proxy is not None and isinstance(exc, _PROXY_ERRORS):
            answer = exc if isinstance(exc, aiohttp.ClientHttpProxyError) else None
            reply = None if answer is None else f"{answer.status} {answer.message}"
            raise proxy_error(self._proxy, reply) from exc
        raise translate(exc, response_started=False, deadline=deadline) from exc

    def _client_timeout(
        self, total: float | None, connect: float | None, read: float | None
    ) -> aiohttp.ClientTimeout:
        key = (total, connect, read)
        timeout = self._timeouts.get(key)
        if timeout is None:
            if len(self._timeouts) >= 64:  # retries' totals are what is left: each differs
                self._timeouts.clear()
            timeout = aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)
            self._timeouts[key] = timeout
        return timeout

    def _session_for_running_loop(self) -> aiohttp.ClientSession:
        if self._closed:  # e.g. a retry of a call that was in flight when close() ran
            raise _closed_error()
        if self._borrowed is not None:
            return self._borrowed
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop:
            self._retire_session()
            self._session = self._new_session()
            self._loop = loop
        return self._session

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            limit_per_host=0,
            keepalive_timeout=self._keepalive_timeout,
            enable_cleanup_closed=False,
        )
        # trust_env stays off: aiohttp would then look up .netrc and the proxy variables in
        # a worker thread on every request (two thread hops), and a .netrc entry for the
        # API host would clash with our Authorization header. The client reads the proxy
        # variables once instead (_proxy.py).
        return aiohttp.ClientSession(connector=connector, auto_decompress=True)

    def _retire_session(self) -> None:
        session, loop = self._session, self._loop
        self._session = self._loop = None
        self._live.clear()  # the old loop's responses: none can be read or closed from here
        if session is None or session.closed or loop is None:
            return
        if not loop.is_closed() and loop.is_running():
            asyncio.run_coroutine_threadsafe(session.close(), loop)
            return
        _drop_session(session)

    async def close(self) -> None:
        """Close the owned session (a borrowed one is left to its owner).

        Calls still in flight fail at once with ``DosAIError`` and are not retried: aiohttp
        closes their connections without waking a reader that waits on them, so a stream
        would otherwise hang until a deadline, or see a bare ``RuntimeError``.
        """
        self._closed = True
        if self._loop in (None, asyncio.get_running_loop()):  # else nothing waits any more
            for response in [*self._live, *self._reading]:
                response.content.set_exception(_closed_error())
                response.close()
            for waiter in self._sleepers:
                _wake(waiter)
        session, loop = self._session, self._loop
        self._session = self._loop = None
        if session is None or session.closed:
            return
        if loop is asyncio.get_running_loop():
            await session.close()
        else:
            _drop_session(session)


def _form(body: Multipart) -> aiohttp.FormData:
    """aiohttp's form for one attempt: files are streamed by aiohttp, in chunks."""
    form = aiohttp.FormData()
    for name, value in body.fields.items():
        form.add_field(name, value)
    for name, part in body.files.items():
        form.add_field(name, payload(part), filename=part.filename, content_type=part.content_type)
    return form


def _form_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The request headers without ``Content-Type``: aiohttp sets it, with the boundary."""
    return {k: v for k, v in headers.items() if k.lower() != "content-type"}


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _closed_error() -> DosAIError:
    return DosAIError("The AsyncDosAI client was closed while this call was in flight.")


def _drop_session(session: aiohttp.ClientSession) -> None:
    """Forget a session whose event loop is closed, without leaking its sockets.

    Nothing can be awaited on a closed loop, so ``session.close()`` is impossible. The pooled
    connections' sockets are closed directly instead (the transports cannot schedule their
    own close any more), and the session is marked closed so aiohttp does not warn at GC.
    """
    connector: Any = session.connector
    pools = getattr(connector, "_conns", {}) if connector is not None else {}
    for pool in list(pools.values()):
        for protocol, *_ in list(pool):
            _close_dead_transport(getattr(protocol, "transport", None))
    if connector is not None:
        pools.clear()
        connector._closed = True  # what close() would have set; silences its __del__ warning
    session._connector = None


def _close_dead_transport(transport: object) -> None:
    sock = getattr(transport, "_sock", None)
    if sock is not None:
        sock.close()
        # Detached, so the transport's __del__ has no open socket to warn about.
        transport._sock = None  # type: ignore[attr-defined]
