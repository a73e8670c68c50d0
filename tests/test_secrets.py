"""Secrets and transport safety: the API key never shows, TLS is verified, plain http is
refused for remote hosts.

The key under test is distinctive (``dos_sk_SECRET_...``); a leak is any appearance of its
secret part, so a masked form (``dos_sk_…3f9d``, as the emulator's log shows it) is fine and
the whole key is not. Looked for: ``repr``/``str`` of the client and every object it holds,
of requests, of results and streams; every exception the fault matrix raises (message,
attributes, the whole chained traceback); log output of this package and aiohttp at DEBUG
during a run with retries; and the emulator's request log as users see it.
"""

from __future__ import annotations

import logging
import ssl
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import attrs
import pytest
import trustme

import dosai_async as d
from dosai_async import AsyncDosAI, RetryPolicy, Timeout
from dosai_async.testing import DosAIEmulator, Fault
from tests._rawserver import (
    MESSAGES,
    Conn,
    RawServer,
    expect,
    refused_port,
    response,
    stream_final,
    throwaway_ca_tls,
)

COMPLETION_BYTES = (
    b'{"id":"c","object":"chat.completion","created":1,"model":"dos-ai",'
    b'"choices":[{"index":0,"message":{"role":"assistant","content":"ok"},'
    b'"finish_reason":"stop"}]}'
)

KEY = "dos_sk_SECRET_7c41e09b2a5f3f9d"
SECRET = KEY.removeprefix("dos_sk_")[:-4]  # what must never show; the last 4 may

# Every fault the emulator has, each queued for every attempt of one call.
FAULTS: dict[str, Fault] = {
    **{f"status-{code}": Fault.status(code) for code in (400, 402, 403, 404, 413, 422, 500)},
    "status-429": Fault.status(429, retry_after=0),
    "status-503": Fault.status(503, retry_after=0),
    "html-502": Fault.html_502(),
    "reset-before-headers": Fault.reset_before_headers(),
    "reset-mid-body": Fault.reset_mid_body(),
    "reset-mid-stream": Fault.reset_mid_stream(3),
    "reset-before-content": Fault.reset_mid_stream(1),
    "stream-error": Fault.stream_error(3, "boom"),
    "stream-error-event": Fault.stream_error(1, "boom", code=429, event="error"),
    "malformed-sse": Fault.malformed_sse(2),
    "malformed-json": Fault.malformed_json(2),
    "truncate-stream": Fault.truncate_stream(3),
    "not-sse": Fault.not_sse(),
    "keepalive-only": Fault.keepalive_only(0.01, 0.03),
    "stall-before-headers": Fault.stall_before_headers(30),
    "stall-mid-stream": Fault.stall_mid_stream(3, 30),
}
TIMEOUT = Timeout(total=1.0, first_token=0.2, idle=0.2)


def leaks(*texts: str) -> list[str]:
    """The texts that contain the secret."""
    return [text for text in texts if SECRET in text]


def exception_texts(exc: BaseException) -> list[str]:
    """Everything a user may print of an exception: str, repr, attributes, the traceback."""
    texts = ["".join(traceback.format_exception(exc))]
    seen: BaseException | None = exc
    while seen is not None:  # the chain, as far as this package's own errors go
        texts += [str(seen), repr(seen), repr(seen.args)]
        if isinstance(seen, d.DosAIError):
            texts += [repr(value) for value in vars(seen).values()]
        seen = seen.__cause__ or seen.__context__
    return texts


def client(base_url: str, **options: Any) -> AsyncDosAI:
    """A client holding the secret key, retrying without sleeping."""
    options.setdefault("retry", RetryPolicy.zero_wait())
    return AsyncDosAI(api_key=KEY, base_url=base_url, **options)


@pytest.fixture
def emu() -> Iterator[DosAIEmulator]:
    """An emulator that accepts only the secret key."""
    with DosAIEmulator(api_key=KEY).in_thread() as emulator:
        yield emulator


async def failures(calls: dict[str, Callable[[], Awaitable[object]]]) -> dict[str, BaseException]:
    """Run each call and keep the exception it raised (every call here must fail)."""
    raised: dict[str, BaseException] = {}
    for name, call in calls.items():
        try:
            await call()
        except d.DosAIError as exc:
            raised[name] = exc
    assert sorted(raised) == sorted(calls), "each call must fail"
    return raised


# -- repr and str of objects --------------------------------------------------------------------


