"""Retries per status, waits from the server's hints, and the deadline over all attempts."""

from __future__ import annotations

import asyncio
import logging
import time
from email.utils import formatdate

import pytest
from aiohttp import web

import dosai_async as d
from dosai_async import AsyncDosAI, RetryPolicy, Timeout
from dosai_async._core._config import backoff_seconds
from dosai_async._core._exceptions import ErrorInfo, status_class
from dosai_async._core._retry import decide
from tests.conftest import Scripted

MESSAGES = [{"role": "user", "content": "hi"}]
POLICY = RetryPolicy(max_retries=3, initial_backoff=1.0, multiplier=2.0, max_backoff=5.0)


def status(code: int, **headers: str) -> d.APIStatusError:
    """An error as the requester would raise it for ``code``."""
    return status_class(code)(ErrorInfo("x"), status_code=code, headers=headers)


@pytest.mark.parametrize("code", [408, 409, 429, 500, 502, 503, 504])
def test_retried_statuses(code: int) -> None:
    """Transient statuses are retried."""
    assert decide(status(code), 1, POLICY, rand=lambda: 1.0) == 1.0


@pytest.mark.parametrize("code", [400, 401, 402, 403, 404, 413, 422])
def test_never_retried_statuses(code: int) -> None:
    """Statuses a retry cannot fix are not retried."""
    assert decide(status(code), 1, POLICY) is None


def test_exponential_backoff_with_cap() -> None:
    """Waits double per attempt up to max_backoff; jitter scales them down."""
    waits = [decide(status(500), n, POLICY, rand=lambda: 1.0) for n in (1, 2, 3)]
    assert waits == [1.0, 2.0, 4.0]
    assert decide(status(500), 1, POLICY, rand=lambda: 0.25) == 0.25
    capped = RetryPolicy(max_retries=9, initial_backoff=1.0, max_backoff=5.0, jitter=False)
    assert decide(status(500), 8, capped) == 5.0


@pytest.mark.parametrize("multiplier", [2, 2.0, 10.0])
def test_backoff_is_capped_before_it_can_overflow(multiplier: float) -> None:
    """A huge attempt number gives max_backoff, not OverflowError (int or float multiplier)."""
    policy = RetryPolicy(
        max_retries=10**6,
        initial_backoff=1e-3,
        max_backoff=5.0,
        multiplier=multiplier,
        jitter=False,
    )
    assert backoff_seconds(policy, 100_000) == 5.0
    assert decide(status(500), 999_999, policy) == 5.0
    assert backoff_seconds(policy, 1) == 1e-3


def test_backoff_without_growth_or_start() -> None:
    """A multiplier of 1 (or less) and a zero start never grow, for any attempt."""
    flat = RetryPolicy(initial_backoff=0.5, multiplier=1.0)
    assert backoff_seconds(flat, 10**9) == 0.5
    shrinking = RetryPolicy(initial_backoff=0.5, multiplier=0.5)
    assert backoff_seconds(shrinking, 2) == 0.25
    assert backoff_seconds(RetryPolicy.zero_wait(), 10**9) == 0.0


def test_attempts_run_out() -> None:
    """After max_retries retries, nothing more is retried."""
    assert decide(status(503), 4, POLICY) is None


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),
        ({"Retry-After": "600"}, 60.0),  # capped by max_retry_after
        ({"Retry-After": "soon"}, 1.0),  # unparsable: fall back to backoff
    ],
)
def test_server_hints_win(headers: dict[str, str], wait: float) -> None:
    """retry-after-ms, then Retry-After, set the wait, up to max_retry_after."""
    assert decide(status(429, **headers), 1, POLICY, rand=lambda: 1.0) == wait


def test_retry_after_http_date() -> None:
    """Retry-After as an HTTP date waits until that moment."""
    when = formatdate(time.time() + 5, usegmt=True)
    wait = decide(status(503, **{"Retry-After": when}), 1, POLICY)
    assert wait is not None
    assert 3.0 <= wait <= 5.0


def test_should_retry_header_overrides() -> None:
    """x-should-retry: false stops a 503 retry; true retries even a 400."""
    assert decide(status(503, **{"x-should-retry": "false"}), 1, POLICY) is None
    assert decide(status(400, **{"x-should-retry": "true"}), 1, POLICY, rand=lambda: 1) == 1.0


def test_connection_errors() -> None:
    """Failures before a response are retried; after it began, or the total deadline, not."""
    assert decide(d.APIConnectionError(), 1, POLICY) is not None
    assert decide(d.APIConnectionError(response_started=True), 1, POLICY) is None
    assert decide(d.APITimeoutError(deadline="connect"), 1, POLICY) is not None
    assert decide(d.APITimeoutError(deadline="total"), 1, POLICY) is None
    no_conn = RetryPolicy(retry_connection_errors=False)
    assert decide(d.APIConnectionError(), 1, no_conn) is None


