"""Observability: ``DOS_AI_LOG``, per-attempt ``Hooks`` and OpenTelemetry spans (``tracing``).

Over real sockets: the scripted aiohttp server of ``conftest`` (for exact statuses and
request ids) and the emulator. Spans go to the OpenTelemetry SDK's in-memory exporter.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import dosai_async as d
from dosai_async.testing import DosAIEmulator
from tests._cli import dosai
from tests._rawserver import MESSAGES, refused_port
from tests.conftest import Scripted

KEY = "dos_sk_observability_0123456789"
LOGGER = logging.getLogger("dosai_async")


def client(base_url: str, **options: Any) -> d.AsyncDosAI:
    options.setdefault("retry", d.RetryPolicy.zero_wait())
    options.setdefault("api_key", KEY)
    return d.AsyncDosAI(base_url=base_url, **options)


class Recorder:
    """Hooks that keep every event they are given."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.hooks = d.Hooks(
            on_request=self.events.append,
            on_response=self.events.append,
            on_retry=self.events.append,
        )

    def of(self, kind: type[Any]) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]


@pytest.fixture
def logger_level() -> Iterator[None]:
    """Give the ``dosai_async`` logger its level back after a test that sets it."""
    level = LOGGER.level
    yield
    LOGGER.setLevel(level)


# -- hooks --------------------------------------------------------------------------------------


async def test_hooks_see_every_attempt_of_a_retried_call(
    scripted: tuple[Scripted, str],
) -> None:
    """429, 500, then 200: three request and response events, two retries with their reasons."""
    server, base_url = scripted
    server.reply(429, {"error": {"message": "slow down"}}).reply(500, {"error": {"message": "x"}})
    server.reply(200, None, **{"x-request-id": "req_3"})
    seen = Recorder()
    async with client(base_url, hooks=seen.hooks) as c:
        await c.chat.completions.create(messages=MESSAGES)
    url = f"{base_url}/chat/completions"
    assert seen.of(d.RequestEvent) == [d.RequestEvent("POST", url, n) for n in (1, 2, 3)]
    responses = seen.of(d.ResponseEvent)
    assert [(r.attempt, r.status_code) for r in responses] == [(1, 429), (2, 500), (3, 200)]
    errors = [type(r.error) for r in responses]
    assert errors == [d.RateLimitError, d.InternalServerError, type(None)]
    assert responses[2].request_id == "req_3"
    assert all(r.elapsed >= 0 for r in responses)
    retries = seen.of(d.RetryEvent)
    assert [(r.attempt, r.reason, r.delay) for r in retries] == [(1, "429", 0.0), (2, "500", 0.0)]
    assert [type(event).__name__ for event in seen.events] == [
        "RequestEvent", "ResponseEvent", "RetryEvent",
        "RequestEvent", "ResponseEvent", "RetryEvent",
        "RequestEvent", "ResponseEvent",
    ]  # fmt: skip


async def test_hooks_see_connection_failures() -> None:
    """No server: each attempt ends with no status and an APIConnectionError; the retry
    reason names the error class."""
    seen = Recorder()
    async with client(f"http://127.0.0.1:{refused_port()}/v1", hooks=seen.hooks) as c:
        with pytest.raises(d.APIConnectionError):
            await c.chat.completions.create(messages=MESSAGES)
    responses = seen.of(d.ResponseEvent)
    assert [(r.attempt, r.status_code) for r in responses] == [(1, None), (2, None), (3, None)]
    assert all(isinstance(r.error, d.APIConnectionError) for r in responses)
    assert [r.reason for r in seen.of(d.RetryEvent)] == ["APIConnectionError"] * 2


async def test_hooks_see_a_stream_attempt(emu: DosAIEmulator) -> None:
    """A stream's attempt reports its status and request id once its first content arrived."""
    seen = Recorder()
    c = client(emu.base_url, api_key=emu.api_key, hooks=seen.hooks)
    async with c, c.chat.completions.stream(messages=MESSAGES) as stream:
        await stream.final()
    (response,) = seen.of(d.ResponseEvent)
    assert (response.attempt, response.status_code, response.error) == (1, 200, None)
    assert response.request_id == stream.request_id


async def test_a_hook_that_raises_is_logged_and_the_call_goes_on(
    scripted: tuple[Scripted, str], caplog: pytest.LogCaptureFixture
) -> None:
    """A broken metrics hook never fails the call: its error is logged with the hook's name."""
    _, base_url = scripted

    def broken(event: d.ResponseEvent) -> None:
        raise RuntimeError("metrics backend down")

    async with client(base_url, hooks=d.Hooks(on_response=broken)) as c:
        done = await c.chat.completions.create(messages=MESSAGES)
    assert done.choices[0].message.content == "Paris."
    (record,) = [r for r in caplog.records if r.name == "dosai_async"]
    assert record.levelno == logging.ERROR
    assert "on_response hook" in record.getMessage()
    assert record.exc_info is not None
    assert "metrics backend down" in str(record.exc_info[1])