def _own_objects(root: object) -> Iterator[object]:
    """``root`` and every object of this package reachable through attributes."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen or not type(obj).__module__.startswith("dosai_async"):
            continue
        seen.add(id(obj))
        yield obj
        values = getattr(obj, "__dict__", {}).values()
        slots = (getattr(obj, name, None) for name in getattr(type(obj), "__slots__", ()))
        todo += [*values, *slots]


async def test_key_not_in_repr_of_the_client_or_anything_it_holds(emu: DosAIEmulator) -> None:
    """repr() and str() of the client and every package object it holds hide the key."""
    async with client(emu.base_url) as c:
        await c.chat.completions.create(messages=MESSAGES)
        objects = list(_own_objects(c))
        assert len(objects) > 5
        assert leaks(*(repr(obj) for obj in objects), *(str(obj) for obj in objects)) == []


async def test_key_not_in_repr_of_requests() -> None:
    """The wire request object (method, URL, headers, body) prints without its headers."""
    async with client("http://127.0.0.1:9/v1") as c:
        request = c._shared._build("POST", "/chat/completions", {"model": "m"}, c._call_options({}))
    assert request.headers["Authorization"] == f"Bearer {KEY}"  # it is there, just not shown
    assert leaks(repr(request), str(request)) == []


async def test_key_not_in_results_or_streams(emu: DosAIEmulator) -> None:
    """Completions, chunks, streams, stats and response metadata hide the key."""
    async with client(emu.base_url) as c:
        done = await c.chat.completions.create(messages=MESSAGES)
        stream = await c.chat.completions.create(messages=MESSAGES, stream=True)
        async with stream:
            chunks = [chunk async for chunk in stream]
        texts = [repr(done), repr(done.response), repr(stream), repr(stream.stats)]
        texts += [repr(chunk) for chunk in chunks]
    assert leaks(*texts) == []


# -- exceptions ---------------------------------------------------------------------------------


# Faults that damage only a stream leave a plain reply intact, so they do not fail it.
STREAM_ONLY = {"reset-before-content", "stream-error-event", "truncate-stream", "not-sse"}
STREAM_ONLY |= {"malformed-sse", "stall-mid-stream", "keepalive-only"}


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
async def test_key_not_in_any_emulator_fault_error(emu: DosAIEmulator, stream: bool) -> None:
    """Every error the emulator's faults provoke hides the key, chain and traceback included."""

    def call(fault: Fault) -> Callable[[], Awaitable[object]]:
        async def run() -> object:
            emu.reset_faults()
            emu.enqueue(fault, times=5)
            if stream:
                return await stream_final(c, timeout=TIMEOUT)
            return await c.chat.completions.create(messages=MESSAGES, timeout=TIMEOUT)

        return run

    names = [name for name in FAULTS if stream or name not in STREAM_ONLY]
    async with client(emu.base_url) as c:
        raised = await failures({name: call(FAULTS[name]) for name in names})
    assert {name: leaks(*exception_texts(exc)) for name, exc in raised.items()} == {
        name: [] for name in raised
    }


async def test_key_not_in_wrong_key_error() -> None:
    """A 401 for the key under test names no key."""
    with DosAIEmulator(api_key="dos_sk_the_right_one_0000").in_thread() as emu:
        async with client(emu.base_url) as c:
            error = await expect(
                d.AuthenticationError, c.chat.completions.create(messages=MESSAGES)
            )
    assert leaks(*exception_texts(error)) == []


async def echo_key(conn: Conn) -> None:
    """A server that quotes the Authorization header back in its 401 body (some do)."""
    raw = await conn.request()
    if raw is not None:
        auth = next(line for line in raw.split(b"\r\n") if line.lower().startswith(b"auth"))
        body = b'{"error": {"message": "Incorrect API key provided: ' + auth.split()[-1] + b'"}}'
        await conn.send(response(401, body))


async def test_key_echoed_by_the_server_is_masked() -> None:
    """A server quoting the key in its error body: the key is masked in the error."""
    with RawServer(echo_key) as server:
        async with client(server.base_url) as c:
            error = await expect(
                d.AuthenticationError, c.chat.completions.create(messages=MESSAGES)
            )
    assert "Incorrect API key provided: dos_sk_" in error.message
    assert leaks(*exception_texts(error)) == []


async def test_key_not_in_transport_errors() -> None:
    """Refused, redirected, lying-length, closed-client and bad-URL errors hide the key."""

    async def redirect(conn: Conn) -> None:
        await conn.request()
        await conn.send(response(307, b"", headers={"Location": "http://localhost:1/x"}))

    async def longer(conn: Conn) -> None:
        while await conn.request() is not None:
            await conn.send(response(200, b"{}" + b"x" * 10_000, length=2))

    with RawServer(redirect) as moved, RawServer(longer) as liar:
        refused = client(f"http://127.0.0.1:{refused_port()}/v1")
        closed = client(liar.base_url)
        await closed.close()
        async with refused, client(moved.base_url) as to_moved, client(liar.base_url) as to_liar:
            raised = await failures(
                {
                    "refused": lambda: refused.chat.completions.create(messages=MESSAGES),
                    "redirect": lambda: to_moved.chat.completions.create(messages=MESSAGES),
                    "longer": lambda: to_liar.chat.completions.create(messages=MESSAGES),
                    "closed": lambda: closed.chat.completions.create(messages=MESSAGES),
                }
            )
    with pytest.raises(d.DosAIError) as insecure:
        client("http://api.dos.ai/v1")
    raised["insecure"] = insecure.value
    assert {name: leaks(*exception_texts(exc)) for name, exc in raised.items()} == {
        name: [] for name in raised
    }


