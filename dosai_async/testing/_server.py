"""``DosAIEmulator``: a local DOS AI server (aiohttp.web on 127.0.0.1) for tests and demos.

Per request, one pipeline: read the body -> pick the fault (header, queue, random rule) ->
record the request -> build the normal ``Plan`` (auth, rate limit, validation, reply) -> let
the fault rewrite the plan -> ``send`` it. Every behaviour, faulty or not, goes through it.

Decisions:
- The server depends on aiohttp, attrs and orjson only, never on the SDK's client.
- Startup is cheap (one Application, one AppRunner, port 0) so a fresh emulator per test
  costs a few milliseconds; ``close()`` wakes stalled handlers at once (they reset their
  connection) and waits at most ``_SHUTDOWN_TIMEOUT`` for anything else.
- Without a seed the replies are still deterministic: tests must not flake.
- What the API answers lives in ``_routes`` (no I/O); this module owns the sockets' side.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from ._fault_header import parse_fault_header
from ._faults import Fault
from ._plan import Plan, error_plan
from ._records import EmulatorStats, RateWindow, RecordedRequest, mask_headers
from ._replies import ReplyStyle
from ._routes import NO_BODY, Api, parse_body
from ._schedule import FaultSchedule
from ._send import Closing, send
from ._threaded import ThreadedEmulator
from ._wire import Latency

__all__ = ["DosAIEmulator"]

DEFAULT_API_KEY = "dos_sk_emulator"
DEFAULT_MODELS = ("dos-ai", "dos-auto")
FAULT_HEADER = "X-Emulator-Fault"
_SHUTDOWN_TIMEOUT = 1.0

Build = Callable[[web.Request, Any, Fault | None], Plan]


class DosAIEmulator:
    """A local server that speaks the DOS AI API, with scripted faults and a request log.

    ```python
    async with DosAIEmulator() as emu:
        client = AsyncDosAI(base_url=emu.base_url, api_key=emu.api_key)
        emu.enqueue(Fault.status(429, retry_after=1))   # the next chat request gets a 429
    ```

    ``api_key=None`` accepts any non-empty Bearer key (``api_key`` then reads
    "dos_sk_emulator"). ``ttft`` and ``token_interval`` (seconds, also settable later) pace
    replies like a real model; 0 sends each reply in one write. ``reasoning=True`` makes
    every reply think first (per request: ``chat_template_kwargs={"enable_thinking": ...}``),
    in the message field named ``reasoning_field`` ("reasoning", or "reasoning_content" as
    older vLLM). ``reply_tokens`` bounds the length of generated answers. ``rate_limit`` is the
    per-minute limit reported in ``X-RateLimit-*``; ``enforce_rate_limit=True`` also answers
    429 past it. Prompts over ``context_length`` tokens get a 413. ``models`` are the ids
    served (``dos-auto`` is answered as ``dos-ai``).

    Connection resets are real TCP RSTs. A handler stalled by a fault keeps its slot in
    ``stats.in_flight`` until the stall ends or the emulator closes, even if the client left.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        models: Sequence[str] = DEFAULT_MODELS,
        ttft: float = 0.0,
        token_interval: float = 0.0,
        reasoning: bool = False,
        reasoning_field: str = "reasoning",
        reply_tokens: tuple[int, int] = (20, 40),
        rate_limit: int = 300,
        enforce_rate_limit: bool = False,
        context_length: int = 262_144,
    ) -> None:
        self.host = host
        self.ttft = ttft
        self.token_interval = token_interval
        self.stats = EmulatorStats()
        self._port = port
        self._api = Api(
            models=tuple(models),
            api_key=api_key,
            style=ReplyStyle(reasoning, reply_tokens),
            reasoning_field=reasoning_field,
            context_length=context_length,
            rate=RateWindow(rate_limit),
            enforce_rate_limit=enforce_rate_limit,
        )
        self._schedule = FaultSchedule()
        self._log: list[RecordedRequest] = []
        self._arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._closed: asyncio.Future[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> Self:
        """Bind and start serving; returns self."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        runner = web.AppRunner(
            self._app(), handle_signals=False, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self._port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = runner.addresses[0][1]
        self._closed = asyncio.get_running_loop().create_future()
        self._runner = runner
        return self

    async def close(self) -> None:
        """Stop serving: stalled responses are reset at once. Safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)
        await runner.cleanup()

    async def serve_forever(self) -> None:
        """Serve until cancelled (for ``dosai serve``), then close."""
        if self._runner is None:
            await self.start()
        try:
            await asyncio.get_running_loop().create_future()
        finally:
            await self.close()

    def in_thread(self) -> ThreadedEmulator[DosAIEmulator]:
        """Run this emulator on its own event loop in a background thread (sync code)."""
        return ThreadedEmulator(self)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- addresses and results -------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound TCP port (the requested one until started)."""
        return self._port

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:8400``."""
        return f"http://{self.host}:{self._port}"

    @property
    def base_url(self) -> str:
        """The API base URL, ending in ``/v1``, as clients take it."""
        return self.url + "/v1"

    @property
    def api_key(self) -> str:
        """A key the emulator accepts."""
        return self._api.api_key or DEFAULT_API_KEY

    @property
    def models(self) -> tuple[str, ...]:
        """The model ids served."""
        return self._api.models

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy)."""
        return list(self._log)

    async def wait_for_requests(self, count: int = 1) -> list[RecordedRequest]:
        """Wait until ``count`` requests were received (on the emulator's loop); the log.

        Lets a test act while a request is still in progress, e.g. stalled by a fault.
        Bound it with ``asyncio.timeout()`` as needed.
        """
        while len(self._log) < count:
            self._arrived.clear()
            await self._arrived.wait()
        return self.requests

    def clear(self) -> None:
        """Forget recorded requests and zero the counters (queued faults stay)."""
        self._log.clear()
        self.stats.reset()

    # -- faults ----------------------------------------------------------------------------

    def enqueue(self, *faults: Fault, route: str = "chat", times: int = 1) -> None:
        """Give the route's next requests these faults, in order (``times`` rounds).

        Routes: "chat" (``POST /v1/chat/completions``) and "models" (``GET /v1/models...``).
        """
        self._schedule.enqueue(route, faults, times)

    def set_random_faults(
        self, fault: Fault | None, *, rate: float, seed: int = 0, route: str = "chat"
    ) -> None:
        """Inject ``fault`` into a ``rate`` share of the route's requests (None stops it).

        Draws come from ``random.Random(seed)`` in arrival order; queued faults go first.
        """
        self._schedule.set_random(route, fault, rate, seed)

    def pending_faults(self, route: str = "chat") -> int:
        """How many queued faults the route has left."""
        return self._schedule.pending(route)

    def reset_faults(self) -> None:
        """Drop every queued fault and random rule."""
        self._schedule.clear()

    # -- the application -------------------------------------------------------------------

    def _app(self) -> web.Application:
        """Routes; anything else is a 404 in DOS's error shape."""
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._route("chat", self._chat_plan))
        app.router.add_get("/v1/models", self._route("models", self._models_plan))
        app.router.add_get("/v1/models/{model:.+}", self._route("models", self._model_plan))
        app.router.add_route("*", "/{tail:.*}", self._route(None, self._unknown_plan))
        return app

    def _route(
        self, route: str | None, build: Build
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """The handler for one route: the pipeline in the module docstring, counted."""

        async def handle(request: web.Request) -> web.StreamResponse:
            self.stats.begin()
            response: web.StreamResponse | None = None
            try:
                response = await self._handle(request, route, build)
                return response
            finally:
                self.stats.end(_status(request, response))

        return handle

    async def _handle(
        self, request: web.Request, route: str | None, build: Build
    ) -> web.StreamResponse:
        """Read, pick the fault, record, plan, inject, send."""
        raw = await request.read()
        body = parse_body(raw)
        try:
            fault = self._fault_for(request, route)
        except ValueError as exc:
            self._record(request, raw, body, None)
            bad = error_plan(400, f"Bad {FAULT_HEADER} header: {exc}", "bad_fault_header")
            return await self._send(request, bad)
        self._record(request, raw, body, fault)
        plan = build(request, body, fault)
        if fault is not None:
            self.stats.faults += 1
            plan = fault.apply(plan)
        return await self._send(request, plan)

    def _fault_for(self, request: web.Request, route: str | None) -> Fault | None:
        """The header's fault, else the route's scheduled one; ValueError for a bad header."""
        header = request.headers.get(FAULT_HEADER)
        if header is not None:
            return parse_fault_header(header)
        return None if route is None else self._schedule.next(route)

    def _record(self, request: web.Request, raw: bytes, body: Any, fault: Fault | None) -> None:
        """Append to the request log (credentials masked)."""
        parsed = None if body is NO_BODY else body
        headers = mask_headers(request.headers)
        entry = RecordedRequest(
            request.method, request.path_qs, headers, parsed, raw, fault, time.time()
        )
        self._log.append(entry)
        self._arrived.set()

    async def _send(self, request: web.Request, plan: Plan) -> web.StreamResponse:
        """Write the plan with the headers every response carries."""
        headers = {"Content-Type": plan.content_type, "x-request-id": os.urandom(16).hex()}
        headers.update(plan.headers)
        return await send(request, plan, headers, self._pause)

    async def _pause(self, seconds: float) -> None:
        """Sleep, unless the emulator closes first (then raise Closing)."""
        if seconds <= 0:
            return
        assert self._closed is not None
        done, _ = await asyncio.wait((self._closed,), timeout=seconds)
        if done:
            raise Closing

    # -- plans ---------------------------------------------------------------------------

    def _chat_plan(self, request: web.Request, body: Any, fault: Fault | None) -> Plan:
        """The normal answer to a chat request, paced by the current latency."""
        latency = Latency(self.ttft, self.token_interval)
        as_json = fault is not None and fault.serves_json
        return self._api.chat(_authorization(request), body, latency, as_json)

    def _unknown_plan(self, request: web.Request, body: Any, fault: Fault | None) -> Plan:
        """Any other path (only header faults reach it)."""
        return error_plan(404, f"Unknown path {request.path}")

    def _models_plan(self, request: web.Request, body: Any, fault: Fault | None) -> Plan:
        """``GET /v1/models``."""
        return self._api.model_list(_authorization(request))

    def _model_plan(self, request: web.Request, body: Any, fault: Fault | None) -> Plan:
        """``GET /v1/models/{id}``."""
        return self._api.model(_authorization(request), request.match_info["model"])


def _authorization(request: web.Request) -> str:
    """The Authorization header, or ""."""
    return request.headers.get("Authorization", "")


def _status(request: web.Request, response: web.StreamResponse | None) -> int:
    """The status sent, or 0 when the connection was reset before any status left."""
    transport = request.transport
    gone = transport is None or transport.is_closing()
    if response is None or (gone and not response.prepared):
        return 0
    return response.status
