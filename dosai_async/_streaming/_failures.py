"""The errors of a body that cannot be read as events (``_stream``'s rare paths, moved here
to keep that module short)."""

from __future__ import annotations

from dosai_async._core._error_bodies import ResponseErrors
from dosai_async._core._exceptions import APIConnectionError, DosAIError
from dosai_async._models import _converter

from ._sse import EventTooLarge


def too_large(exc: EventTooLarge) -> APIConnectionError:
    """The error of a stream abandoned for an event over ``max_event_size``."""
    return APIConnectionError(
        f"The stream was abandoned: {exc}. A server that sends no line ending or no blank "
        f"line is broken or hostile; if events this large are expected, raise "
        f"AsyncDosAI(max_event_size=...) (now {exc.limit:,} bytes)."
    )


def ended_early(events: int, *, started: bool) -> APIConnectionError:
    """The error of a body that ended without ``[DONE]`` and with a choice unfinished."""
    if not events:  # empty, or keep-alives only: a dropped stream, safe to retry
        return APIConnectionError(
            "The stream ended before its first event (the body was empty or held only "
            "keep-alive comments)."
        )
    return APIConnectionError(
        "The stream was cut off before it finished (no [DONE] and a choice without "
        "finish_reason); the partial result is attached.",
        response_started=started,
    )


def not_an_event_stream(prefix: bytes, errors: ResponseErrors) -> DosAIError:
    """The error of a body that produced no event: a JSON error sent in-band, or whatever
    ``prefix`` (its first bytes) shows it was instead."""
    try:
        payload = _converter.loads(prefix)
    except _converter.JSONDecodeError:
        payload = None
    if isinstance(payload, dict) and ("error" in payload or payload.get("object") == "error"):
        return errors.in_band(prefix)
    expected = "expected an event stream (text/event-stream) but got"
    return errors.invalid(expected, prefix, quote=300)
