"""One small adapter per client under test, all with the same interface.

Every adapter is created inside the event loop of one scenario run and closed at its end.
Each imports its library lazily, so a worker process running one client only pays for (and
holds in memory) that client's imports. All of them send the same request body, parse the
whole response (the raw clients into dicts, the SDKs into their model objects) and reuse
connections from a pool of up to ``MAX_CONNECTIONS``.

Connection pools, made comparable on purpose:

- raw aiohttp: ``TCPConnector(limit=1000, limit_per_host=0)`` (aiohttp's default would be
  100, which would queue requests at concurrency 256 and streams in S3);
- dosai-async: its default, ``max_connections=1000``;
- openai (both transports): its defaults, ``max_connections=1000`` with at most 100 idle
  keep-alive connections; that is what a user gets, so it is not changed.

``Options`` changes two of those defaults, for the scaling mode only: ``max_connections``
raises the raw and dosai-async pools for its 5,000 concurrent streams (more streams than
connections would queue in the pool), and ``connect_timeout`` lengthens the SDKs' connect
(and openai's pool) timeouts, 10 s in dosai-async and 5 s in openai, which 1,024 queued
requests or 5,000 simultaneous connects can exceed on a busy 2-core machine; raw aiohttp has
no connect timeout. A timeout there would hide the very figure the table is for.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    import aiohttp

MODEL = "dos-ai"
MESSAGES: list[dict[str, str]] = [{"role": "user", "content": "Say hello"}]
MAX_CONNECTIONS = 1000
API_KEY = "bench"


class Options(NamedTuple):
    """What the scaling mode changes in a client (the suite keeps the defaults)."""

    max_connections: int = MAX_CONNECTIONS  # raw aiohttp and dosai-async; openai keeps 1,000
    connect_timeout: float | None = None  # None: the client's own default


DEFAULT_OPTIONS = Options()


class Client(Protocol):
    """What every scenario needs from a client."""

    async def complete(self) -> Any:
        """One non-streaming chat completion, parsed; returns what it parsed."""

    async def stream(self, chunks: int, interval: float = 0.0) -> int:
        """One streamed completion of ``chunks`` content chunks; returns the chunks parsed."""

    async def first_delta(self) -> float:
        """Seconds from the call to the first parsed content delta (the stream is drained)."""

    async def aclose(self) -> None:
        """Close the client and its connections."""


def _stream_params(chunks: int, interval: float) -> dict[str, Any]:
    return {"bench_chunks": chunks, "bench_interval": interval}


class RawAiohttp:
    """aiohttp with a hand-written body, a bytes-level SSE split and a JSON ``loads``.

    With orjson this is the floor: no models, no SSE edge cases (only ``\\n\\n``-separated
    events, as our server sends), nothing but the socket reads and one parse per event.
    """

    def __init__(
        self,
        base_url: str,
        dumps: Callable[[Any], bytes],
        loads: Callable[[bytes], Any],
        options: Options = DEFAULT_OPTIONS,
    ) -> None:
        import aiohttp

        connector = aiohttp.TCPConnector(limit=options.max_connections, limit_per_host=0)
        self._session = aiohttp.ClientSession(connector=connector)
        self._url = base_url + "/chat/completions"
        self._dumps = dumps
        self._loads = loads
        self._headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}

    def _post(self, body: dict[str, Any]) -> aiohttp.client._RequestContextManager:
        return self._session.post(self._url, data=self._dumps(body), headers=self._headers)

    async def complete(self) -> Any:
        async with self._post({"model": MODEL, "messages": MESSAGES}) as response:
            raw = await response.read()
            response.raise_for_status()
        parsed = self._loads(raw)
        parsed["choices"][0]["message"]["content"]  # touch what a caller reads
        return parsed

    async def stream(self, chunks: int, interval: float = 0.0) -> int:
        body = {"model": MODEL, "messages": MESSAGES, "stream": True}
        count = 0
        loads = self._loads
        async with self._post(body | _stream_params(chunks, interval)) as response:
            response.raise_for_status()
            buffer = b""
            async for data in response.content.iter_any():
                buffer += data
                *events, buffer = buffer.split(b"\n\n")
                for event in events:
                    if event.startswith(b"data: ") and event != b"data: [DONE]":
                        loads(event[6:])
                        count += 1
        return count

    async def first_delta(self) -> float:
        started = time.perf_counter()
        first = 0.0
        body = {"model": MODEL, "messages": MESSAGES, "stream": True}
        async with self._post(body | _stream_params(1, 0.0)) as response:
            response.raise_for_status()
            buffer = b""
            async for data in response.content.iter_any():
                buffer += data
                *events, buffer = buffer.split(b"\n\n")
                for event in events:
                    if event.startswith(b"data: ") and event != b"data: [DONE]":
                        delta = self._loads(event[6:])["choices"][0]["delta"]
                        if not first and delta.get("content"):
                            first = time.perf_counter() - started
        return first

    async def aclose(self) -> None:
        await self._session.close()


class _OpenAIShaped:
    """The calls shared by every client with the OpenAI SDK's shape: the same code runs
    against ``openai.AsyncOpenAI`` and ``AsyncDosAI`` (moving between them is a rename)."""

    client: Any

    async def complete(self) -> Any:
        completion = await self.client.chat.completions.create(model=MODEL, messages=MESSAGES)
        completion.choices[0].message.content  # noqa: B018 - touch what a caller reads
        return completion

    async def stream(self, chunks: int, interval: float = 0.0) -> int:
        count = 0
        stream = await self._open_stream(chunks, interval)
        async with stream:
            async for _chunk in stream:
                count += 1
        return count

    async def first_delta(self) -> float:
        started = time.perf_counter()
        first = 0.0
        stream = await self._open_stream(1, 0.0)
        async with stream:
            async for chunk in stream:
                if not first and chunk.choices and chunk.choices[0].delta.content:
                    first = time.perf_counter() - started
        return first

    async def _open_stream(self, chunks: int, interval: float) -> Any:
        return await self.client.chat.completions.create(
            model=MODEL, messages=MESSAGES, stream=True, extra_body=_stream_params(chunks, interval)
        )

    async def aclose(self) -> None:
        await self.client.close()


class OpenAISDK(_OpenAIShaped):
    """``openai.AsyncOpenAI``, with its default (httpx) or its aiohttp transport."""

    def __init__(self, base_url: str, options: Options, *, aiohttp_transport: bool) -> None:
        import openai

        http_client = openai.DefaultAioHttpClient() if aiohttp_transport else None
        timeout = openai.DEFAULT_TIMEOUT
        if options.connect_timeout is not None:
            wait = options.connect_timeout
            timeout = openai.Timeout(600.0, connect=wait, pool=max(wait, 600.0))
        self.client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=API_KEY,
            max_retries=0,
            http_client=http_client,
            timeout=timeout,
        )


class DosAI(_OpenAIShaped):
    """This SDK: ``AsyncDosAI`` with its defaults (typed ``ChatCompletionChunk`` objects)."""

    def __init__(self, base_url: str, options: Options = DEFAULT_OPTIONS) -> None:
        from dosai_async import AsyncDosAI, Timeout

        timeout = None if options.connect_timeout is None else Timeout(options.connect_timeout)
        self.client = AsyncDosAI(
            api_key=API_KEY,
            base_url=base_url,
            max_retries=0,
            max_connections=options.max_connections,
            timeout=timeout,
        )


def _raw_orjson(base_url: str, options: Options) -> Client:
    import orjson

    return RawAiohttp(base_url, orjson.dumps, orjson.loads, options)


def _raw_json(base_url: str, options: Options) -> Client:
    def dumps(body: Any) -> bytes:
        return json.dumps(body).encode()

    return RawAiohttp(base_url, dumps, json.loads, options)


#: Client keys, in table order; the first is the floor every ratio is taken against. Each
#: factory takes the base URL and the ``Options``.
CLIENTS: dict[str, Callable[[str, Options], Client]] = {
    "floor": _raw_orjson,
    "raw-json": _raw_json,
    "dosai": DosAI,
    "openai": lambda url, options: OpenAISDK(url, options, aiohttp_transport=False),
    "openai-aiohttp": lambda url, options: OpenAISDK(url, options, aiohttp_transport=True),
}

LABELS: dict[str, str] = {
    "floor": "raw aiohttp + orjson, bytes split (floor)",
    "raw-json": "raw aiohttp + json",
    "dosai": "dosai-async",
    "openai": "openai AsyncOpenAI (httpx, default)",
    "openai-aiohttp": "openai AsyncOpenAI (aiohttp transport)",
}

#: What each client key needs imported (warmed up once in its worker process).
IMPORTS: dict[str, tuple[str, ...]] = {
    "floor": ("aiohttp", "orjson"),
    "raw-json": ("aiohttp", "json"),
    "dosai": ("dosai_async",),
    "openai": ("openai",),
    "openai-aiohttp": ("openai", "aiohttp"),
}


def open_client(key: str, base_url: str, options: Options = DEFAULT_OPTIONS) -> Client:
    """Create the client ``key`` (call inside the event loop it will run in)."""
    return CLIENTS[key](base_url, options)


def split_options(params: dict[str, Any]) -> tuple[Options, dict[str, Any]]:
    """A scenario's params may carry ``connections`` and ``connect_timeout``: the client's
    ``Options``, and the rest (the scenario's own parameters)."""
    rest = dict(params)
    options = Options(
        max_connections=rest.pop("connections", MAX_CONNECTIONS),
        connect_timeout=rest.pop("connect_timeout", None),
    )
    return options, rest
