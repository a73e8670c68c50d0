"""``AdaptivePacer``: the one gate every request of a batch passes before it is sent.

Goals: never hammer a server that said "slow down", never exceed the caller's own limits,
and cost nothing when nothing pushes back (the common path is a few comparisons, no await).

Plan, one signal per mechanism:

- **Pause** (rate, server-directed): a 429 or 503 sets a batch-wide "no sends before T"
  from its ``Retry-After`` (or a backoff that grows while throttles keep coming). Requests
  already in flight are not recalled; nothing new leaves until T.
- **Window** (concurrency, AIMD): at most ``floor(window)`` requests in flight. A throttle
  halves it, once per epoch: a throttle of a request sent *before* the last decrease says
  nothing new (one wave of 429s must not cut 64 to 1), and neither does the re-send of an
  item that was throttled already: a few items that the server always refuses must not
  starve the rest, and an overloaded server refuses many distinct items. Each success adds
  one slot while the window is in use, as Netflix's ``AIMDLimit`` does, rather than TCP's
  one per round trip: a batch's round trips last seconds, and with a server that sheds a
  share of requests at random (load shedding, a fault injector) per-round-trip growth
  collapses the window to a few slots for good. Growing by one per success, the window
  holds steady as long as fewer than half of the requests are throttled; past that it
  shrinks, as it should.
- **Budget** (``x-ratelimit-remaining``): when the server reports what is left of its
  window, at most that many requests (minus those in flight) are sent; at zero, only one
  probe at a time goes out, whose answer (a success with a fresh count, or a 429 with
  ``Retry-After``) says when the window reopened. No reset time has to be guessed.
- **Caps** (``requests_per_minute``, ``tokens_per_minute``): sliding 60-second logs, the
  way DOS counts, so the server never sees more than the cap in any minute and the client
  never waits longer than it must. Tokens are estimated before sending and corrected from
  ``usage`` afterwards; a throttled request costs nothing (DOS does not charge it).

Waiters queue in FIFO order and each opening hands its slot directly to the next waiter,
so a release wakes one task, not all of them; one timer covers time-based waits.
"""

from __future__ import annotations

import asyncio
import collections
import math
import time
from collections.abc import Callable, Mapping

import attrs

from dosai_async._core._config import header

_MINUTE = 60.0
_FOREVER = math.inf


class PacerClosed(Exception):
    """Raised to waiters when the batch stops sending."""


@attrs.define(slots=True)
class _Spend:
    """One entry of a sliding log; ``gone`` once it has left the window."""

    at: float
    amount: float
    gone: bool = False


class SlidingWindow:
    """Amounts spent over the last ``period`` seconds, never more than ``limit``."""

    def __init__(self, limit: float, period: float = _MINUTE) -> None:
        if limit <= 0:
            raise ValueError(f"a per-minute limit must be positive, not {limit!r}")
        self.limit = limit
        self.period = period
        self.total = 0.0
        self._log: collections.deque[_Spend] = collections.deque()

    def delay(self, now: float, amount: float) -> float:
        """Seconds until ``amount`` fits (0 when it fits now)."""
        self._expire(now)
        if self.total + amount <= self.limit or not self._log:
            return 0.0  # an oversized request goes alone rather than never
        excess = self.total + amount - self.limit
        for spend in self._log:
            excess -= spend.amount
            if excess <= 0:
                return spend.at + self.period - now
        return self._log[-1].at + self.period - now

    def spend(self, now: float, amount: float) -> _Spend:
        """Record ``amount`` as spent now; the entry can be corrected later."""
        entry = _Spend(now, amount)
        self._log.append(entry)
        self.total += amount
        return entry

    def correct(self, entry: _Spend, amount: float) -> None:
        """Replace an entry's estimate with what was actually spent."""
        if not entry.gone:
            self.total += amount - entry.amount
        entry.amount = amount

    def _expire(self, now: float) -> None:
        horizon = now - self.period
        while self._log and self._log[0].at <= horizon:
            gone = self._log.popleft()
            gone.gone = True
            self.total -= gone.amount


@attrs.define(slots=True)
class Permit:
    """The right to send one request; hand it back with one of the pacer's outcomes."""

    sent_at: float
    tokens: _Spend | None = None
    released: bool = False


@attrs.define
class PacerState:
    """What the pacer knows, readable at any time (for progress displays and tests)."""

    window: float
    in_flight: int = 0
    paused_until: float = 0.0
    budget: int | None = None
    successes: int = 0
    throttles: int = 0


