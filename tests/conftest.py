"""Shared fixtures: real aiohttp.web servers on 127.0.0.1, scripted per test."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from dosai_async import AsyncDosAI, RetryPolicy
from dosai_async.testing import DosAIEmulator

# The suite's servers listen on 127.0.0.1, which a developer's $HTTP_PROXY would capture
# (clients honour it by default): loopback is reached directly, as NO_PROXY says.
if any(k.lower() in ("http_proxy", "https_proxy", "all_proxy") for k in os.environ):
    for _name in ("NO_PROXY", "no_proxy"):
        os.environ[_name] = ",".join(filter(None, ["127.0.0.1,localhost", os.environ.get(_name)]))

# Vendored, unchanged, from the steering repository (tests/data/ORIGIN.md says where from).
DATA = Path(__file__).resolve().parent / "data"
CONFORMANCE = DATA / "conformance"
PEERS = DATA / "peers"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def conformance_dir(name: str) -> Path:
    """A folder of the vendored conformance corpus; fails loudly when it is missing."""
    folder = CONFORMANCE / name
    if not folder.is_dir():
        pytest.fail(f"conformance data not found at {folder}: see tests/data/ORIGIN.md")
    return folder


class Scripted:
    """A server that answers each request with the next scripted reply and records it."""

    def __init__(self) -> None:
        self.replies: list[Handler | tuple[int, Any, dict[str, str]]] = []
        self.requests: list[dict[str, Any]] = []
        self.default: tuple[int, Any, dict[str, str]] = (200, COMPLETION, {})

    def reply(self, status: int = 200, body: Any = None, **headers: str) -> Scripted:
        """Queue one reply; ``body`` is JSON-encoded unless it is bytes or str."""
        self.replies.append((status, COMPLETION if body is None else body, headers))
        return self

    def handle_with(self, handler: Handler) -> Scripted:
        """Queue a custom handler for the next request."""
        self.replies.append(handler)
        return self

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "headers": dict(request.headers),
                "json": json.loads(raw) if raw else None,
            }
        )
        reply = self.replies.pop(0) if self.replies else self.default
        if callable(reply):
            return await reply(request)
        status, body, headers = reply
        return _response(status, body, headers)


def _response(status: int, body: Any, headers: dict[str, str]) -> web.Response:
    headers = {k.replace("_", "-"): v for k, v in headers.items()}
    if isinstance(body, bytes):
        return web.Response(status=status, body=body, headers=headers)
    if isinstance(body, str):
        return web.Response(status=status, text=body, headers=headers)
    return web.json_response(body, status=status, headers=headers)


COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "dos-ai",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Paris."},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
}


def _app(handler: Handler) -> web.Application:
    async def route(request: web.Request) -> web.StreamResponse:
        return await handler(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", route)
    return app


@contextlib.contextmanager
def serve_in_thread(handler: Handler) -> Iterator[str]:
    """Run an aiohttp.web app on its own loop in a thread (for tests that own their loops)."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    address: list[str] = []

    async def start() -> web.AppRunner:
        app = _app(handler)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        address.append(f"http://127.0.0.1:{runner.addresses[0][1]}/v1")
        return runner

    def run() -> None:
        runner = loop.run_until_complete(start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield address[0]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Start aiohttp.web apps on 127.0.0.1; returns their base URL (ending in /v1)."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = _app(handler)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/v1"

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def scripted(serve: Callable[[Handler], Awaitable[str]]) -> tuple[Scripted, str]:
    """A scripted server and its base URL."""
    server = Scripted()
    return server, await serve(server)


@pytest.fixture
async def client(scripted: tuple[Scripted, str]) -> AsyncIterator[AsyncDosAI]:
    """A client for the scripted server that retries without sleeping."""
    _, base_url = scripted
    async with AsyncDosAI(
        api_key="dos_sk_test", base_url=base_url, retry=RetryPolicy.zero_wait()
    ) as c:
        yield c


@pytest.fixture
def server(scripted: tuple[Scripted, str]) -> Scripted:
    """The scripted server behind ``client``."""
    return scripted[0]


@pytest.fixture
async def emu() -> AsyncIterator[DosAIEmulator]:
    """A fresh emulator per test."""
    async with DosAIEmulator() as emulator:
        yield emulator


@pytest.fixture
async def dos(emu: DosAIEmulator) -> AsyncIterator[AsyncDosAI]:
    """A client for the emulator."""
    async with AsyncDosAI(
        api_key=emu.api_key, base_url=emu.base_url, retry=RetryPolicy.zero_wait()
    ) as client:
        yield client


@pytest.fixture
async def emulator() -> AsyncIterator[DosAIEmulator]:
    """An emulator whose rate limit no test reaches."""
    async with DosAIEmulator(rate_limit=1_000_000_000) as emu:
        yield emu


@pytest.fixture
def thread_emu() -> Iterator[DosAIEmulator]:
    """An emulator served from its own thread, so the test's loop holds only client tasks."""
    with DosAIEmulator().in_thread() as emulator:
        yield emulator
