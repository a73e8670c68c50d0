"""OpenTelemetry spans for API calls: the only module that imports ``opentelemetry``.

Loaded only by a client made with ``tracing=True`` (``pip install 'dosai-async[otel]'``):
without it nothing here is imported and no call pays for tracing. Only
``opentelemetry-api`` is needed; without an SDK tracer provider its spans are no-ops.

One ``CLIENT`` span per call, named ``{operation} {model}`` (``chat dos-ai``) with the
GenAI semantic conventions' attributes; each attempt and each retry is an event on it. A
stream's span ends when the stream ends (read to the end, closed, or failed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import trace

from dosai_async._version import __version__

PROVIDER = "dos_ai"

#: The operation each endpoint performs, as ``gen_ai.operation.name`` spells it.
_OPERATIONS = {"/chat/completions": "chat", "/embeddings": "embeddings"}

#: Request body fields recorded on the span, and their attribute names.
_REQUEST_FIELDS = {
    "max_tokens": "gen_ai.request.max_tokens",
    "max_completion_tokens": "gen_ai.request.max_tokens",
    "temperature": "gen_ai.request.temperature",
    "top_p": "gen_ai.request.top_p",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "presence_penalty": "gen_ai.request.presence_penalty",
    "seed": "gen_ai.request.seed",
}


class Tracer:
    """Starts one span per call for a client talking to ``base_url``."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        self._server: dict[str, Any] = {"server.address": parts.hostname, "server.port": port}
        self._tracer = trace.get_tracer("dosai_async", __version__)

    def start(self, method: str, path: str, body: Mapping[str, Any] | None) -> CallSpan:
        """Open the span of one call (the current span, if any, is its parent)."""
        operation = _OPERATIONS.get(path)
        model = body.get("model") if body is not None else None
        attributes = {**self._server, "gen_ai.system": PROVIDER, "gen_ai.provider.name": PROVIDER}
        if operation is not None:
            attributes["gen_ai.operation.name"] = operation
        if isinstance(model, str):
            attributes["gen_ai.request.model"] = model
        attributes.update(_request_attributes(body))
        name = f"{operation} {model}" if operation and model else f"{method} {path}"
        span = self._tracer.start_span(name, kind=trace.SpanKind.CLIENT, attributes=attributes)
        return CallSpan(span)


class CallSpan:
    """The span of one call: attempts and retries become events, ``finish`` ends it."""

    __slots__ = ("_span",)

    def __init__(self, span: trace.Span) -> None:
        self._span = span

    def attempt(
        self,
        attempt: int,
        elapsed: float,
        status: int | None,
        request_id: str | None,
        error: BaseException | None,
    ) -> None:
        """Record one attempt as a ``dos_ai.attempt`` event."""
        attributes: dict[str, Any] = {"dos_ai.attempt": attempt, "dos_ai.elapsed_ms": elapsed * 1e3}
        if status is not None:
            attributes["http.response.status_code"] = status
        if request_id:
            attributes["dos_ai.request_id"] = request_id
        if error is not None:
            attributes["error.type"] = type(error).__name__
        self._span.add_event("dos_ai.attempt", attributes)

    def retry(self, attempt: int, delay: float, reason: str) -> None:
        """Record a decision to retry as a ``dos_ai.retry`` event."""
        attributes: dict[str, Any] = {
            "dos_ai.attempt": attempt,
            "dos_ai.retry.delay_s": delay,
            "dos_ai.retry.reason": reason,
        }
        self._span.add_event("dos_ai.retry", attributes)

    def finish(self, result: object, error: BaseException | None) -> None:
        """Set the response attributes (or the error) and end the span."""
        span = self._span
        if result is not None:
            span.set_attributes(_response_attributes(result))
        if error is not None:
            span.set_attribute("error.type", type(error).__name__)
            span.set_status(trace.Status(trace.StatusCode.ERROR, str(error)))
        span.end()


def _request_attributes(body: Mapping[str, Any] | None) -> dict[str, Any]:
    if body is None:
        return {}
    found = {name: body[key] for key, name in _REQUEST_FIELDS.items() if key in body}
    stop = body.get("stop")
    if stop is not None:
        found["gen_ai.request.stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    return {name: value for name, value in found.items() if isinstance(value, (int, float, list))}


def _response_attributes(result: object) -> dict[str, Any]:
    """Read by name from a ``ChatCompletion`` (or any model with these fields)."""
    found: dict[str, Any] = {}
    for name, value in (
        ("gen_ai.response.model", getattr(result, "model", None)),
        ("gen_ai.response.id", getattr(result, "id", None)),
    ):
        if isinstance(value, str) and value:
            found[name] = value
    usage = getattr(result, "usage", None)
    for name, field in (("input_tokens", "prompt_tokens"), ("output_tokens", "completion_tokens")):
        count = getattr(usage, field, None)
        if isinstance(count, int):
            found[f"gen_ai.usage.{name}"] = count
    choices = getattr(result, "choices", None) or ()
    reasons = [reason for c in choices if (reason := getattr(c, "finish_reason", None))]
    if reasons:
        found["gen_ai.response.finish_reasons"] = [str(reason) for reason in reasons]
    return found
