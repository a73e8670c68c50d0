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

``open_client(..., max_connections=N)`` raises the raw and dosai-async pools for the scaling
mode's 5,000 concurrent streams (more streams than connections would queue in the pool).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import aiohttp

MODEL = "dos-ai"
MESSAGES: list[dict[str, str]] = [{"role": "user", "content": "Say hello"}]
MAX_CONNECTIONS = 1000
API_KEY = "bench"


class Client(Protocol):
    """What every scenario needs from a client."""

    async def complete(self) -> None:
        """One non-streaming chat completion, parsed."""

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
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        import aiohttp

        connector = aiohttp.TCPConnector(limit=max_connections, limit_per_host=0)
        self._session = aiohttp.ClientSession(connector=connector)
        self._url = base_url + "/chat/completions"
        self._dumps = dumps
        self._loads = loads
        self._headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}

    def _post(self, body: dict[str, Any]) -> aiohttp.client._RequestContextManager:
        return self._session.post(self._url, data=self._dumps(body), headers=self._headers)

    async def complete(self) -> None:
        async with self._post({"model": MODEL, "messages": MESSAGES}) as response:
            raw = await response.read()
            response.raise_for_status()
        self._loads(raw)["choices"][0]["message"]["content"]

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

    async def complete(self) -> None:
        completion = await self.client.chat.completions.create(model=MODEL, messages=MESSAGES)
        completion.choices[0].message.content  # noqa: B018 - touch what a caller reads

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

    def __init__(self, base_url: str, *, aiohttp_transport: bool) -> None:
        import openai

        http_client = openai.DefaultAioHttpClient() if aiohttp_transport else None
        self.client = openai.AsyncOpenAI(
            base_url=base_url, api_key=API_KEY, max_retries=0, http_client=http_client
        )


class DosAI(_OpenAIShaped):
    """This SDK: ``AsyncDosAI`` with its defaults (typed ``ChatCompletionChunk`` objects)."""

    def __init__(self, base_url: str, max_connections: int = MAX_CONNECTIONS) -> None:
        from dosai_async import AsyncDosAI

        self.client = AsyncDosAI(
            api_key=API_KEY, base_url=base_url, max_retries=0, max_connections=max_connections
        )


def _raw_orjson(base_url: str, max_connections: int) -> Client:
    import orjson

    return RawAiohttp(base_url, orjson.dumps, orjson.loads, max_connections)


def _raw_json(base_url: str, max_connections: int) -> Client:
    def dumps(body: Any) -> bytes:
        return json.dumps(body).encode()

    return RawAiohttp(base_url, dumps, json.loads, max_connections)


#: Client keys, in table order; the first is the floor every ratio is taken against. Each
#: factory takes the base URL and a pool size (openai keeps its own default: see above).
CLIENTS: dict[str, Callable[[str, int], Client]] = {
    "floor": _raw_orjson,
    "raw-json": _raw_json,
    "dosai": DosAI,
    "openai": lambda base_url, _: OpenAISDK(base_url, aiohttp_transport=False),
    "openai-aiohttp": lambda base_url, _: OpenAISDK(base_url, aiohttp_transport=True),
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


def open_client(key: str, base_url: str, max_connections: int = MAX_CONNECTIONS) -> Client:
    """Create the client ``key`` (call inside the event loop it will run in)."""
    return CLIENTS[key](base_url, max_connections)
