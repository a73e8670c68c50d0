"""Proxies: ``$HTTP(S)_PROXY`` honoured by default, ``NO_PROXY``, ``trust_env=False``, ``proxy=``.

The proxies are raw asyncio servers on 127.0.0.1 (``_rawserver.RawServer``): a forward proxy
that answers plain-http requests itself, and a CONNECT proxy that tunnels to a TLS server.
Each records what it was asked, which is what these tests assert on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

import dosai_async as d
from tests._rawserver import (
    MESSAGES,
    Conn,
    RawServer,
    client,
    expect,
    refused_port,
    response,
    throwaway_ca_tls,
)
from tests.conftest import COMPLETION

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
COMPLETION_BYTES = json.dumps(COMPLETION).encode()


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from an environment without proxy variables (any case)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


async def answer_completion(conn: Conn) -> None:
    """A server (or a forward proxy standing in for one) that answers every request."""
    while await conn.request() is not None:
        await conn.send(response(200, COMPLETION_BYTES))


class ConnectProxy:
    """A CONNECT proxy handler: records each request, then pipes bytes to the host it names.

    ``from_origin`` counts the bytes that came back through the tunnel from that host.
    """

    def __init__(self) -> None:
        self.from_origin = 0

    async def __call__(self, conn: Conn) -> None:
        head = await conn.request()
        if head is None or not head.startswith(b"CONNECT "):
            return
        host, _, port = head.split(b" ")[1].decode().rpartition(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        await conn.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
        try:
            await asyncio.gather(_pipe(conn.reader, writer), self._back(reader, conn.writer))
        finally:
            writer.transport.abort()

    async def _back(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        while data := await source.read(65536):
            self.from_origin += len(data)  # counted as it passes: the test may end any time
            sink.write(data)
            await sink.drain()
        sink.transport.abort()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    while data := await source.read(65536):
        sink.write(data)
        await sink.drain()
    sink.transport.abort()  # one side is done: so is the tunnel


@pytest.fixture
def forward_proxy() -> Iterator[RawServer]:
    """A plain-http forward proxy on 127.0.0.1 that answers for the origin."""
    with RawServer(answer_completion) as proxy:
        yield proxy


@pytest.fixture
def origin() -> Iterator[RawServer]:
    """The API server itself, on 127.0.0.1."""
    with RawServer(answer_completion) as server:
        yield server


def proxy_url(proxy: RawServer) -> str:
    return f"http://127.0.0.1:{proxy.port}"


def request_line(raw: bytes) -> str:
    return raw.split(b"\r\n", 1)[0].decode()


async def test_http_proxy_from_the_environment_is_used(
    forward_proxy: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With $HTTP_PROXY set, a call to an http base URL is sent to the proxy, absolute-form."""
    monkeypatch.setenv("HTTP_PROXY", proxy_url(forward_proxy))
    base_url = f"http://127.0.0.1:{refused_port()}/v1"  # nothing listens: only the proxy answers
    async with client(base_url) as c:
        done = await c.chat.completions.create(messages=MESSAGES)
    assert done.choices[0].message.content == "Paris."
    (raw,) = forward_proxy.requests
    assert request_line(raw) == f"POST {base_url}/chat/completions HTTP/1.1"


async def test_https_proxy_from_the_environment_gets_a_connect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With $HTTPS_PROXY set, an https call opens a CONNECT tunnel through the proxy to the
    API's TLS server (whose throwaway certificate then fails verification, as it should)."""
    _, context = throwaway_ca_tls()
    tunnel = ConnectProxy()
    with (
        RawServer(answer_completion, tls=context) as tls_server,
        RawServer(tunnel) as proxy,
    ):
        monkeypatch.setenv("HTTPS_PROXY", proxy_url(proxy))
        async with client(tls_server.base_url, max_retries=0) as c:
            error = await expect(d.APIConnectionError, c.chat.completions.create(messages=MESSAGES))
    assert [request_line(r) for r in proxy.requests] == [
        f"CONNECT 127.0.0.1:{tls_server.port} HTTP/1.1"
    ]
    assert tunnel.from_origin > 0  # the server's TLS handshake came back through the tunnel
    assert "certificate" in str(error).lower()  # ... with its certificate, refused


