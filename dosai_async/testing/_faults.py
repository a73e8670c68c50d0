"""Faults the emulator can inject, as frozen value objects.

Every fault is a pure ``Plan -> Plan`` function (``Fault.apply``): it rewrites what the
emulator was about to send (see ``_plan``). Faults are built by the ``Fault.*`` constructors,
from Python or from the ``X-Emulator-Fault`` request header (``_fault_header`` only calls
these same constructors), so both ways share one code path.

Which plans a fault touches:
- ``status``, ``stall_before_headers`` and ``reset_before_headers`` act on every response,
  even one that would have been an error.
- The others damage a successful body only (an auth error stays an auth error). They count
  SSE events on a stream; on a JSON body any "after N events" point is the middle of the
  body instead, so e.g. ``reset_mid_stream`` also resets a non-streaming reply mid-body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
from attrs.validators import ge, gt, le, optional

from ._plan import (
    DONE,
    JSON_TYPE,
    Piece,
    Plan,
    dumps,
    error_body,
    sse_event,
)

__all__ = ["Fault"]

_HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
# Valid SSE framing around a JSON text that stops mid-value.
_BROKEN_JSON_EVENT = b'data: {"id": "chatcmpl-broken", "choices": [{"index": 0, "delta": {"c\n\n'


@attrs.frozen
class Fault:
    """A way for the emulator to misbehave on one response; build one with a constructor.

    Queue faults with ``DosAIEmulator.enqueue``, or name one in a request header:
    ``X-Emulator-Fault: <constructor name with - for _>[=<main argument>][; <arg>=<value>]...``
    e.g. ``stall-mid-stream=0.2; after=3`` is ``Fault.stall_mid_stream(3, 0.2)``
    (``after`` stands for ``after_events``; see ``parse_fault_header``). Faults compare equal
    by value, so tests can assert on ``emu.requests[i].fault``.
    """

    # A stream request answered with this fault gets a JSON body instead (see `not_sse`).
    serves_json: ClassVar[bool] = False

    def apply(self, plan: Plan) -> Plan:
        """Return the plan as this fault alters it."""
        raise NotImplementedError

    @staticmethod
    def status(
        status: int,
        *,
        body: str | bytes | Mapping[str, Any] | None = None,
        retry_after: float | str | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """Answer with ``status``; the body defaults to DOS's error body for that status."""
        data, guessed = _body_bytes(status, body)
        extra = dict(headers or {})
        if retry_after is not None:
            extra["Retry-After"] = _seconds_text(retry_after)
        return StatusFault(status, data, content_type or guessed, tuple(extra.items()))

    @staticmethod
    def html_502() -> Fault:
        """A proxy's HTML "502 Bad Gateway" page instead of a JSON error."""
        return StatusFault(502, _HTML_502, "text/html")

    @staticmethod
    def stall_before_headers(seconds: float) -> Fault:
        """Wait ``seconds`` before sending anything, then answer normally."""
        return StallFault(seconds, None)

    @staticmethod
    def stall_mid_stream(after_events: int = 1, seconds: float = 1.0) -> Fault:
        """Pause ``seconds`` after ``after_events`` events, then finish the stream normally."""
        return StallFault(seconds, after_events)

    @staticmethod
    def keepalive_only(
        interval: float = 0.05, duration: float = 0.2, *, then_reply: bool = False
    ) -> Fault:
        """Send only ``: keep-alive`` comments every ``interval`` for ``duration``, then end.

        JSON bodies get a newline instead, as some gateways do. With ``then_reply`` the
        real reply follows the keep-alives instead of the body ending there.
        """
        return KeepAliveFault(interval, duration, then_reply)

    @staticmethod
    def reset_before_headers() -> Fault:
        """Drop the connection (TCP RST) before any response byte."""
        return ResetFault(None)

    @staticmethod
    def reset_mid_body() -> Fault:
        """Send the headers (with the full Content-Length) and half the body, then RST."""
        return ResetFault(0)

    @staticmethod
    def reset_mid_stream(after_events: int = 1) -> Fault:
        """Send ``after_events`` SSE events, then drop the connection (TCP RST)."""
        return ResetFault(after_events)

    @staticmethod
    def stream_error(
        after_events: int = 1,
        message: str = "Internal error during generation",
        *,
        code: int = 500,
        type: str = "server_error",
        event: str | None = None,
    ) -> Fault:
        """After ``after_events`` events, an in-band ``data: {"error": ...}`` then ``[DONE]``.

        ``event="error"`` frames it as ``event: error`` (Groq style). On a JSON body the
        status stays 200 and the body is the error object, as some gateways do.
        """
        return StreamErrorFault(after_events, message, code, type, event)

    @staticmethod
    def malformed_sse(after_events: int = 1) -> Fault:
        """From event ``after_events`` on, events lose their blank-line separator.

        A conforming SSE parser then merges them into one event whose data is not JSON.
        A JSON body is instead sent with SSE framing (``data: {...}``).
        """
        return MalformedSSEFault(after_events)

    @staticmethod
    def malformed_json(after_events: int = 1) -> Fault:
        """Insert an event whose JSON stops mid-value; a JSON body is cut in half."""
        return MalformedJSONFault(after_events)

    @staticmethod
    def truncate_stream(after_events: int = 1) -> Fault:
        """End cleanly after ``after_events`` events: no finish_reason, no ``[DONE]``."""
        return TruncateFault(after_events)

    @staticmethod
    def not_sse() -> Fault:
        """Answer a stream request with a 200 JSON completion instead of SSE."""
        return NotSSEFault()

    @staticmethod
    def batch_failed(message: str = "The batch input file failed validation") -> Fault:
        """(``POST /v1/batches``) The batch fails validation: ``status: failed``, ``errors``."""
        return BatchFault(fail=message)

    @staticmethod
    def batch_expired(after_lines: int = 0) -> Fault:
        """(``POST /v1/batches``) Expire after ``after_lines`` lines.

        The lines that never ran go to the error file as ``batch_expired``.
        """
        return BatchFault(expire_after=after_lines)

    @staticmethod
    def batch_line_errors(every: int = 2, status: int = 500) -> Fault:
        """(``POST /v1/batches``) Every ``every``-th line answers ``status`` (in the error file)."""
        return BatchFault(error_every=every, error_status=status)