def test_hooks_must_be_plain_functions() -> None:
    """An async hook would never be awaited: it is refused when the Hooks are built."""

    async def later(event: d.RequestEvent) -> None:
        pass

    with pytest.raises(TypeError, match=r"Hooks.on_request must be a plain function"):
        d.Hooks(on_request=later)
    with pytest.raises(TypeError, match=r"Hooks.on_retry must be a function or None"):
        d.Hooks(on_retry="print")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"hooks must be a Hooks\(...\) object"):
        d.AsyncDosAI(api_key=KEY, hooks={"on_request": print})  # type: ignore[arg-type]


# -- DOS_AI_LOG ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("logger_level")
async def test_dos_ai_log_debug_logs_each_attempt_without_the_key(
    scripted: tuple[Scripted, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """DOS_AI_LOG=debug: one line per attempt (method, URL, status, attempt, ms, request id)
    and the retry line; the key appears nowhere."""
    server, base_url = scripted
    server.reply(503, {"error": {"message": "busy"}}, **{"x-request-id": "req_1"})
    server.reply(200, None, **{"x-request-id": "req_2"})
    monkeypatch.setenv("DOS_AI_LOG", "debug")
    async with client(base_url) as c:  # DOS_AI_LOG is read here
        await c.chat.completions.create(messages=MESSAGES)
    lines = [r.getMessage() for r in caplog.records if r.name == "dosai_async"]
    url = f"{base_url}/chat/completions"
    assert lines[0].startswith(f"POST {url} -> 503 (attempt 1, ")
    assert lines[0].endswith(" ms, request id req_1)")
    assert lines[1].startswith("Retrying POST /chat/completions after 503 (attempt 1 of 3)")
    assert lines[2].startswith(f"POST {url} -> 200 (attempt 2, ")
    assert lines[2].endswith(" ms, request id req_2)")
    assert KEY not in caplog.text


@pytest.mark.usefixtures("logger_level")
async def test_dos_ai_log_info_logs_retries_only(
    scripted: tuple[Scripted, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """DOS_AI_LOG=info shows the retries, not every attempt (openai's OPENAI_LOG=info)."""
    server, base_url = scripted
    server.reply(429, {"error": {"message": "slow down"}})
    monkeypatch.setenv("DOS_AI_LOG", "INFO")
    async with client(base_url) as c:
        await c.chat.completions.create(messages=MESSAGES)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "dosai_async"]
    assert line.startswith("Retrying POST /chat/completions after 429")


def test_an_unknown_dos_ai_log_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """DOS_AI_LOG=verbose: DosAIError naming the variable, the value and the choices."""
    monkeypatch.setenv("DOS_AI_LOG", "verbose")
    expected = r"DOS_AI_LOG must be one of debug, info, warning, error, critical, not 'verbose'"
    with pytest.raises(d.DosAIError, match=expected):
        d.AsyncDosAI(api_key=KEY)


@pytest.mark.usefixtures("logger_level")
async def test_dos_ai_log_warning_quiets_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """DOS_AI_LOG=warning (set for a whole deployment) is a level, not an error."""
    monkeypatch.setenv("DOS_AI_LOG", "Warning")
    async with d.AsyncDosAI(api_key=KEY) as c:
        assert c.base_url
    assert LOGGER.level == logging.WARNING


def test_the_cli_shows_request_lines_with_dos_ai_log_debug() -> None:
    """``DOS_AI_LOG=debug dosai chat --local hi``: the answer on stdout, the request line on
    stderr, no key."""
    result = dosai("chat", "--local", "hi", DOS_AI_LOG="debug")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    (line,) = [ln for ln in result.stderr.splitlines() if "/v1/chat/completions" in ln]
    assert "dosai_async DEBUG] POST http://127.0.0.1:" in line
    assert "-> 200 (attempt 1, " in line
    assert ", request id " in line
    assert "dos_sk" not in result.stderr


def test_the_cli_reports_a_bad_dos_ai_log() -> None:
    """A bad DOS_AI_LOG is an error message and a failing exit code, not a traceback."""
    result = dosai("chat", "--local", "hi", DOS_AI_LOG="loud")
    assert result.returncode != 0
    assert "DOS_AI_LOG must be one of debug, info, warning, error, critical, not 'loud'" in (
        result.stderr
    )


# -- OpenTelemetry ------------------------------------------------------------------------------

EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The in-memory exporter behind the process's tracer provider (set once: OpenTelemetry
    allows one global provider), emptied for each test."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
        trace.set_tracer_provider(provider)
    EXPORTER.clear()
    yield EXPORTER
    EXPORTER.clear()


def only_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    (span,) = exporter.get_finished_spans()
    return span


async def test_a_call_is_one_span_with_genai_attributes(
    scripted: tuple[Scripted, str], spans: InMemorySpanExporter
) -> None:
    """One CLIENT span "chat dos-ai" with the GenAI semantic conventions' attributes."""
    _, base_url = scripted
    async with client(base_url, tracing=True) as c:
        await c.chat.completions.create(messages=MESSAGES, max_tokens=5, temperature=0.5)
    span = only_span(spans)
    assert span.name == "chat dos-ai"
    assert span.kind == trace.SpanKind.CLIENT
    port = int(base_url.rsplit(":", 1)[1].split("/")[0])
    assert dict(span.attributes or {}) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "dos_ai",
        "gen_ai.provider.name": "dos_ai",
        "gen_ai.request.model": "dos-ai",
        "gen_ai.request.max_tokens": 5,
        "gen_ai.request.temperature": 0.5,
        "gen_ai.response.model": "dos-ai",
        "gen_ai.response.id": "chatcmpl-1",
        "gen_ai.usage.input_tokens": 9,
        "gen_ai.usage.output_tokens": 2,
        "gen_ai.response.finish_reasons": ("stop",),
        "server.address": "127.0.0.1",
        "server.port": port,
    }
    assert span.status.status_code == trace.StatusCode.UNSET
    assert [event.name for event in span.events] == ["dos_ai.attempt"]


async def test_attempts_and_retries_are_span_events(
    scripted: tuple[Scripted, str], spans: InMemorySpanExporter
) -> None:
    """A 429 then a 200: two attempt events with their status, a retry event between."""
    server, base_url = scripted
    server.reply(429, {"error": {"message": "slow down"}})
    async with client(base_url, tracing=True) as c:
        await c.chat.completions.create(messages=MESSAGES)
    events = only_span(spans).events
    assert [event.name for event in events] == ["dos_ai.attempt", "dos_ai.retry", "dos_ai.attempt"]
    first, retry, second = (dict(event.attributes or {}) for event in events)
    assert (first["dos_ai.attempt"], first["http.response.status_code"]) == (1, 429)
    assert first["error.type"] == "RateLimitError"
    assert (retry["dos_ai.attempt"], retry["dos_ai.retry.reason"]) == (1, "429")
    assert (second["dos_ai.attempt"], second["http.response.status_code"]) == (2, 200)


async def test_a_failed_call_sets_error_type(
    scripted: tuple[Scripted, str], spans: InMemorySpanExporter
) -> None:
    """A call that fails ends its span with status ERROR and ``error.type``."""
    server, base_url = scripted
    server.reply(400, {"error": {"message": "bad"}})
    async with client(base_url, tracing=True) as c:
        with pytest.raises(d.BadRequestError):
            await c.chat.completions.create(messages=MESSAGES)
    span = only_span(spans)
    assert (span.attributes or {})["error.type"] == "BadRequestError"
    assert span.status.status_code == trace.StatusCode.ERROR


async def test_a_stream_span_ends_when_the_stream_ends(
    emu: DosAIEmulator, spans: InMemorySpanExporter
) -> None:
    """The span of a stream stays open while it is read and ends with its final usage."""
    c = client(emu.base_url, api_key=emu.api_key, tracing=True)
    usage = {"include_usage": True}
    async with c, c.chat.completions.stream(messages=MESSAGES, stream_options=usage) as stream:
        assert spans.get_finished_spans() == ()
        final = await stream.final()
    span = only_span(spans)
    attributes = dict(span.attributes or {})
    assert attributes["gen_ai.response.id"] == final.id
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert final.usage is not None
    assert attributes["gen_ai.usage.output_tokens"] == final.usage.completion_tokens


async def test_no_span_without_tracing(
    scripted: tuple[Scripted, str], spans: InMemorySpanExporter
) -> None:
    """Tracing is opt-in: a client without ``tracing=True`` makes no span."""
    _, base_url = scripted
    async with client(base_url) as c:
        await c.chat.completions.create(messages=MESSAGES)
    assert spans.get_finished_spans() == ()


def test_tracing_without_opentelemetry_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """tracing=True without opentelemetry-api: DosAIError with the pip command."""
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    monkeypatch.setitem(sys.modules, "dosai_async._core._telemetry", None)
    with pytest.raises(d.DosAIError, match=r"pip install 'dosai-async\[otel\]'"):
        d.AsyncDosAI(api_key=KEY, tracing=True)
