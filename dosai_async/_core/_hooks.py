"""Per-attempt hooks: the events a caller can plug metrics into, and ``Hooks`` to hold them.

Hooks are plain (sync) functions called with frozen event objects, on the event loop, in
the task that makes the call. Plain functions because a hook is a counter or a histogram
update: awaiting one would put the metrics backend on the request's critical path, and a
slow one would stall every call. A hook that raises is logged (``dosai_async`` logger, at
ERROR, with its traceback) and the call goes on: observing a call never changes its outcome.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import attrs


@attrs.frozen
class RequestEvent:
    """An attempt is about to be sent (``attempt`` counts from 1)."""

    method: str
    url: str
    attempt: int


@attrs.frozen
class ResponseEvent:
    """An attempt ended: with a response (``status_code``) or a failure (``error``).

    ``elapsed`` is in seconds: until the whole body was read, or for a stream until its
    first content (the stream itself is then the caller's). ``error`` is set when the
    attempt failed, an error status included; ``status_code`` is ``None`` when no
    response arrived.
    """

    method: str
    url: str
    attempt: int
    elapsed: float
    status_code: int | None
    request_id: str | None
    error: BaseException | None = None


@attrs.frozen
class RetryEvent:
    """Attempt ``attempt`` failed and the call will retry after ``delay`` seconds.

    ``reason`` is the status code (``"429"``) or the error's class (``"APIConnectionError"``).
    """

    method: str
    url: str
    attempt: int
    delay: float
    reason: str
    error: BaseException


def _sync_callable(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not callable(value):
        raise TypeError(f"Hooks.{attribute.name} must be a function or None, not {value!r}")
    if inspect.iscoroutinefunction(value) or inspect.iscoroutinefunction(
        getattr(value, "__call__", None)  # noqa: B004 - a callable object's async __call__
    ):
        raise TypeError(
            f"Hooks.{attribute.name} must be a plain function: hooks run inline on every "
            f"attempt and are never awaited (got the async function {value!r})"
        )


@attrs.frozen
class Hooks:
    """Functions called on every attempt of every call: ``AsyncDosAI(hooks=Hooks(...))``.

    - ``on_request(RequestEvent)``: before each attempt is sent.
    - ``on_response(ResponseEvent)``: after each attempt, whether it succeeded or failed.
    - ``on_retry(RetryEvent)``: when a failed attempt will be retried, with the wait chosen.

    Plain functions, not ``async def``; one that raises is logged and the call goes on.
    """

    on_request: Callable[[RequestEvent], object] | None = attrs.field(
        default=None, validator=_sync_callable
    )
    on_response: Callable[[ResponseEvent], object] | None = attrs.field(
        default=None, validator=_sync_callable
    )
    on_retry: Callable[[RetryEvent], object] | None = attrs.field(
        default=None, validator=_sync_callable
    )
