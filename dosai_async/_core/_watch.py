"""Watching one call: its attempts counted and timed, for the log, the hooks and the span.

``Observers.watch`` returns ``None`` when nothing observes (no hooks, no tracing, the
``dosai_async`` logger above DEBUG): then the requester runs exactly as without this module,
and the cost of the feature is that one check per call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ._hooks import Hooks, RequestEvent, ResponseEvent, RetryEvent
from ._logs import attempt_line, logger
from ._multipart import Multipart

if TYPE_CHECKING:
    from ._telemetry import CallSpan, Tracer

T = TypeVar("T")

#: What an attempt's result says about its response: (status code, request id).
Facts = Callable[[Any], tuple[int | None, str | None]]


class Observers:
    """What watches a client's calls: its ``Hooks``, its ``Tracer``, and the logger."""

    def __init__(self, hooks: Hooks | None = None, tracer: Tracer | None = None) -> None:
        self._hooks = hooks
        self._tracer = tracer

    def watch(
        self, method: str, url: str, path: str, body: Mapping[str, Any] | Multipart | None
    ) -> CallWatch | None:
        """A watch for one call, or ``None`` when nothing would see it."""
        if self._hooks is None and self._tracer is None and not logger.isEnabledFor(logging.DEBUG):
            return None
        if isinstance(body, Multipart):
            body = None  # a form upload has no model for a span to read
        span = None if self._tracer is None else self._tracer.start(method, path, body)
        return CallWatch(method, url, self._hooks, span)


class CallWatch:
    """Counts and times the attempts of one call and tells the log, hooks and span."""

    __slots__ = ("_hooks", "_method", "_span", "_started", "_url", "attempt")

    def __init__(self, method: str, url: str, hooks: Hooks | None, span: CallSpan | None) -> None:
        self._method = method
        self._url = url
        self._hooks = hooks
        self._span = span
        self._started = 0.0
        self.attempt = 0

    def attempts(
        self, send: Callable[[], Awaitable[T]], facts: Facts
    ) -> Callable[[], Awaitable[T]]:
        """``send`` (one attempt) wrapped so that each of its runs is observed."""

        async def observed() -> T:
            self._sending()
            try:
                result = await send()
            except Exception as exc:
                status = getattr(exc, "status_code", None)
                self._ended(status, getattr(exc, "request_id", None), exc)
                raise
            self._ended(*facts(result), None)
            return result

        return observed

    def retrying(self, error: BaseException, attempt: int, delay: float) -> None:
        """``on_retry`` of the retry loop (which logs the retry itself)."""
        reason = str(getattr(error, "status_code", None) or type(error).__name__)
        if self._span is not None:
            self._span.retry(attempt, delay, reason)
        hook = self._hooks and self._hooks.on_retry
        if hook:
            event = RetryEvent(self._method, self._url, attempt, delay, reason, error)
            _call(hook, "on_retry", event)

    def finish(self, result: object, error: BaseException | None) -> None:
        """The call ended (for a stream: the stream did); ends the span."""
        if self._span is not None:
            self._span.finish(result, error)

    def _sending(self) -> None:
        self.attempt += 1
        self._started = time.monotonic()
        hook = self._hooks and self._hooks.on_request
        if hook:
            _call(hook, "on_request", RequestEvent(self._method, self._url, self.attempt))

    def _ended(
        self, status: int | None, request_id: str | None, error: BaseException | None
    ) -> None:
        elapsed = time.monotonic() - self._started
        if logger.isEnabledFor(logging.DEBUG):
            outcome = str(status) if status is not None else f"{type(error).__name__}: {error}"
            line = attempt_line(self._method, self._url, self.attempt, elapsed, outcome, request_id)
            logger.debug("%s", line)
        if self._span is not None:
            self._span.attempt(self.attempt, elapsed, status, request_id, error)
        hook = self._hooks and self._hooks.on_response
        if hook:
            event = ResponseEvent(
                self._method, self._url, self.attempt, elapsed, status, request_id, error
            )
            _call(hook, "on_response", event)


def _call(hook: Callable[[Any], object], name: str, event: object) -> None:
    try:
        hook(event)
    except Exception:  # observing a call must never change its outcome: logged, not raised
        logger.exception("The %s hook %r raised; the call goes on without it", name, hook)