@attrs.frozen
class StatusFault(Fault):
    """Any status with any body and headers (see ``Fault.status``)."""

    status_code: int = attrs.field(validator=[ge(100), le(599)])
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()

    def apply(self, plan: Plan) -> Plan:
        """Replace the whole response, sent at once: a gateway rejects before generating."""
        return Plan(
            self.status_code,
            self.content_type,
            (Piece(self.body),),
            headers=self.headers,
            content_length=len(self.body),
        )


@attrs.frozen
class StallFault(Fault):
    """A pause before the headers (``after_events`` None) or between two events."""

    seconds: float = attrs.field(validator=ge(0))
    after_events: int | None = attrs.field(validator=optional(ge(0)))

    def apply(self, plan: Plan) -> Plan:
        """Add the pause where it belongs."""
        if self.after_events is None:
            return attrs.evolve(plan, head_delay=plan.head_delay + self.seconds)
        if not plan.ok:
            return plan
        head, tail = plan.cut(self.after_events)
        tail = tail or (Piece(b""),)
        stalled = Piece(tail[0].data, tail[0].delay + self.seconds)
        return attrs.evolve(plan, pieces=(*head, stalled, *tail[1:]))


@attrs.frozen
class KeepAliveFault(Fault):
    """Keep-alive comments only, optionally followed by the real reply."""

    interval: float = attrs.field(validator=gt(0))
    duration: float = attrs.field(validator=ge(0))
    then_reply: bool

    def apply(self, plan: Plan) -> Plan:
        """Put the keep-alives in front of (or instead of) the body."""
        if not plan.ok:
            return plan
        beat = b": keep-alive\n\n" if plan.sse else b"\n"
        count = max(1, round(self.duration / self.interval))
        beats = tuple(Piece(beat, self.interval) for _ in range(count))
        return _rebody(plan, beats + plan.pieces if self.then_reply else beats)


@attrs.frozen
class ResetFault(Fault):
    """A TCP reset before the headers (``after_events`` None) or part-way through the body."""

    after_events: int | None = attrs.field(validator=optional(ge(0)))

    def apply(self, plan: Plan) -> Plan:
        """Mark where the connection is aborted; the declared length is kept on purpose."""
        if self.after_events is None:
            return attrs.evolve(plan, abort_before_headers=True)
        if not plan.ok:
            return plan
        head, _ = plan.cut(self.after_events)
        return attrs.evolve(plan, pieces=head, abort_at_end=True)


