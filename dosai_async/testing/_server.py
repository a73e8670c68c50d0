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
- What the API answers lives in ``_routes`` and ``_batch_routes`` (no I/O); this module owns
  the sockets' side, applies a sent plan's effects (charges, batches to start) and owns the
  batch tasks: ``close()`` cancels and awaits them.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from ._account import Account, Charge
from ._batch_routes import BatchApi
from ._batch_tasks import BatchTasks
from ._batches import StartBatch
from ._builds import Build, authorization, route_table, sent_status
from ._embeddings import EMBEDDING_MODEL
from ._fault_header import parse_fault_header
from ._faults import Fault
from ._files import FileStore
from ._plan import Plan, error_plan
from ._records import EmulatorStats, RateWindow, RecordedRequest, mask_headers, mask_secret
from ._replies import ReplyStyle
from ._routes import NO_BODY, Api, parse_body
from ._schedule import FaultSchedule
from ._send import pause, send
from ._threaded import ThreadedEmulator
from ._wire import Latency

__all__ = ["DosAIEmulator"]

DEFAULT_API_KEY = "dos_sk_emulator"
DEFAULT_MODELS = ("dos-ai", "dos-auto")
DEFAULT_EMBEDDING_MODELS = (EMBEDDING_MODEL,)
FAULT_HEADER = "X-Emulator-Fault"
_SHUTDOWN_TIMEOUT = 1.0
_MAX_FILE_BYTES = 200 * 1024 * 1024
_MULTIPART_OVERHEAD = 64 * 1024


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
    served (``dos-auto`` is answered as ``dos-ai``); ``embedding_models`` those of
    ``POST /v1/embeddings`` (also listed by ``GET /v1/models``, with ``type: "embedding"``).

    ``balance`` (USD; None, the default, is unlimited) is spent by each chat and embeddings
    answer (its ``usage.cost``) and by batch lines (half price); at zero those routes answer
    402 ``insufficient_credits``. ``GET /v1/key`` and ``GET /v1/user/balance`` report it.
    Files live in memory (``max_file_bytes`` per upload, 413 past it). Batches run in the
    background, one line per ``batch_interval`` seconds (0: as fast as the loop allows).

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
        embedding_models: Sequence[str] = DEFAULT_EMBEDDING_MODELS,
        balance: float | None = None,
        batch_interval: float = 0.01,
        max_file_bytes: int = _MAX_FILE_BYTES,
    ) -> None:
        self.host = host
        self.ttft = ttft
        self.token_interval = token_interval
        self.batch_interval = batch_interval
        self.stats = EmulatorStats()
        self._port = port
        label = mask_secret(api_key or DEFAULT_API_KEY)
        self._api = Api(
            models=tuple(models),
            api_key=api_key,
            style=ReplyStyle(reasoning, reply_tokens),
            reasoning_field=reasoning_field,
            context_length=context_length,
            rate=RateWindow(rate_limit),
            enforce_rate_limit=enforce_rate_limit,
            account=Account(balance, label, rate_limit),
            embedding_models=tuple(embedding_models),
        )
        self._batch_api = BatchApi(self._api, FileStore(max_file_bytes))
        self._batch_tasks = BatchTasks(self._api, self._batch_api, lambda: self.batch_interval)
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
        await self._batch_tasks.stop()
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
        """The chat model ids served (``embedding_models``: those of ``/v1/embeddings``)."""
        return self._api.models

    @property
    def embedding_models(self) -> tuple[str, ...]:
        """The model ids ``POST /v1/embeddings`` serves."""
        return self._api.embedding_models

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy)."""
        return list(self._log)

    @property
    def balance(self) -> float | None:
        """The credit balance left in USD (None: unlimited); settable, e.g. to 0."""
        return self._api.account.balance

    @balance.setter
    def balance(self, value: float | None) -> None:
        self._api.account.set_balance(value)

    @property
    def spent(self) -> float:
        """USD charged so far (chat, embeddings, batch lines)."""
        return self._api.account.spent

    @property
    def batches(self) -> list[dict[str, Any]]:
        """Every batch created, oldest first, as ``GET /v1/batches/{id}`` shows it (a copy).

        ``len(emu.batches)`` counts the batches this emulator saw: a client that re-attaches
        to a batch after losing the create answer leaves it at 1.
        """
        return [job.object() for job in self._batch_api.batches]

    @property
    def files(self) -> list[dict[str, Any]]:
        """Every stored file, oldest first, as ``GET /v1/files/{id}`` shows it."""
        return [stored.object() for stored in self._batch_api.files]

    def file_content(self, file_id: str) -> bytes:
        """The bytes of a stored file (KeyError if there is none)."""
        return {stored.id: stored.data for stored in self._batch_api.files}[file_id]

    async def wait_for_batch(self, batch_id: str) -> dict[str, Any]:
        """Wait (on the emulator's loop) until the batch is final; its object.

        Bound it with ``asyncio.timeout()`` as needed.
        """
        return await self._batch_tasks.wait(batch_id)

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

        Routes: "chat" (``POST /v1/chat/completions``), "models" (``GET /v1/models...``),
        "embeddings", "files" (``/v1/files...``), "batches" (``POST /v1/batches``: the next
        create, whatever polls come first; batch faults such as ``Fault.batch_expired()`` go
        there), "batch-status" (list, retrieve and cancel) and "account" (``/v1/key``,
        ``/v1/user/balance``).
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
        app = web.Application(client_max_size=self._batch_api.files.max_bytes + _MULTIPART_OVERHEAD)
        for method, path, name, build in route_table(self._api, self._batch_api, self._chat_plan):
            app.router.add_route(method, path, self._route(name, build))
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
                self.stats.end(sent_status(request, response))

        return handle

    async def _handle(
        self, request: web.Request, route: str | None, build: Build
    ) -> web.StreamResponse:
        """Read, pick the fault, record, plan, inject, send."""
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            too_big = error_plan(413, "Request body is too large", "request_too_large")
            return await self._send(request, too_big)
        body = raw if request.content_type.startswith("multipart/") else parse_body(raw)
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
        if plan.ok:
            self._apply(plan.effects)
        return await self._send(request, plan)

    def _apply(self, effects: tuple[object, ...]) -> None:
        """Charge the account and start batches for a plan that is being sent."""
        for effect in effects:
            if isinstance(effect, Charge):
                self._api.account.charge(effect.usd)
            elif isinstance(effect, StartBatch):
                self._batch_tasks.start(effect.job)

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
        assert self._closed is not None
        return await send(request, plan, headers, functools.partial(pause, self._closed))

    # -- plans ---------------------------------------------------------------------------

    def _chat_plan(self, request: web.Request, body: Any, fault: Fault | None) -> Plan:
        """The normal answer to a chat request, paced by the current latency."""
        latency = Latency(self.ttft, self.token_interval)
        as_json = fault is not None and fault.serves_json
        return self._api.chat(authorization(request), body, latency, as_json)