# -- logs -----------------------------------------------------------------------------------------


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Everything logged at DEBUG by this package, aiohttp and asyncio."""
    for name in ("dosai_async", "aiohttp", "asyncio", ""):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


async def test_key_not_in_logs_at_debug(
    emu: DosAIEmulator, debug_logs: pytest.LogCaptureFixture
) -> None:
    """A run with retries, failures and streams logs at DEBUG without the key."""
    emu.enqueue(Fault.status(429, retry_after=0), Fault.reset_before_headers(), Fault.html_502())
    async with client(emu.base_url, retry=RetryPolicy.zero_wait(3)) as c:
        await c.chat.completions.create(messages=MESSAGES)
        emu.enqueue(Fault.status(503, retry_after=0))
        await stream_final(c)
        emu.enqueue(Fault.reset_mid_stream(3))
        with pytest.raises(d.APIConnectionError):
            await stream_final(c)
    assert any("Retrying" in record.getMessage() for record in debug_logs.records)
    assert leaks(debug_logs.text) == []


# -- the emulator's request log -------------------------------------------------------------------


async def test_emulator_request_log_masks_the_key(emu: DosAIEmulator) -> None:
    """The emulator's request log shows `Bearer dos_sk_…<last 4>`, never the key."""
    async with client(emu.base_url) as c:
        await c.chat.completions.create(messages=MESSAGES)
        await stream_final(c)
    logged = emu.requests
    assert [r.headers["authorization"] for r in logged] == [f"Bearer dos_sk_…{KEY[-4:]}"] * 2
    assert leaks(repr(logged), str(logged), *(str(attrs.asdict(r)) for r in logged)) == []


# -- TLS ------------------------------------------------------------------------------------------


@pytest.fixture
async def tls() -> AsyncIterator[tuple[RawServer, trustme.CA]]:
    """A TLS server whose certificate comes from a throwaway CA no system trusts."""
    authority, context = throwaway_ca_tls()

    async def answer(conn: Conn) -> None:
        if await conn.request() is not None:
            await conn.send(response(200, COMPLETION_BYTES))

    with RawServer(answer, tls=context) as server:
        yield server, authority


async def test_tls_verification_is_on_by_default(tls: tuple[RawServer, trustme.CA]) -> None:
    """An untrusted certificate is refused: APIConnectionError, and no request was sent."""
    server, _ = tls
    async with client(server.base_url, max_retries=0) as c:
        error = await expect(d.APIConnectionError, c.chat.completions.create(messages=MESSAGES))
    assert "certificate" in str(error).lower()
    assert server.requests == []  # the handshake failed: the key never left the client


async def test_tls_works_with_a_trusted_certificate(tls: tuple[RawServer, trustme.CA]) -> None:
    """The same server, trusted through a borrowed session's SSL context, answers."""
    server, authority = tls
    context = ssl.create_default_context()
    authority.configure_trust(context)
    connector = aiohttp.TCPConnector(ssl=context)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        client(server.base_url, http_session=session) as c,
    ):
        done = await c.chat.completions.create(messages=MESSAGES)
    assert done.choices[0].message.content == "ok"
    assert len(server.requests) == 1


async def test_default_session_verifies_tls(emu: DosAIEmulator) -> None:
    """The session the client creates keeps aiohttp's certificate checks (ssl=True)."""
    async with client(emu.base_url) as c:
        await c.chat.completions.create(messages=MESSAGES)
        session = c._transport._session
        assert session is not None
        connector: Any = session.connector
        assert connector._ssl is True


# -- plain http ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        *("api.dos.ai", "10.0.0.5", "192.168.1.20", "[2001:db8::1]"),
        *("localhost.evil.com", "127.0.0.1.nip.io"),
    ],
)
def test_plain_http_to_a_remote_host_is_refused(host: str) -> None:
    """http:// to a host that is not loopback raises, naming allow_insecure_http."""
    with pytest.raises(d.DosAIError) as info:
        AsyncDosAI(api_key=KEY, base_url=f"http://{host}/v1")
    assert type(info.value) is d.DosAIError
    assert "allow_insecure_http=True" in str(info.value)
    assert "https://" in str(info.value)


def test_plain_http_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same check applies to DOS_AI_BASE_URL."""
    monkeypatch.setenv("DOS_AI_BASE_URL", "http://api.dos.ai/v1")
    with pytest.raises(d.DosAIError, match="allow_insecure_http"):
        AsyncDosAI(api_key=KEY)


@pytest.mark.parametrize(
    "url",
    [
        *("http://localhost:8000/v1", "http://127.0.0.1/v1", "http://127.9.9.9/v1"),
        *("http://[::1]:8000/v1", "https://api.dos.ai/v1"),
    ],
)
def test_loopback_http_and_https_are_allowed(url: str) -> None:
    """Loopback hosts (a local emulator) may use http; https is always allowed."""
    assert AsyncDosAI(api_key=KEY, base_url=url).base_url == url


def test_allow_insecure_http_opts_in() -> None:
    """allow_insecure_http=True lets http:// go to any host."""
    c = AsyncDosAI(api_key=KEY, base_url="http://10.0.0.5/v1", allow_insecure_http=True)
    assert c.base_url == "http://10.0.0.5/v1"
