"""Configuration value objects: ``Timeout`` and ``RetryPolicy``, plus their small helpers.

Both are frozen so one instance can be shared by every request of a long-lived client, and
per-call overrides are new objects (``attrs.evolve``), never mutations.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

DEFAULT_BASE_URL = "https://api.dos.ai/v1"

#: Statuses retried by default (DESIGN.md): request timeout, conflict, rate limit, 5xx.
DEFAULT_RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


def _positive_or_none(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, (int, float)) or value <= 0):
        raise ValueError(
            f"Timeout.{attribute.name} must be a positive number or None, not {value!r}"
        )


@attrs.frozen
class Timeout:
    """Deadlines of one call, in seconds; ``None`` means no limit for that phase.

    - ``connect`` (10): to open a connection (DNS, TCP and TLS included).
    - ``read`` (off): the longest wait for any bytes of a response. Off by default: aiohttp
      re-arms a timer on every packet for it, and ``total`` already bounds the call.
    - ``total`` (600): the whole call, retries and the waits between them included. A service
      that says ``timeout=10`` gets an answer or an ``APITimeoutError`` within 10 s.
    - ``first_token`` (120): streams only; from sending the request (each attempt) to the
      first content (text, reasoning, refusal or a tool call), response headers included.
    - ``idle`` (60): streams only; the longest gap between data events after the first
      content. Keep-alive comments do not reset it, so a server that only sends ``: ping``,
      or that stalls mid-body (a cut connection, a chunked body broken mid-way), times out.

    The stream defaults fail a stalled stream within one or two minutes instead of the
    ten of ``total``, while leaving room for a long prompt's prefill (``first_token``) and
    for slow generation (a gap of a minute between two tokens is a stall, not a slow model).
    Set either to ``None`` to turn it off, or higher for very long prompts on busy models.
    """

    connect: float | None = attrs.field(default=10.0, validator=_positive_or_none)
    read: float | None = attrs.field(default=None, validator=_positive_or_none)
    total: float | None = attrs.field(default=600.0, validator=_positive_or_none)
    first_token: float | None = attrs.field(default=120.0, validator=_positive_or_none)
    idle: float | None = attrs.field(default=60.0, validator=_positive_or_none)

    def merge(self, override: Timeout | float | None) -> Timeout:
        """This timeout with a per-call override applied (a number replaces ``total``)."""
        if override is None:
            return self
        if isinstance(override, Timeout):
            return override
        return attrs.evolve(self, total=float(override))


def _non_negative(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"RetryPolicy.{attribute.name} must be >= 0, not {value!r}")


@attrs.frozen
class RetryPolicy:
    """Which failures are retried and how long to wait between attempts.

    Retried: ``retry_statuses`` (408, 409, 429, 500, 502, 503, 504 by default) and connection
    errors that happen before a response arrives. The server's ``retry-after-ms`` or
    ``Retry-After`` (seconds or an HTTP date) sets the wait, capped at ``max_retry_after``;
    otherwise the wait is exponential (``initial_backoff * multiplier**n`` up to
    ``max_backoff``) with full jitter. A ``x-should-retry: true|false`` response header
    overrides the status rule. ``RetryPolicy.none()`` never retries; ``zero_wait()`` keeps the
    rules but never sleeps (for tests).
    """

    max_retries: int = attrs.field(default=2, validator=attrs.validators.ge(0))
    retry_statuses: frozenset[int] = attrs.field(
        default=DEFAULT_RETRY_STATUSES, converter=frozenset
    )
    initial_backoff: float = attrs.field(default=0.5, validator=_non_negative)
    max_backoff: float = attrs.field(default=8.0, validator=_non_negative)
    multiplier: float = attrs.field(default=2.0, validator=_non_negative)
    jitter: bool = True
    max_retry_after: float = attrs.field(default=60.0, validator=_non_negative)
    retry_connection_errors: bool = True

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_retries=0)

    @classmethod
    def zero_wait(cls, max_retries: int = 2) -> RetryPolicy:
        """Same rules as the default, but every wait is zero (``Retry-After`` included)."""
        return cls(max_retries=max_retries, initial_backoff=0, max_backoff=0, max_retry_after=0)


def backoff_seconds(policy: RetryPolicy, attempt: int) -> float:
    """``initial_backoff * multiplier ** (attempt - 1)`` capped at ``max_backoff``, no jitter.

    The exponent is capped before it is applied: a batch counts throttles without end, and
    ``2.0 ** 1024`` raises ``OverflowError`` long after the cap made further growth moot.
    """
    initial, multiplier, ceiling = policy.initial_backoff, policy.multiplier, policy.max_backoff
    if initial == 0 or initial >= ceiling:
        return float(min(initial, ceiling))
    exponent = max(attempt - 1, 0)
    if multiplier > 1:
        steps_to_ceiling = (math.log(ceiling) - math.log(initial)) / math.log(multiplier)
        if exponent >= steps_to_ceiling:
            return float(ceiling)
    return float(min(initial * multiplier**exponent, ceiling))


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup that works for plain dicts as well as multidicts."""
    value = headers.get(name)
    if value is not None or not isinstance(headers, dict):
        return value  # response headers are case-insensitive multidicts: one lookup is enough
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, else ``Retry-After`` (seconds or HTTP date)."""
    millis = _to_float(header(headers, "retry-after-ms"))
    if millis is not None:
        return max(millis / 1000.0, 0.0)
    raw = header(headers, "retry-after")
    if raw is None:
        return None
    seconds = _to_float(raw)
    if seconds is not None:
        return max(seconds, 0.0)
    return _seconds_until_http_date(raw, time.time() if now is None else now)


def _to_float(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def _seconds_until_http_date(raw: str, now: float) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.fromtimestamp(now, UTC)).total_seconds(), 0.0)
