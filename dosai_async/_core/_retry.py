"""Retries: the only importer of tenacity.

``decide()`` is the whole policy as one pure function, "retry this failure? after how long?",
testable without sleeping. ``call_with_retries()`` hands it to tenacity: tenacity owns the
loop, the sleeping and the bookkeeping; we own the rules. The call's deadline bounds the
loop: an attempt is given what is left, and a wait that would overrun it is not started.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import tenacity

from ._config import RetryPolicy, backoff_seconds, header, parse_retry_after
from ._deadline import Deadline
from ._exceptions import APIConnectionError, APIStatusError, APIStreamError, APITimeoutError

T = TypeVar("T")

#: Told of a retry before its wait: (the failure, its attempt number from 1, the delay).
OnRetry = Callable[[BaseException, int, float], None]

logger = logging.getLogger("dosai_async")


def decide(
    exc: BaseException,
    attempt: int,
    policy: RetryPolicy,
    rand: Callable[[], float] = random.random,
) -> float | None:
    """Seconds to wait before retrying after ``exc`` on ``attempt`` (1-based), or ``None``.

    ``x-should-retry`` (when the server sends it) beats the status rules; the server's
    ``retry-after-ms`` / ``Retry-After`` beats our backoff, capped at ``max_retry_after``.
    """
    if attempt > policy.max_retries or not _retryable(exc, policy):
        return None
    hinted = parse_retry_after(exc.headers) if isinstance(exc, APIStatusError) else None
    if hinted is not None:
        return min(hinted, policy.max_retry_after)
    return _backoff(attempt, policy, rand)


def _retryable(exc: BaseException, policy: RetryPolicy) -> bool:
    if isinstance(exc, APIStreamError) and exc.response_started:
        return False  # content already reached the caller: a retry would duplicate it
    if isinstance(exc, APIStatusError):
        override = header(exc.headers, "x-should-retry")
        if override in ("true", "false"):
            return override == "true"
        return exc.status_code in policy.retry_statuses
    if isinstance(exc, APITimeoutError) and exc.deadline == "total":
        return False  # the call's own deadline: nothing is left to retry with
    if isinstance(exc, APIConnectionError):
        return policy.retry_connection_errors and not exc.response_started
    return False


def _backoff(attempt: int, policy: RetryPolicy, rand: Callable[[], float]) -> float:
    delay = backoff_seconds(policy, attempt)
    # Full jitter: spreads a crowd of clients that failed together across the whole window.
    return delay * rand() if policy.jitter else delay


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    deadline: Deadline,
    describe: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_retry: OnRetry | None = None,
) -> T:
    """Run ``attempt`` until it succeeds or ``decide`` says stop; re-raise the last error.

    ``on_retry(error, attempt, delay)`` is told of each retry before its wait (hooks, spans).

    The first attempt runs bare: building tenacity's machinery costs ~20 µs, which a
    request that succeeds (nearly all of them) should not pay. Only after a retryable
    failure does tenacity take over, starting from that failure as its attempt 1.
    """
    try:
        return await attempt()
    except Exception as exc:  # _retryable decides; anything else is re-raised as is
        if not retries_after(exc, policy):
            raise
        failed = exc
    return await retry_failure(
        failed,
        attempt,
        policy=policy,
        deadline=deadline,
        describe=describe,
        sleep=sleep,
        on_retry=on_retry,
    )


def retries_after(exc: Exception, policy: RetryPolicy) -> bool:
    """Whether a first attempt that failed with ``exc`` is retried at all under ``policy``."""
    return policy.max_retries > 0 and _retryable(exc, policy)


def resume_after(failed: Exception) -> Callable[..., Awaitable[Any]]:
    """``call_with_retries`` for a call whose first attempt already failed with ``failed``
    (and ``retries_after`` said yes): same arguments, goes on from there."""

    async def resume(attempt: Callable[[], Awaitable[T]], **options: Any) -> T:
        return await retry_failure(failed, attempt, **options)

    return resume


async def retry_failure(
    failed: Exception,
    attempt: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    deadline: Deadline,
    describe: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_retry: OnRetry | None = None,
) -> T:
    """``call_with_retries`` after its first attempt, which the caller ran bare and which
    failed with ``failed`` (``retries_after`` said yes): the requester's plain path runs that
    attempt inline, without a closure or this module's frame, and comes here only on failure.
    """
    first: list[BaseException] = [failed]

    async def replay_then_attempt() -> T:
        if first:
            raise first.pop()  # tenacity's attempt 1 is the failure that already happened
        return await attempt()

    retrying = tenacity.AsyncRetrying(
        retry=tenacity.retry_if_exception(lambda exc: _retryable(exc, policy)),
        wait=lambda state: _wait(state, policy),
        stop=lambda state: _stop(state, policy, deadline),
        before_sleep=lambda state: _before_retry(state, policy, describe, on_retry),
        sleep=sleep,  # the transport's: close() cuts a wait short
        reraise=True,
    )
    return await retrying(replay_then_attempt)


def _failure(state: tenacity.RetryCallState) -> BaseException:
    outcome = state.outcome
    exc = outcome.exception() if outcome is not None else None
    assert exc is not None, "tenacity asks for a wait only after a failed attempt"
    return exc


def _wait(state: tenacity.RetryCallState, policy: RetryPolicy) -> float:
    return decide(_failure(state), state.attempt_number, policy) or 0.0


def _stop(state: tenacity.RetryCallState, policy: RetryPolicy, deadline: Deadline) -> bool:
    if state.attempt_number > policy.max_retries:
        return True
    remaining = deadline.remaining()
    return remaining is not None and state.upcoming_sleep >= remaining


def _before_retry(
    state: tenacity.RetryCallState, policy: RetryPolicy, describe: str, on_retry: OnRetry | None
) -> None:
    _log_retry(state, policy, describe)
    if on_retry is not None:
        on_retry(_failure(state), state.attempt_number, state.upcoming_sleep)


def _log_retry(state: tenacity.RetryCallState, policy: RetryPolicy, describe: str) -> None:
    exc = _failure(state)
    status = getattr(exc, "status_code", None) or type(exc).__name__
    logger.info(
        "Retrying %s after %s (attempt %d of %d) in %.2fs",
        describe,
        status,
        state.attempt_number,
        policy.max_retries + 1,
        state.upcoming_sleep,
    )
