"""The batch pacer on its own: pause, AIMD window, remaining budget, per-minute caps."""

from __future__ import annotations

import asyncio
import time

import pytest

from dosai_async._batch._pacer import AdaptivePacer, PacerClosed, SlidingWindow


class Clock:
    """A hand-driven clock for the time-based parts."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sliding_window_waits_for_the_oldest_to_leave() -> None:
    """A full minute opens again when its oldest entry is 60 s old, not before."""
    window = SlidingWindow(3)
    for at in (0.0, 1.0, 2.0):
        assert window.delay(at, 1) == 0.0
        window.spend(at, 1)
    assert window.delay(3.0, 1) == pytest.approx(57.0)
    assert window.delay(60.0, 1) == 0.0


def test_sliding_window_lets_an_oversized_request_go_alone() -> None:
    """A request larger than the whole cap is sent when the window is empty, not never."""
    window = SlidingWindow(100)
    assert window.delay(0.0, 500) == 0.0
    window.spend(0.0, 500)
    assert window.delay(1.0, 1) == pytest.approx(59.0)


def test_sliding_window_corrects_estimates() -> None:
    """Actual usage replaces the estimate, freeing what was over-estimated."""
    window = SlidingWindow(1000)
    entry = window.spend(0.0, 900)
    assert window.delay(1.0, 200) > 0
    window.correct(entry, 100)
    assert window.delay(1.0, 200) == 0.0


async def test_throttles_halve_the_window_once_per_epoch() -> None:
    """A wave of 429s for requests sent together halves the window once, not eight times."""
    pacer = AdaptivePacer(8)
    permits = [await pacer.acquire() for _ in range(8)]
    for permit in permits:
        pacer.throttled(permit, {}, 0.0)
    assert pacer.state.window == 4.0
    later = await pacer.acquire()
    pacer.throttled(later, {}, 0.0)
    assert pacer.state.window == 2.0


async def test_an_item_throttled_again_does_not_cut_the_window_again() -> None:
    """The re-send of an item refused before pauses the batch but leaves the window as is."""
    pacer = AdaptivePacer(8)
    pacer.throttled(await pacer.acquire(), {}, 0.0)
    assert pacer.state.window == 4.0
    again = await pacer.acquire()
    pacer.throttled(again, {}, 5.0, again=True)
    assert pacer.state.window == 4.0
    assert pacer.state.paused_until >= again.sent_at + 5.0


async def test_window_recovers_one_slot_per_success_while_in_use() -> None:
    """After a halving, successes of a busy window add one slot each, up to the cap."""
    pacer = AdaptivePacer(8)
    pacer.throttled(await pacer.acquire(), {}, 0.0)
    assert pacer.state.window == 4.0
    for _ in range(10):
        permits = [await pacer.acquire() for _ in range(int(pacer.state.window))]
        for permit in permits:
            pacer.succeeded(permit, {})
    assert pacer.state.window == 8.0


async def test_window_bounds_requests_in_flight() -> None:
    """The n+1th acquire waits until one of n permits comes back."""
    pacer = AdaptivePacer(2)
    first, _ = await pacer.acquire(), await pacer.acquire()
    third = asyncio.ensure_future(pacer.acquire())
    await asyncio.sleep(0.01)
    assert not third.done()
    pacer.succeeded(first, {})
    await asyncio.wait_for(third, 1)
    assert pacer.state.in_flight == 2


async def test_a_throttle_pauses_every_sender() -> None:
    """After a 429 with a 0.15 s pause, no permit is granted before the pause ends."""
    pacer = AdaptivePacer(4)
    pacer.throttled(await pacer.acquire(), {}, 0.15)
    started = time.monotonic()
    await asyncio.gather(*(pacer.acquire() for _ in range(2)))
    assert time.monotonic() - started >= 0.14


async def test_zero_remaining_allows_one_probe_at_a_time() -> None:
    """x-ratelimit-remaining: 0 leaves one request in flight, whose answer reopens the gate."""
    pacer = AdaptivePacer(8)
    first = await pacer.acquire()
    pacer.succeeded(first, {"X-RateLimit-Remaining": "0"})
    probe = await pacer.acquire()  # nothing in flight: one probe may go
    second = asyncio.ensure_future(pacer.acquire())
    await asyncio.sleep(0.01)
    assert not second.done()
    pacer.succeeded(probe, {"x-ratelimit-remaining": "5"})
    await asyncio.wait_for(second, 1)


async def test_remaining_counts_requests_still_in_flight() -> None:
    """The budget is what the server reported minus the requests it may not have counted."""
    pacer = AdaptivePacer(8)
    permits = [await pacer.acquire() for _ in range(4)]
    pacer.succeeded(permits[0], {"x-ratelimit-remaining": "3"})
    assert pacer.state.budget == 0  # 3 left, 3 still in flight


async def test_requests_per_minute_cap() -> None:
    """With a cap of 2 per minute, the third request waits for the first to age out."""
    clock = Clock()
    pacer = AdaptivePacer(8, requests_per_minute=2, clock=clock)
    for _ in range(2):
        pacer.succeeded(await pacer.acquire(), {})
    waiting = asyncio.ensure_future(pacer.acquire())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    clock.now += 60
    pacer._on_timer()  # what the loop's timer does when the minute is up
    await asyncio.wait_for(waiting, 1)


async def test_tokens_per_minute_cap_uses_actual_usage() -> None:
    """A request's estimate holds tokens until its usage says how many it really took."""
    pacer = AdaptivePacer(8, tokens_per_minute=1000)
    big = await pacer.acquire(900)
    waiting = asyncio.ensure_future(pacer.acquire(300))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    pacer.succeeded(big, {}, tokens=100)
    await asyncio.wait_for(waiting, 1)


async def test_cancelled_waiter_gives_its_place_back() -> None:
    """A waiter cancelled while queued does not keep a slot."""
    pacer = AdaptivePacer(1)
    held = await pacer.acquire()
    waiter = asyncio.ensure_future(pacer.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    pacer.succeeded(held, {})
    await asyncio.wait_for(pacer.acquire(), 1)
    assert pacer.state.in_flight == 1


async def test_close_releases_every_waiter() -> None:
    """close() ends the waits with PacerClosed, and later acquires fail at once."""
    pacer = AdaptivePacer(1)
    await pacer.acquire()
    waiter = asyncio.ensure_future(pacer.acquire())
    await asyncio.sleep(0)
    pacer.close()
    with pytest.raises(PacerClosed):
        await waiter
    with pytest.raises(PacerClosed):
        await pacer.acquire()


def test_concurrency_must_be_positive() -> None:
    """concurrency=0 is refused with a clear message."""
    with pytest.raises(ValueError, match="concurrency"):
        AdaptivePacer(0)
