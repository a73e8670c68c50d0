"""What the emulator remembers: the request log, counters, and the rate-limit window.

The log is for assertions in tests, so it keeps everything except secrets: header names are
lower-cased and credential headers are masked (``Bearer dos_sk_…abcd``), so a printed log or
a failing assertion never shows a key.
"""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Mapping
from typing import Any

import attrs

from ._faults import Fault

__all__ = ["EmulatorStats", "RateWindow", "RecordedRequest", "mask_headers"]

_KEY_PREFIX = "dos_sk_"
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "api-key"})


@attrs.frozen
class RecordedRequest:
    """One request as the emulator received it.

    ``headers`` has lower-cased names and masked credentials; ``body`` is the parsed JSON
    (None for no body or invalid JSON, whose bytes stay in ``raw``); ``fault`` is the fault
    injected into its response, if any; ``time`` is ``time.time()`` at arrival.
    """

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any
    raw: bytes = attrs.field(repr=False)
    fault: Fault | None
    time: float


@attrs.define
class EmulatorStats:
    """Counters since start (or ``DosAIEmulator.clear()``), as measured at the server.

    ``statuses`` counts responses by status; 0 counts connections reset before any status
    was sent. ``max_in_flight`` is the most requests handled at the same time.
    """

    total: int = 0
    statuses: dict[int, int] = attrs.Factory(dict)
    in_flight: int = 0
    max_in_flight: int = 0
    faults: int = 0

    def begin(self) -> None:
        """A request arrived."""
        self.total += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def end(self, status: int) -> None:
        """A request's handler finished with ``status`` (0: no response was sent)."""
        self.in_flight -= 1
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def reset(self) -> None:
        """Zero the counters; requests still in flight stay counted as in flight."""
        self.total = self.faults = 0
        self.statuses = {}
        self.max_in_flight = self.in_flight


class RateWindow:
    """A sliding 60-second request window per emulator, like DOS's per-key limit."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._times: collections.deque[float] = collections.deque()

    def remaining(self) -> int:
        """Requests left in the current window."""
        self._expire(time.monotonic())
        return max(self.limit - len(self._times), 0)

    def take(self) -> None:
        """Count one request now."""
        self._times.append(time.monotonic())

    def retry_after(self) -> int:
        """Whole seconds until the oldest request in the window expires."""
        if not self._times:
            return 0
        return max(math.ceil(self._times[0] + self.window - time.monotonic()), 1)

    def _expire(self, now: float) -> None:
        """Forget requests older than the window."""
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with lower-cased names and credential values masked."""
    return {
        name.lower(): mask_secret(value) if name.lower() in _SECRET_HEADERS else value
        for name, value in headers.items()
    }


def mask_secret(value: str) -> str:
    """``Bearer dos_sk_abcdef123456`` -> ``Bearer dos_sk_…3456`` (short keys show no tail)."""
    scheme, space, token = value.strip().rpartition(" ")
    return f"{scheme}{space}{masked_key(token)}"


def masked_key(key: str) -> str:
    """``dos_sk_abcdef123456`` -> ``dos_sk_…3456``: the form the SDK shows too (the emulator
    is a server built on the wire contract, so it keeps its own copy rather than importing the
    client's internals)."""
    prefix = _KEY_PREFIX if key.startswith(_KEY_PREFIX) else ""
    secret = key[len(prefix) :]
    return f"{prefix}…{secret[-4:] if len(secret) >= 12 else ''}"
