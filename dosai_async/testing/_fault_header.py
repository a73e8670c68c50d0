"""The ``X-Emulator-Fault`` header: a one-line way to name a ``Fault``, for other processes.

Syntax, one fault per request; kinds are the ``Fault`` constructor names with ``-`` for ``_``:

    X-Emulator-Fault: <kind>[=<value>][; <param>=<value>]...

``<value>`` fills the kind's main parameter (``_KINDS`` below: the status, the seconds of a
stall, the duration of keep-alives, the message of a stream error, otherwise the event
count). ``after`` stands for ``after-events``. ``body=`` must come last and takes the rest of
the header verbatim, so a body may contain ``;``. Examples: ``status=429; retry-after=1``,
``stall-mid-stream=0.2; after=3``, ``reset-mid-stream=2``, ``stream-error=boom; event=error``,
``status=500; body={"detail": "x"}``. Batch faults (on ``POST /v1/batches``): ``batch-failed``,
``batch-expired=2`` (after 2 lines), ``batch-line-errors=3; status=429``.

The parser converts the text and calls the constructor: the same code path as Python.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from ._faults import Fault

__all__ = ["parse_fault_header"]


def _flag(text: str) -> bool:
    """A header boolean: 1/true/yes/on."""
    return text.strip().lower() in ("1", "true", "yes", "on")


# Header kind -> (constructor, the parameter that `kind=value` fills).
_KINDS: Mapping[str, tuple[Callable[..., Fault], str | None]] = {
    "status": (Fault.status, "status"),
    "html-502": (Fault.html_502, None),
    "stall-before-headers": (Fault.stall_before_headers, "seconds"),
    "stall-mid-stream": (Fault.stall_mid_stream, "seconds"),
    "keepalive-only": (Fault.keepalive_only, "duration"),
    "reset-before-headers": (Fault.reset_before_headers, None),
    "reset-mid-body": (Fault.reset_mid_body, None),
    "reset-mid-stream": (Fault.reset_mid_stream, "after_events"),
    "stream-error": (Fault.stream_error, "message"),
    "malformed-sse": (Fault.malformed_sse, "after_events"),
    "malformed-json": (Fault.malformed_json, "after_events"),
    "truncate-stream": (Fault.truncate_stream, "after_events"),
    "not-sse": (Fault.not_sse, None),
    "batch-failed": (Fault.batch_failed, "message"),
    "batch-expired": (Fault.batch_expired, "after_lines"),
    "batch-line-errors": (Fault.batch_line_errors, "every"),
}
# Header parameter -> how its text becomes the constructor's argument.
_PARAMS: Mapping[str, Callable[[str], object]] = {
    "status": int,
    "code": int,
    "after_events": int,
    "after_lines": int,
    "every": int,
    "seconds": float,
    "interval": float,
    "duration": float,
    "then_reply": _flag,
    "retry_after": str,
    "content_type": str,
    "message": str,
    "type": str,
    "event": str,
    "body": str,
}
_BODY = re.compile(r"(?:^|;)\s*body=")


def parse_fault_header(text: str) -> Fault:
    """Parse an ``X-Emulator-Fault`` header into the ``Fault`` its constructor builds.

    ``parse_fault_header("stall-mid-stream=0.2; after=3") == Fault.stall_mid_stream(3, 0.2)``.
    Raises ValueError, naming the problem, for an unknown kind or parameter or a bad value.
    """
    head, body = _split_body(text)
    items = [item.strip() for item in head.split(";") if item.strip()]
    if not items:
        raise ValueError("empty fault header")
    kind, _, value = items[0].partition("=")
    factory, first = _KINDS.get(kind.strip().lower(), (None, None))
    if factory is None:
        raise ValueError(f"unknown fault {kind.strip()!r}; known: {', '.join(_KINDS)}")
    args = dict(_param(item) for item in items[1:])
    if value.strip():
        if first is None:
            raise ValueError(f"fault {kind!r} takes no value")
        args[first] = _convert(first, value.strip())
    if body is not None:
        args["body"] = body
    try:
        return factory(**args)
    except TypeError as exc:
        raise ValueError(f"bad parameters for fault {kind!r}: {exc}") from None


def _split_body(text: str) -> tuple[str, str | None]:
    """Take ``body=...`` (always last) off the header, since a body may contain ``;``."""
    match = _BODY.search(text)
    if match is None:
        return text, None
    return text[: match.start()], text[match.end() :]


def _param(item: str) -> tuple[str, object]:
    """One ``name=value`` header parameter, converted for its constructor argument."""
    name, equals, value = item.partition("=")
    key = name.strip().lower().replace("-", "_")
    key = "after_events" if key == "after" else key
    if not equals or key not in _PARAMS:
        raise ValueError(f"bad fault parameter {item!r}")
    return key, _convert(key, value.strip())


def _convert(key: str, value: str) -> object:
    """Convert a header value, turning conversion errors into a readable ValueError."""
    try:
        return _PARAMS[key](value)
    except ValueError:
        raise ValueError(f"bad value {value!r} for fault parameter {key!r}") from None