class AdaptivePacer:
    """Gate for a batch: pause, AIMD window, remaining budget and per-minute caps.

    ``acquire(tokens)`` waits for a ``Permit``; every permit ends with exactly one of
    ``succeeded``, ``throttled`` or ``failed``. ``clock`` is injectable for tests.
    """

    def __init__(
        self,
        concurrency: int,
        *,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency!r}")
        self.cap = concurrency
        self.state = PacerState(window=float(concurrency))
        self._rpm = None if requests_per_minute is None else SlidingWindow(requests_per_minute)
        self._tpm = None if tokens_per_minute is None else SlidingWindow(tokens_per_minute)
        self._clock = clock
        self._last_decrease = -_FOREVER
        self._streak = 0  # throttles since the last success: grows an unhinted pause
        self._waiters: collections.deque[tuple[asyncio.Future[Permit], float]] = collections.deque()
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    @property
    def counts_tokens(self) -> bool:
        """Whether callers must estimate tokens (only with ``tokens_per_minute``)."""
        return self._tpm is not None

    # -- acquiring ---------------------------------------------------------------------

    def try_acquire(self, tokens: float = 0.0) -> Permit | None:
        """A permit if one is free now (no waiting), else ``None``: ``acquire``'s fast path
        without a coroutine. Raises ``PacerClosed`` after ``close()``."""
        if self._closed:
            raise PacerClosed
        now = self._clock()
        if not self._waiters and self._delay(now, tokens) == 0.0:
            return self._take(now, tokens)
        return None

    async def acquire(self, tokens: float = 0.0) -> Permit:
        """Wait until a request may be sent; raises ``PacerClosed`` after ``close()``."""
        permit = self.try_acquire(tokens)
        if permit is not None:
            return permit
        future: asyncio.Future[Permit] = asyncio.get_running_loop().create_future()
        self._waiters.append((future, tokens))
        self._grant()
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled() and future.exception() is None:
                self.failed(future.result())  # granted just as we were cancelled
            raise

    def _delay(self, now: float, tokens: float) -> float:
        """0 if a request may go now; seconds to wait; or infinity (until a release)."""
        state = self.state
        if now < state.paused_until:
            return state.paused_until - now
        if state.in_flight >= int(state.window):
            return _FOREVER
        if state.budget is not None and state.budget <= 0 and state.in_flight > 0:
            return _FOREVER  # one probe at a time while the server says nothing is left
        wait = self._rpm.delay(now, 1) if self._rpm is not None else 0.0
        if self._tpm is not None:
            wait = max(wait, self._tpm.delay(now, tokens))
        return wait

    def _take(self, now: float, tokens: float) -> Permit:
        state = self.state
        state.in_flight += 1
        if state.budget is not None:
            state.budget -= 1
        if self._rpm is not None:
            self._rpm.spend(now, 1)
        spend = self._tpm.spend(now, tokens) if self._tpm is not None else None
        return Permit(now, spend)

    def _grant(self) -> None:
        """Hand permits to waiters, oldest first, while the gate is open."""
        now = self._clock()
        while self._waiters:
            future, tokens = self._waiters[0]
            if future.done():  # its task was cancelled
                self._waiters.popleft()
                continue
            delay = self._delay(now, tokens)
            if delay:
                if delay != _FOREVER:
                    self._wake_at(delay)
                return
            self._waiters.popleft()
            future.set_result(self._take(now, tokens))

    def _wake_at(self, delay: float) -> None:
        """Make sure ``_grant`` runs again within ``delay`` seconds (one timer at most)."""
        loop = asyncio.get_running_loop()
        when = loop.time() + delay
        if self._timer is not None:
            if self._timer.when() <= when:
                return
            self._timer.cancel()
        self._timer = loop.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._grant()

    # -- outcomes ----------------------------------------------------------------------

    def succeeded(
        self, permit: Permit, headers: Mapping[str, str], tokens: float | None = None
    ) -> None:
        """The request got a 2xx; ``tokens`` is its actual usage, when known."""
        state = self.state
        if self._release(permit):
            return
        state.successes += 1
        self._streak = 0
        if state.in_flight + 1 >= state.window / 2:  # grow only a window that is in use
            state.window = min(float(self.cap), state.window + 1.0)
        if tokens is not None and permit.tokens is not None and self._tpm is not None:
            self._tpm.correct(permit.tokens, tokens)
        self._note_remaining(headers)
        self._grant()

    def throttled(
        self, permit: Permit, headers: Mapping[str, str], pause: float, *, again: bool = False
    ) -> None:
        """The request got a 429 or 503: pause the batch for ``pause`` s, shrink the window.

        ``again`` says the same item had been throttled before: its pause is obeyed, but the
        window is cut only for an item's first throttle, so a few items that the server
        always refuses cost one cut each rather than one per send (which starved the rest).
        """
        state = self.state
        if self._release(permit):
            return
        now = self._clock()
        state.throttles += 1
        self._streak += 1
        state.paused_until = max(state.paused_until, now + pause)
        if not again and permit.sent_at > self._last_decrease:
            state.window = max(1.0, state.window / 2)
            self._last_decrease = now
        if permit.tokens is not None and self._tpm is not None:
            self._tpm.correct(permit.tokens, 0.0)  # throttled requests are not charged
        self._note_remaining(headers)  # only what the 429 says: it may be another limit's
        self._grant()

    def failed(self, permit: Permit) -> None:
        """Any other outcome (error, timeout, cancellation): just free the slot."""
        if not self._release(permit):
            self._grant()

    @property
    def streak(self) -> int:
        """Throttles since the last success (grows the pause when no hint is given)."""
        return self._streak

    def _release(self, permit: Permit) -> bool:
        """Free the permit's slot; True if it had been released already."""
        if permit.released:
            return True
        permit.released = True
        self.state.in_flight -= 1
        return False

    def _note_remaining(self, headers: Mapping[str, str]) -> None:
        raw = header(headers, "x-ratelimit-remaining")
        if raw is None:
            return
        try:
            remaining = int(float(raw.strip()))
        except ValueError:
            return  # a header we cannot read is no reason to stop
        # Requests still in flight may not be counted in it yet: assume they are not.
        self.state.budget = remaining - self.state.in_flight

    # -- closing -----------------------------------------------------------------------

    def close(self) -> None:
        """Stop: waiters get ``PacerClosed``, later ``acquire`` calls too; timers end."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._waiters:
            future, _ = self._waiters.popleft()
            if not future.done():
                future.set_exception(PacerClosed())
