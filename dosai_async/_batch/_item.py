"""One batch item's life: prepare -> (acquire a permit -> send once -> judge) until done.

Decisions:

- Every attempt is a single ``create(..., retry=RetryPolicy.none())`` call, and this module
  runs the retry loop itself with ``_retry.decide`` ("retry? after how long?") so that each
  re-send passes the batch's ``AdaptivePacer`` instead of sleeping on its own: a 429 storm
  then pauses the batch once rather than being answered by every item separately.
- Every send counts against the item's retry policy, throttles included: an item is sent
  at most ``max_retries + 1`` times, so one that the server always refuses ends as a
  ``RateLimitError`` (or ``ServiceUnavailableError``) after exactly that many sends. A
  throttle's wait is the batch's pause, not a sleep of the item's own. A policy with
  ``max_retries=0``, or without 429 in ``retry_statuses``, is obeyed as ``create`` obeys it.
- A throttle is also a signal about the server, so the pacer hears of each one; it is told
  whether the item had been throttled before, since the same item refused again says
  nothing new about the server (see ``AdaptivePacer.throttled``).
- ``timeout`` (the client's, or the request's own) bounds each attempt. Time an item spends
  waiting for the batch's pacing is the batch's and is not counted against it.
- A request that cannot be sent (not a mapping, no ``messages``, ``stream=True``, a
  misspelt parameter) ends as a ``DosAIError`` for that item; the batch goes on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from dosai_async._core._config import RetryPolicy, backoff_seconds, parse_retry_after
from dosai_async._core._exceptions import APIStatusError, APIStreamError, DosAIError
from dosai_async._core._retry import decide
from dosai_async._models import _converter
from dosai_async._models._params import CreateFn
from dosai_async._models._types import ChatCompletion

from ._pacer import AdaptivePacer, PacerClosed, Permit

#: Resolves a request's retry policy as ``create`` would (the client's, or the request's
#: ``retry``/``max_retries``); raises ``TypeError``/``ValueError`` for invalid ones.
PolicyFn = Callable[[Mapping[str, Any]], RetryPolicy]

_THROTTLE_STATUSES = frozenset({429, 503})
_NO_RETRY = RetryPolicy.none()
_OWN_RETRY = frozenset({"max_retries", "retry"})  # the item's policy; each send has none
# Until a completion has been seen, a reply is guessed at this many tokens (TPM caps only).
_FIRST_GUESS_COMPLETION_TOKENS = 256


@attrs.frozen
class BatchItem:
    """One finished request of a batch.

    ``index`` is its position in the input, ``request`` the mapping it was built from,
    ``result`` the ``ChatCompletion`` or the ``DosAIError`` it ended with, ``attempts`` how
    many times it was sent and ``elapsed`` the seconds from its first send to its end.
    """

    index: int
    request: Any = attrs.field(repr=False)
    result: ChatCompletion | DosAIError
    attempts: int
    elapsed: float

    @property
    def ok(self) -> bool:
        """True when the request produced a completion (or another result, not an error)."""
        return not isinstance(self.result, DosAIError)


@attrs.define
class BatchStats:
    """Live counters of a batch, for progress displays; updated as the batch runs.

    ``in_flight`` counts requests on the wire; ``retrying`` items that failed at least once
    and will be re-sent; ``requests`` HTTP requests sent (every attempt); ``throttled`` the
    429/503 answers among them.
    """

    in_flight: int = 0

    succeeded: int = 0
    failed: int = 0
    retrying: int = 0
    requests: int = 0
    throttled: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def finished(self) -> int:
        """Items that ended, successfully or not."""
        return self.succeeded + self.failed

    @property
    def tokens(self) -> int:
        """Prompt plus completion tokens of the successful items."""
        return self.prompt_tokens + self.completion_tokens


class Track:
    """Retry bookkeeping of the item a worker runs; one per worker, reset for each item."""

    __slots__ = ("attempts", "retrying", "started", "task", "throttled")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task  # the worker's: in ``ItemRunner.sending`` while its request is out
        self.attempts = 0  # sends, compared with policy.max_retries + 1
        self.throttled = False  # refused with a 429/503 before
        self.retrying = False
        self.started = 0.0  # monotonic time of the first send

    def item(self, index: int, request: Any, result: ChatCompletion | DosAIError) -> BatchItem:
        """The ``BatchItem`` of the item just run (built only when someone receives it)."""
        elapsed = time.monotonic() - self.started if self.attempts else 0.0
        return BatchItem(index, request, result, self.attempts, elapsed)


class ItemRunner:
    """Runs items for one batch: shared client, pacer and stats."""

    def __init__(
        self,
        create: CreateFn,
        policy_for: PolicyFn,
        pacer: AdaptivePacer,
        stats: BatchStats,
        prompt_key: str = "messages",
    ) -> None:
        self._create = create
        self._prompt_key = prompt_key  # "input" for embeddings
        self._policy_for = policy_for
        self._pacer = pacer
        self._stats = stats
        self._completion_tokens = _Mean(_FIRST_GUESS_COMPLETION_TOKENS)
        self.stopping = False
        #: Tasks with a request on the wire: a graceful stop lets them finish.
        self.sending: set[asyncio.Task[Any]] = set()

    async def run(self, request: Any, track: Track) -> ChatCompletion | DosAIError | None:
        """The item's result; ``None`` when the batch stopped before its end.

        ``track`` is reset here and says afterwards how many sends it took (``Track.item``).
        """
        track.attempts = 0
        track.throttled = False
        try:
            params, policy = self._prepare(request)
        except DosAIError as exc:
            self._stats.failed += 1
            return exc
        try:
            result = await self._attempts(params, policy, track)
        finally:
            if track.retrying:
                track.retrying = False
                self._stats.retrying -= 1
        if result is None:
            return None
        if isinstance(result, DosAIError):
            self._stats.failed += 1
        else:
            self._stats.succeeded += 1
        return result

    async def _attempts(
        self, params: Mapping[str, Any], policy: RetryPolicy, track: Track
    ) -> ChatCompletion | DosAIError | None:
        """Send until done; ``None`` when the batch stops first."""
        pacer = self._pacer
        tokens = self._estimate(params) if pacer.counts_tokens else 0.0
        while True:
            try:
                permit = pacer.try_acquire(tokens)
                if permit is None:
                    permit = await pacer.acquire(tokens)
            except PacerClosed:
                return None
            if not track.attempts:
                track.started = time.monotonic()
            track.attempts += 1
            result = await self._send(params, policy, permit, track)
            if result.__class__ is ChatCompletion or not isinstance(result, DosAIError):
                return result
            wait = _judge(result, policy, track)
            if wait is None:
                return result
            if self.stopping:
                return None
            if not track.retrying:
                track.retrying = True
                self._stats.retrying += 1
            await asyncio.sleep(wait)

    def _prepare(self, request: Any) -> tuple[Mapping[str, Any], RetryPolicy]:
        """The ``create`` keywords (without ``retry``) and the retry policy of a request."""
        if request.__class__ is not dict and not isinstance(request, Mapping):
            raise invalid_request(f"a request must be a mapping, not {type(request).__name__}")
        if self._prompt_key not in request:
            raise invalid_request(f"a request needs {self._prompt_key!r}")
        prompt = request[self._prompt_key]
        if request.get("stream"):
            raise invalid_request("stream=True is not supported in a batch; leave it out")
        try:
            policy = self._policy_for(request)
        except (TypeError, ValueError) as exc:
            raise invalid_request(str(exc), exc) from exc
        params: Mapping[str, Any] = request
        # The usual request is sent as it is (no copy per item); ``retry`` is added per send.
        if "max_retries" in request or "retry" in request or isinstance(prompt, Iterator):
            params = {k: v for k, v in request.items() if k not in _OWN_RETRY}
            if isinstance(prompt, Iterator):
                params[self._prompt_key] = list(prompt)  # sent again on retries
        return params, policy

    def _estimate(self, request: Mapping[str, Any]) -> float:
        try:
            prompt = len(_converter.dumps(request[self._prompt_key])) / 4  # ~4 characters a token
        except TypeError:
            prompt = 0.0  # not JSON-able: create() will reject it and say why
        reply = request.get("max_completion_tokens") or request.get("max_tokens")
        if not isinstance(reply, (int, float)):
            reply = self._completion_tokens.value  # unset (or invalid: create() will say so)
        return prompt + reply

    async def _send(
        self, params: Mapping[str, Any], policy: RetryPolicy, permit: Permit, track: Track
    ) -> ChatCompletion | DosAIError:
        task = track.task
        self.sending.add(task)
        stats = self._stats
        stats.requests += 1
        stats.in_flight += 1
        try:
            completion = await self._create(**params, retry=_NO_RETRY)
        except DosAIError as exc:
            self._failed(exc, permit, policy, track)
            return exc
        except (TypeError, ValueError) as exc:  # the request's own parameters, before sending
            self._pacer.failed(permit)
            return invalid_request(str(exc), exc)
        except BaseException:
            self._pacer.failed(permit)
            raise
        finally:
            self.sending.discard(task)
            stats.in_flight -= 1
        self._succeeded(completion, permit)
        return completion

    def _succeeded(self, completion: ChatCompletion, permit: Permit) -> None:
        usage = completion.usage
        headers = completion.response.headers if completion.response is not None else {}
        if usage is not None:
            completion_tokens = getattr(usage, "completion_tokens", 0)  # embeddings have none
            self._stats.prompt_tokens += usage.prompt_tokens
            self._stats.completion_tokens += completion_tokens
            self._completion_tokens.add(completion_tokens)
        self._pacer.succeeded(permit, headers, usage.total_tokens if usage else None)

    def _failed(self, exc: DosAIError, permit: Permit, policy: RetryPolicy, track: Track) -> None:
        if not _is_throttle(exc):
            self._pacer.failed(permit)
            return
        assert isinstance(exc, APIStatusError)
        self._stats.throttled += 1
        pause = _pause_seconds(exc, policy, self._pacer.streak + 1)
        self._pacer.throttled(permit, exc.headers, pause, again=track.throttled)
        track.throttled = True


class _Mean:
    """A running mean, seeded with a first guess."""

    def __init__(self, first_guess: float) -> None:
        self.value = first_guess
        self._count = 0

    def add(self, sample: float) -> None:
        self._count += 1
        self.value += (sample - self.value) / self._count


def _is_throttle(exc: DosAIError) -> bool:
    return (
        isinstance(exc, APIStatusError)
        and not isinstance(exc, APIStreamError)
        and exc.status_code in _THROTTLE_STATUSES
    )


def _judge(exc: DosAIError, policy: RetryPolicy, track: Track) -> float | None:
    """Seconds before the next send, or ``None`` when ``exc`` is the item's end.

    Every send is an attempt, a throttled one too, so the policy bounds the item's sends.
    """
    wait = decide(exc, track.attempts, policy)
    if wait is None:
        return None
    return 0.0 if _is_throttle(exc) else wait  # the pacer holds the re-send until the pause


def _pause_seconds(exc: APIStatusError, policy: RetryPolicy, streak: int) -> float:
    """The server's hint (capped as the policy says), else a backoff growing with the streak."""
    hinted = parse_retry_after(exc.headers)
    if hinted is not None:
        return min(hinted, policy.max_retry_after)
    return backoff_seconds(policy, streak)


def invalid_request(reason: str, cause: Exception | None = None) -> DosAIError:
    """The error of an item whose request could not be sent (``code`` "invalid_request")."""
    error = DosAIError(f"invalid batch request: {reason}")
    error.code = "invalid_request"
    error.__cause__ = cause
    return error
