"""What the emulator will send for one request, as plain data.

Goal: every response, normal or faulty, is described by one ``Plan`` before any byte is
written, so faults are pure ``Plan -> Plan`` functions (see ``_faults``) and a single writer
(``_send``) owns all socket I/O.

Plan: a status, headers, and the body as a sequence of `Piece`s. For a stream each piece is
one SSE event; for a JSON body there is one piece, which a fault may split. A piece carries
the pause to take before it is written; the writer joins consecutive pieces without a pause
into one ``write``, so a zero-latency stream leaves in a single call (unless ``stream_pieces``:
a file download goes out one chunk per write).

A plan may carry ``effects``: state changes (a charge, a batch to start) the server applies only
if the plan it finally sends, after any fault, is a 2xx. A fault that replaces the response
(``Fault.status``) builds a new plan without them, so a rejected request is not charged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import orjson

JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream; charset=utf-8"
DONE = b"data: [DONE]\n\n"

# DOS's error `type` for each status it documents; anything else is a server error.
_ERROR_TYPES: Mapping[int, tuple[str, str]] = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("authentication_error", "invalid_api_key"),
    402: ("payment_required", "insufficient_credits"),
    403: ("permission_denied", "forbidden"),
    404: ("invalid_request_error", "not_found"),
    409: ("invalid_request_error", "conflict"),
    413: ("invalid_request_error", "context_length_exceeded"),
    422: ("invalid_request_error", "unprocessable_entity"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
    503: ("service_unavailable", "service_unavailable"),
}
_ERROR_MESSAGES: Mapping[int, str] = {
    400: "Bad request",
    401: "Invalid API key",
    402: "Insufficient credits",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "This request exceeds the model's context length",
    422: "Unprocessable request",
    429: "Rate limit exceeded, please retry after the time in Retry-After",
    500: "Internal server error",
    502: "Bad gateway",
    503: "The service is overloaded, please retry later",
    504: "Gateway timeout",
}


@attrs.frozen
class Piece:
    """A run of body bytes, written after waiting ``delay`` seconds."""

    data: bytes
    delay: float = 0.0


@attrs.frozen
class Plan:
    """A complete description of one HTTP response, including how it misbehaves."""

    status: int
    content_type: str
    pieces: tuple[Piece, ...]
    sse: bool = False
    headers: tuple[tuple[str, str], ...] = ()
    # Declared Content-Length; None means chunked transfer encoding (every stream).
    content_length: int | None = None
    head_delay: float = 0.0
    abort_before_headers: bool = False
    abort_at_end: bool = False
    stream_pieces: bool = False
    effects: tuple[object, ...] = ()

    @property
    def ok(self) -> bool:
        """True for a 2xx plan; faults that damage a body only touch these."""
        return 200 <= self.status < 300

    @property
    def body(self) -> bytes:
        """All body bytes of the plan joined."""
        return b"".join(piece.data for piece in self.pieces)

    def cut(self, after_events: int) -> tuple[tuple[Piece, ...], tuple[Piece, ...]]:
        """Split the body after ``after_events`` SSE events, or mid-way through a JSON body."""
        if self.sse:
            return self.pieces[:after_events], self.pieces[after_events:]
        body = self.body
        middle = len(body) // 2
        return (Piece(body[:middle]),), (Piece(body[middle:]),)


def dumps(value: Any) -> bytes:
    """Serialize a JSON value the way every emulator body is serialized."""
    return orjson.dumps(value)


def sse_event(value: Any, event: str | None = None) -> bytes:
    """Frame one JSON value as an SSE event (``data: ...`` and a blank line)."""
    head = b"event: " + event.encode() + b"\n" if event else b""
    return head + b"data: " + orjson.dumps(value) + b"\n\n"


def json_plan(status: int, value: Any, headers: tuple[tuple[str, str], ...] = ()) -> Plan:
    """A plain JSON response with a Content-Length, as vLLM sends it."""
    body = orjson.dumps(value)
    return Plan(status, JSON_TYPE, (Piece(body),), headers=headers, content_length=len(body))


def error_body(
    status: int, message: str | None = None, code: str | int | None = None, param: str | None = None
) -> dict[str, Any]:
    """DOS's error shape: ``{"error": {"message", "type", "code"}}``, plus ``param`` if given."""
    kind, default_code = _ERROR_TYPES.get(status, ("server_error", "server_error"))
    error: dict[str, Any] = {
        "message": message or _ERROR_MESSAGES.get(status, f"HTTP {status}"),
        "type": kind,
        "code": default_code if code is None else code,
    }
    if param is not None:
        error["param"] = param
    return {"error": error}


def error_plan(
    status: int, message: str | None = None, code: str | int | None = None, param: str | None = None
) -> Plan:
    """A JSON error response in DOS's shape."""
    return json_plan(status, error_body(status, message, code, param))