@attrs.frozen
class StreamErrorFault(Fault):
    """An error reported inside a 200 response (see ``Fault.stream_error``)."""

    after_events: int = attrs.field(validator=ge(0))
    message: str
    code: int
    type: str
    event: str | None

    def apply(self, plan: Plan) -> Plan:
        """Cut the stream and append the error event and ``[DONE]``."""
        if not plan.ok:
            return plan
        fields = {"message": self.message, "type": self.type, "param": None, "code": self.code}
        error = {"error": fields}
        if not plan.sse:
            return _rebody(plan, (Piece(dumps(error)),))
        head, _ = plan.cut(self.after_events)
        return attrs.evolve(plan, pieces=(*head, Piece(sse_event(error, self.event)), Piece(DONE)))


@attrs.frozen
class MalformedSSEFault(Fault):
    """SSE events that run together (see ``Fault.malformed_sse``)."""

    after_events: int = attrs.field(validator=ge(0))

    def apply(self, plan: Plan) -> Plan:
        """Drop the blank line after each event from ``after_events`` on, but the last."""
        if not plan.ok:
            return plan
        if not plan.sse:
            return _rebody(plan, (Piece(b"data: " + plan.body + b"\n\n"),))
        head, tail = plan.cut(self.after_events)
        # The last event keeps its blank line, so the merged event is dispatched.
        merged = tuple(Piece(p.data.removesuffix(b"\n"), p.delay) for p in tail[:-1])
        return attrs.evolve(plan, pieces=head + merged + tail[-1:])


@attrs.frozen
class MalformedJSONFault(Fault):
    """A JSON text that stops mid-value (see ``Fault.malformed_json``)."""

    after_events: int = attrs.field(validator=ge(0))

    def apply(self, plan: Plan) -> Plan:
        """Insert a broken event, or keep only the first half of a JSON body."""
        if not plan.ok:
            return plan
        head, tail = plan.cut(self.after_events)
        if not plan.sse:
            return _rebody(plan, head)
        return attrs.evolve(plan, pieces=(*head, Piece(_BROKEN_JSON_EVENT), *tail))


@attrs.frozen
class TruncateFault(Fault):
    """A body that ends cleanly but early (see ``Fault.truncate_stream``)."""

    after_events: int = attrs.field(validator=ge(0))

    def apply(self, plan: Plan) -> Plan:
        """Keep only the pieces before the cut."""
        return _rebody(plan, plan.cut(self.after_events)[0]) if plan.ok else plan


@attrs.frozen
class NotSSEFault(Fault):
    """A JSON completion for a stream request; the server reads ``serves_json``."""

    serves_json: ClassVar[bool] = True

    def apply(self, plan: Plan) -> Plan:
        """Nothing to change: the server already rendered the reply as JSON."""
        return plan


@attrs.frozen
class BatchFault(Fault):
    """How a batch created with this fault misbehaves; its HTTP answer is left alone.

    Other routes ignore it. See ``Fault.batch_failed``, ``batch_expired``, ``batch_line_errors``.
    """

    fail: str | None = None
    expire_after: int | None = attrs.field(default=None, validator=optional(ge(0)))
    error_every: int | None = attrs.field(default=None, validator=optional(gt(0)))
    error_status: int = attrs.field(default=500, validator=[ge(400), le(599)])

    def apply(self, plan: Plan) -> Plan:
        """Nothing to change: the batch runner reads the fault."""
        return plan

    def line_error(self, number: int) -> int | None:
        """The status that line ``number`` (from 1) fails with, if any."""
        if self.error_every is not None and number % self.error_every == 0:
            return self.error_status
        return None


def _rebody(plan: Plan, pieces: tuple[Piece, ...]) -> Plan:
    """New body pieces; a declared Content-Length follows them (the body is "complete")."""
    length = None if plan.content_length is None else sum(len(p.data) for p in pieces)
    return attrs.evolve(plan, pieces=pieces, content_length=length)


def _body_bytes(status: int, body: str | bytes | Mapping[str, Any] | None) -> tuple[bytes, str]:
    """The bytes of a status fault's body and the content type they look like."""
    if body is None:
        return dumps(error_body(status)), JSON_TYPE
    if isinstance(body, Mapping):
        return dumps(body), JSON_TYPE
    data = body.encode() if isinstance(body, str) else body
    start = data.lstrip()[:1]
    if start == b"<":
        return data, "text/html"
    return data, JSON_TYPE if start in (b"{", b"[") else "text/plain"


def _seconds_text(value: float | str) -> str:
    """``1`` rather than ``1.0``, since most clients parse Retry-After as an integer."""
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)
