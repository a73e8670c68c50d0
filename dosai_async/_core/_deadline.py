"""``Deadline``: the monotonic end of a call, shared by the retry loop and a stream's reads.

Its own module (not ``_retry``'s) so that streams can bound their reads by it without
importing tenacity's wrapper.
"""

from __future__ import annotations

import time

import attrs

from ._config import Timeout


class Deadline:
    """The monotonic end of a call; ``None`` means unbounded."""

    __slots__ = ("end",)

    def __init__(self, seconds: float | None, start: float | None = None) -> None:
        """``seconds`` from ``start`` (a ``time.monotonic()`` reading; default: now)."""
        if seconds is None:
            self.end = None
        else:
            self.end = (time.monotonic() if start is None else start) + seconds

    def remaining(self) -> float | None:
        """Seconds left (never negative), or ``None`` when unbounded."""
        return None if self.end is None else max(self.end - time.monotonic(), 0.0)


@attrs.frozen
class AttemptTimeout:
    """Limits of one attempt: ``total`` is what is left of the call's deadline."""

    total: float | None
    connect: float | None
    read: float | None


def whole_call(timeout: Timeout) -> AttemptTimeout:
    """A first attempt's limits: it starts microseconds after its deadline, so all of it."""
    return AttemptTimeout(timeout.total, timeout.connect, timeout.read)


def attempt_limits(timeout: Timeout, deadline: Deadline) -> AttemptTimeout:
    """A later attempt's limits: what is left of ``deadline``."""
    return AttemptTimeout(deadline.remaining(), timeout.connect, timeout.read)


def headers_limit(timeout: Timeout, limit: AttemptTimeout) -> tuple[AttemptTimeout, str]:
    """The wait for a stream's headers and the deadline's name: ``first_token`` when it
    comes before ``total``."""
    first_token = timeout.first_token
    if first_token is not None and (limit.total is None or first_token < limit.total):
        return attrs.evolve(limit, total=first_token), "first_token"
    return limit, "total"