@pytest.mark.parametrize("code", [408, 409, 429, 500, 502, 503, 504])
async def test_retried_statuses_over_the_wire(
    client: AsyncDosAI, server: Scripted, code: int
) -> None:
    """A transient status is sent 1 + max_retries times, then raises its class."""
    server.replies = [(code, {"error": {"message": "busy"}}, {})] * 3
    with pytest.raises(status_class(code)):
        await client.chat.completions.create(messages=MESSAGES)
    assert len(server.requests) == 3


async def test_recovers_after_transient_errors(client: AsyncDosAI, server: Scripted) -> None:
    """Two 503s then a 200 yield one result after three requests."""
    server.reply(503).reply(503)
    server.replies = [(503, {"error": {"message": "x"}}, {})] * 2
    done = await client.chat.completions.create(messages=MESSAGES)
    assert done.choices[0].message.content == "Paris."
    assert len(server.requests) == 3


async def test_retry_after_is_obeyed(scripted: tuple[Scripted, str]) -> None:
    """429 with Retry-After: 1 twice, then 200: one result after ~2 s and three requests."""
    server, base_url = scripted
    server.replies = [(429, {"error": {"message": "slow down"}}, {"Retry-After": "1"})] * 2
    async with AsyncDosAI(api_key="k", base_url=base_url) as client:
        started = time.monotonic()
        done = await client.chat.completions.create(messages=MESSAGES)
        elapsed = time.monotonic() - started
    assert done.choices[0].message.content == "Paris."
    assert len(server.requests) == 3
    assert 1.9 <= elapsed < 4.0


async def test_wait_that_overruns_the_deadline_is_not_started(
    scripted: tuple[Scripted, str],
) -> None:
    """A Retry-After longer than the time left raises at once instead of sleeping."""
    server, base_url = scripted
    server.reply(429, {"error": {"message": "later"}}, Retry_After="30")
    async with AsyncDosAI(api_key="k", base_url=base_url, timeout=2) as client:
        started = time.monotonic()
        with pytest.raises(d.RateLimitError) as info:
            await client.chat.completions.create(messages=MESSAGES)
    assert time.monotonic() - started < 5  # not the 30 s Retry-After
    assert info.value.retry_after == 30.0
    assert len(server.requests) == 1


async def test_total_deadline_bounds_all_attempts(scripted: tuple[Scripted, str]) -> None:
    """timeout=0.5 with a stalling server raises APITimeoutError in about 0.5 s."""
    server, base_url = scripted

    async def stall(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response()

    server.replies = [stall] * 5
    async with AsyncDosAI(api_key="k", base_url=base_url, max_retries=4) as client:
        started = time.monotonic()
        with pytest.raises(d.APITimeoutError) as info:
            await client.chat.completions.create(messages=MESSAGES, timeout=0.5)
    assert info.value.deadline == "total"
    assert time.monotonic() - started < 3  # not 5 attempts of a 5 s stall


async def test_read_timeout_is_retried_within_total(scripted: tuple[Scripted, str]) -> None:
    """A per-attempt read timeout is retried; the next attempt succeeds."""
    server, base_url = scripted

    async def stall(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response()

    server.replies = [stall]
    timeout = Timeout(read=0.2, total=5)
    policy = RetryPolicy.zero_wait()
    async with AsyncDosAI(api_key="k", base_url=base_url, timeout=timeout, retry=policy) as c:
        done = await c.chat.completions.create(messages=MESSAGES)
    assert done.choices[0].message.content == "Paris."
    assert len(server.requests) == 2


async def test_each_retry_is_logged(
    client: AsyncDosAI, server: Scripted, caplog: pytest.LogCaptureFixture
) -> None:
    """Retries log status, attempt and wait on the 'dosai_async' logger, without the key."""
    server.replies = [(429, {"error": {"message": "x"}}, {})]
    with caplog.at_level(logging.INFO, logger="dosai_async"):
        await client.chat.completions.create(messages=MESSAGES)
    (record,) = [r for r in caplog.records if r.name == "dosai_async"]
    assert "POST /chat/completions after 429 (attempt 1 of 3) in 0.00s" in record.getMessage()
    assert "dos_sk_test" not in caplog.text


async def test_per_call_retry_override(client: AsyncDosAI, server: Scripted) -> None:
    """max_retries=0 on a call sends once; retry=RetryPolicy(...) sets the policy."""
    server.replies = [(500, {"error": {"message": "x"}}, {})] * 5
    with pytest.raises(d.InternalServerError):
        await client.chat.completions.create(messages=MESSAGES, max_retries=0)
    assert len(server.requests) == 1
    with pytest.raises(d.InternalServerError):
        await client.chat.completions.create(
            messages=MESSAGES, retry=RetryPolicy.zero_wait(max_retries=3)
        )
    assert len(server.requests) == 5