async def test_trust_env_false_ignores_the_proxy_variables(
    forward_proxy: RawServer, origin: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AsyncDosAI(trust_env=False) connects directly although $HTTP_PROXY is set."""
    monkeypatch.setenv("HTTP_PROXY", proxy_url(forward_proxy))
    async with client(origin.base_url, trust_env=False) as c:
        await c.chat.completions.create(messages=MESSAGES)
    assert forward_proxy.requests == []
    assert [request_line(r) for r in origin.requests] == ["POST /v1/chat/completions HTTP/1.1"]


async def test_no_proxy_names_hosts_reached_directly(
    forward_proxy: RawServer, origin: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$NO_PROXY=127.0.0.1 keeps calls to 127.0.0.1 off the proxy (an emulator stays local)."""
    monkeypatch.setenv("HTTP_PROXY", proxy_url(forward_proxy))
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    async with client(origin.base_url) as c:
        await c.chat.completions.create(messages=MESSAGES)
    assert forward_proxy.requests == []
    assert len(origin.requests) == 1


async def test_all_proxy_is_the_fallback(
    forward_proxy: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$ALL_PROXY serves when the scheme's own variable is unset; a scheme-less value is http."""
    monkeypatch.setenv("ALL_PROXY", f"127.0.0.1:{forward_proxy.port}")
    async with client(f"http://127.0.0.1:{refused_port()}/v1") as c:
        await c.chat.completions.create(messages=MESSAGES)
    assert len(forward_proxy.requests) == 1


async def test_explicit_proxy_beats_the_environment(
    forward_proxy: RawServer, origin: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """proxy="http://..." is used even with trust_env=False and another proxy in the env."""
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{refused_port()}")
    base_url = f"http://127.0.0.1:{refused_port()}/v1"
    async with client(base_url, proxy=proxy_url(forward_proxy), trust_env=False) as c:
        await c.chat.completions.create(messages=MESSAGES)
    assert [request_line(r) for r in forward_proxy.requests] == [
        f"POST {base_url}/chat/completions HTTP/1.1"
    ]


def test_an_unusable_proxy_variable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A socks proxy in $HTTPS_PROXY: DosAIError names the variable and the way out; the
    credentials in it are not printed."""
    monkeypatch.setenv("HTTPS_PROXY", "socks5://user:hunter2@proxy.example:1080")
    with pytest.raises(d.DosAIError, match=r"\$HTTPS_PROXY.*trust_env=False") as info:
        d.AsyncDosAI(api_key="dos_sk_x")
    assert "hunter2" not in str(info.value)
    d.AsyncDosAI(api_key="dos_sk_x", trust_env=False)  # the way out works


def test_a_bad_proxy_argument_is_a_clear_error() -> None:
    """proxy= must be an http(s) URL."""
    with pytest.raises(d.DosAIError, match=r"proxy must be an http:// or https:// proxy URL"):
        d.AsyncDosAI(api_key="dos_sk_x", proxy="ftp://proxy.example")


async def test_a_dead_proxy_is_named_as_the_proxy(
    origin: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy that cannot be reached is said to be the proxy (not the API), without its
    credentials, and the origin is never contacted."""
    monkeypatch.setenv("HTTP_PROXY", f"http://user:s3cret@127.0.0.1:{refused_port()}")
    async with client(origin.base_url, max_retries=0) as c:
        error = await expect(d.APIConnectionError, c.chat.completions.create(messages=MESSAGES))
    assert "at the proxy http://127.0.0.1:" in str(error)
    assert "s3cret" not in str(error)
    assert origin.requests == []
