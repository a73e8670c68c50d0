"""Every emulator fault, triggered from Python (`enqueue`) and by `X-Emulator-Fault` header.

Each fault test runs twice, once per way of injecting it, and asserts the same outcome on the
wire: both ways build the same `Fault` value (checked directly in the parser tests).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import attrs
import pytest

from dosai_async.testing import DosAIEmulator, Fault, parse_fault_header

AUTH = {"Authorization": "Bearer dos_sk_test_0123456789abcd"}
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
VIA = pytest.mark.parametrize("via", ["python", "header"])
DONE = "data: [DONE]"

# The same fault written both ways; the parser tests check each pair is equal.
CASES: Mapping[str, tuple[Fault, str]] = {
    "status-429": (Fault.status(429, retry_after=1), "status=429; retry-after=1"),
    "status-body": (
        Fault.status(503, body={"detail": "down; retry"}),
        'status=503; body={"detail":"down; retry"}',
    ),
    "html-502": (Fault.html_502(), "html-502"),
    "stall-before-headers": (Fault.stall_before_headers(0.15), "stall-before-headers=0.15"),
    "stall-mid-stream": (Fault.stall_mid_stream(2, 0.15), "stall-mid-stream=0.15; after=2"),
    "keepalive-only": (Fault.keepalive_only(0.02, 0.1), "keepalive-only=0.1; interval=0.02"),
    "keepalive-then-reply": (
        Fault.keepalive_only(0.02, 0.06, then_reply=True),
        "keepalive-only=0.06; interval=0.02; then-reply=1",
    ),
    "reset-before-headers": (Fault.reset_before_headers(), "reset-before-headers"),
    "reset-mid-body": (Fault.reset_mid_body(), "reset-mid-body"),
    "reset-mid-stream": (Fault.reset_mid_stream(3), "reset-mid-stream=3"),
    "stream-error": (Fault.stream_error(2, "boom"), "stream-error=boom; after=2"),
    "stream-error-event": (
        Fault.stream_error(1, "boom", code=503, event="error"),
        "stream-error=boom; after=1; code=503; event=error",
    ),
    "malformed-sse": (Fault.malformed_sse(2), "malformed-sse=2"),
    "malformed-json": (Fault.malformed_json(1), "malformed-json; after=1"),
    "truncate-stream": (Fault.truncate_stream(3), "truncate-stream=3"),
    "not-sse": (Fault.not_sse(), "not-sse"),
}


@attrs.define
class Outcome:
    """What a client saw: status, headers, body bytes with arrival times, and any error."""

    status: int | None = None
    headers: Mapping[str, str] = attrs.Factory(dict)
    arrivals: list[tuple[float, bytes]] = attrs.Factory(list)
    error: Exception | None = None
    elapsed: float = 0.0

    @property
    def body(self) -> bytes:
        """Every body byte received."""
        return b"".join(data for _, data in self.arrivals)

    @property
    def data(self) -> list[str]:
        """The `data:` lines of an SSE body, in order."""
        lines = self.body.decode().split("\n")
        return [line for line in lines if line.startswith("data: ")]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp client session."""
    async with aiohttp.ClientSession() as session:
        yield session


async def exchange(
    http: aiohttp.ClientSession,
    emu: DosAIEmulator,
    case: str | None = None,
    via: str = "python",
    *,
    headers: Mapping[str, str] = AUTH,
    **fields: Any,
) -> Outcome:
    """Send one chat request with the named fault injected `via` Python or header."""
    extra = dict(headers)
    if case is not None:
        fault, header = CASES[case]
        if via == "python":
            emu.enqueue(fault)
        else:
            extra["X-Emulator-Fault"] = header
    body = {"model": "dos-ai", "messages": QUESTION, "stream": True, **fields}
    return await _read(http, f"{emu.base_url}/chat/completions", body, extra)


async def _read(
    http: aiohttp.ClientSession, url: str, body: Any, headers: Mapping[str, str]
) -> Outcome:
    """POST and read everything that arrives, keeping arrival times and the error."""
    outcome = Outcome()
    began = time.perf_counter()
    try:
        async with http.post(url, json=body, headers=headers) as response:
            outcome.status, outcome.headers = response.status, response.headers
            async for data in response.content.iter_any():
                outcome.arrivals.append((time.perf_counter() - began, data))
    except aiohttp.ClientError as exc:
        outcome.error = exc
    outcome.elapsed = time.perf_counter() - began
    return outcome


def chunks(outcome: Outcome) -> list[dict[str, Any]]:
    """The JSON chunks of the stream (without `[DONE]`)."""
    return [json.loads(line[6:]) for line in outcome.data if line != DONE]


# -- the header syntax builds the same faults as Python --------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_header_builds_the_same_fault_as_python(case: str) -> None:
    """Each header form parses to exactly the Fault its Python form builds."""
    fault, header = CASES[case]
    assert parse_fault_header(header) == fault


@pytest.mark.parametrize(
    "header",
    [
        "",
        "explode",
        "status=abc",
        "status=42",
        "status=429; colour=red",
        "html-502=3",
        "stall-mid-stream; x",
        "keepalive-only=1; interval=0",
        "truncate-stream=-1",
    ],
)
def test_bad_headers_are_rejected(header: str) -> None:
    """Unknown kinds or parameters and bad or out-of-range values raise ValueError."""
    with pytest.raises(ValueError):
        parse_fault_header(header)


async def test_bad_header_is_answered_with_a_400(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """A request with a bad fault header gets a 400 that explains the problem."""
    outcome = await exchange(http, emu, headers={**AUTH, "X-Emulator-Fault": "explode"})
    assert outcome.status == 400
    error = json.loads(outcome.body)["error"]
    assert error["code"] == "bad_fault_header"
    assert "explode" in error["message"]


# -- each fault, from Python and by header ---------------------------------------------------


@VIA
async def test_status_fault_sends_dos_error_and_retry_after(
    http: aiohttp.ClientSession, emu: DosAIEmulator, via: str
) -> None:
    """A status fault answers 429 with Retry-After and DOS's rate_limit_error body."""
    outcome = await exchange(http, emu, "status-429", via)
    assert outcome.status == 429
    assert outcome.headers["Retry-After"] == "1"
    assert json.loads(outcome.body)["error"]["type"] == "rate_limit_error"
    assert "x-request-id" in outcome.headers


@VIA
async def test_status_fault_sends_any_body(
    http: aiohttp.ClientSession, emu: DosAIEmulator, via: str
) -> None:
    """A status fault can carry any body (here one containing a semicolon)."""
    outcome = await exchange(http, emu, "status-body", via)
    assert outcome.status == 503
    assert outcome.headers["Content-Type"] == "application/json"
    assert json.loads(outcome.body) == {"detail": "down; retry"}


@VIA
async def test_html_502_sends_a_proxy_page(
    http: aiohttp.ClientSession, emu: DosAIEmulator, via: str
) -> None:
    """The proxy fault is a text/html 502 page."""
    outcome = await exchange(http, emu, "html-502", via)
    assert outcome.status == 502
    assert outcome.headers["Content-Type"] == "text/html"
    assert b"<h1>502 Bad Gateway</h1>" in outcome.body


@VIA
async def test_stall_before_headers_delays_then_answers(
    http: aiohttp.ClientSession, emu: DosAIEmulator, via: str
) -> None:
    """Nothing arrives for the stall; then the normal stream follows."""
    outcome = await exchange(http, emu, "stall-before-headers", via)
    assert outcome.arrivals[0][0] >= 0.15
    assert outcome.status == 200
    assert outcome.data[-1] == DONE


@VIA
async def test_stall_mid_stream_pauses_after_n_events(
    http: aiohttp.ClientSession, emu: DosAIEmulator, via: str
) -> None:
    """Two events arrive at once, then a pause, then the rest of the stream."""
    outcome = await exchange(http, emu, "stall-mid-stream", via)
    times = [at for at, _ in outcome.arrivals]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    pause = max(range(len(gaps)), key=gaps.__getitem__)
    assert gaps[pause] >= 0.14
    before = b"".join(data for _, data in outcome.arrivals[: pause + 1])
    assert before.count(b"data: ") == 2
    assert outcome.data[-1] == DONE


@VIA
async def test_keepalive_only_sends_comments_and_no_data(
    http: aiohttp.ClientSession, emu: DosAIEmulator, via: str
) -> None:
    """Only `: keep-alive` comments arrive, one per interval, and the body ends."""
    outcome = await exchange(http, emu, "keepalive-only", via)
    assert outcome.status == 200
    assert outcome.error is None
    assert outcome.body == b": keep-alive\n\n" * 5
    assert outcome.elapsed >= 0.1


@VIA
async def test_keepalive_then_reply_precedes_the_stream(
    http: aiohttp.ClientSession, emu: DosAIEmulator, via: str
) -> None:
    """With then-reply, the keep-alives come first and the real stream follows."""
    outcome = await exchange(http, emu, "keepalive-then-reply", via)
    assert outcome.body.startswith(b": keep-alive\n\n" * 3 + b"data: {")
    assert outcome.data[-1] == DONE


@VIA
async def test_reset_before_headers_drops_the_connection(
    http: aiohttp.ClientSession, emu: DosAIEmulator, via: str
) -> None:
    """The client gets no status at all, and the server counts a status-0 response."""
    outcome = await exchange(http, emu, "reset-before-headers", via)
    assert outcome.status is None
    assert isinstance(outcome.error, aiohttp.ClientConnectionError)
    assert emu.stats.statuses == {0: 1}


@VIA
async def test_reset_mid_body_cuts_a_completion_short_of_its_length(
    http: aiohttp.ClientSession, emu: DosAIEmulator, via: str
) -> None:
    """A non-streaming 200 declares its full length, sends half, then resets."""
    outcome = await exchange(http, emu, "reset-mid-body", via, stream=False)
    assert outcome.status == 200
    assert 0 < len(outcome.body) < int(outcome.headers["Content-Length"])
    assert isinstance(outcome.error, aiohttp.ClientPayloadError)


@VIA
async def test_reset_mid_stream_after_n_events(
    http: aiohttp.ClientSession, emu: DosAIEmulator, via: str
) -> None:
    """Exactly three events arrive, then the connection is reset."""
    outcome = await exchange(http, emu, "reset-mid-stream", via)
    assert outcome.status == 200
    assert len(outcome.data) == 3
    assert isinstance(outcome.error, aiohttp.ClientPayloadError)


@VIA
async def test_stream_error_sends_an_in_band_error_then_done(
    http: aiohttp.ClientSession, emu: DosAIEmulator, via: str
) -> None:
    """After two chunks: `data: {"error": ...}` in DOS's shape, then [DONE]."""
    outcome = await exchange(http, emu, "stream-error", via)
    assert outcome.status == 200
    assert len(outcome.data) == 4
    error = json.loads(outcome.data[2][6:])
    assert error == {
        "error": {"message": "boom", "type": "server_error", "param": None, "code": 500}
    }
    assert outcome.data[3] == DONE


@VIA
async def test_stream_error_can_use_event_error_framing(
    http: aiohttp.ClientSession, emu: DosAIEmulator, via: str
) -> None:
    """With event=error the error comes as an `event: error` SSE event."""
    outcome = await exchange(http, emu, "stream-error-event", via)
    assert b'\n\nevent: error\ndata: {"error":{"message":"boom"' in outcome.body
    assert b'"code":503' in outcome.body


@VIA
async def test_malformed_sse_runs_events_together(
    http: aiohttp.ClientSession, emu: DosAIEmulator, via: str
) -> None:
    """After two good events the rest lose their blank lines and merge into one event."""
    outcome = await exchange(http, emu, "malformed-sse", via)
    blocks = outcome.body.decode().split("\n\n")
    assert all(json.loads(block[6:]) for block in blocks[:2])
    assert blocks[3:] == [""]
    merged = blocks[2].split("\n")
    assert len(merged) > 3
    assert all(line.startswith("data: ") for line in merged)
    assert merged[-1] == DONE


@VIA
async def test_malformed_json_inserts_an_unparsable_event(
    http: aiohttp.ClientSession, emu: DosAIEmulator, via: str
) -> None:
    """The second event's JSON stops mid-value; the stream then continues to [DONE]."""
    outcome = await exchange(http, emu, "malformed-json", via)
    json.loads(outcome.data[0][6:])
    with pytest.raises(json.JSONDecodeError):
        json.loads(outcome.data[1][6:])
    assert outcome.data[-1] == DONE


@VIA
async def test_truncate_stream_ends_cleanly_without_finish_or_done(
    http: aiohttp.ClientSession, emu: DosAIEmulator, via: str
) -> None:
    """Three events, a clean end, no finish_reason, no [DONE]."""
    outcome = await exchange(http, emu, "truncate-stream", via)
    assert outcome.error is None
    assert len(outcome.data) == 3
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks(outcome))


@VIA
async def test_not_sse_answers_a_stream_request_with_json(
    http: aiohttp.ClientSession, emu: DosAIEmulator, via: str
) -> None:
    """A stream request gets a 200 application/json chat.completion instead of SSE."""
    outcome = await exchange(http, emu, "not-sse", via)
    assert outcome.status == 200
    assert outcome.headers["Content-Type"] == "application/json"
    assert json.loads(outcome.body)["object"] == "chat.completion"


# -- faults on non-streaming replies ----------------------------------------------------------


async def test_malformed_json_on_a_completion_sends_half_a_body(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """On a JSON reply the body is cut in half, with a matching Content-Length."""
    outcome = await exchange(http, emu, "malformed-json", stream=False)
    assert outcome.error is None
    assert int(outcome.headers["Content-Length"]) == len(outcome.body)
    with pytest.raises(json.JSONDecodeError):
        json.loads(outcome.body)


async def test_stream_error_on_a_completion_is_a_200_error_body(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """On a JSON reply the in-band error is the whole 200 body."""
    outcome = await exchange(http, emu, "stream-error", stream=False)
    assert outcome.status == 200
    assert json.loads(outcome.body)["error"]["message"] == "boom"


# -- scheduling ------------------------------------------------------------------------------


async def test_queued_faults_apply_in_order_then_stop(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """enqueue(a, b, times=2) gives a, b, a, b, then normal replies."""
    emu.enqueue(Fault.status(500), Fault.status(503), times=2)
    assert emu.pending_faults() == 4
    statuses = [(await exchange(http, emu, stream=False)).status for _ in range(5)]
    assert statuses == [500, 503, 500, 503, 200]


async def test_header_fault_leaves_the_queue_alone(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """A header fault wins for its request and does not consume a queued fault."""
    emu.enqueue(Fault.status(500))
    outcome = await exchange(http, emu, "status-429", "header")
    assert outcome.status == 429
    assert emu.pending_faults() == 1


async def test_queues_are_per_route(http: aiohttp.ClientSession, emu: DosAIEmulator) -> None:
    """A fault queued for models does not touch chat, and hits the models route."""
    emu.enqueue(Fault.status(503), route="models")
    assert (await exchange(http, emu, stream=False)).status == 200
    async with http.get(f"{emu.base_url}/models", headers=AUTH) as response:
        assert response.status == 503
    assert emu.pending_faults("models") == 0


def test_unknown_route_is_refused() -> None:
    """Only the emulator's routes take faults."""
    with pytest.raises(ValueError, match="completions"):
        DosAIEmulator().enqueue(Fault.status(500), route="completions")


async def test_random_faults_hit_about_the_rate_reproducibly(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """rate=0.3 rejects roughly 30% of requests, the same ones for the same seed."""
    rounds = []
    for _ in range(2):
        emu.set_random_faults(Fault.status(429, retry_after=1), rate=0.3, seed=42)
        rounds.append([(await exchange(http, emu, stream=False)).status for _ in range(60)])
    assert rounds[0] == rounds[1]
    assert 8 <= rounds[0].count(429) <= 30
    assert set(rounds[0]) == {200, 429}


async def test_random_faults_stop_when_set_to_none(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """set_random_faults(None) turns the rule off."""
    emu.set_random_faults(Fault.status(500), rate=1.0)
    emu.set_random_faults(None, rate=0)
    assert (await exchange(http, emu, stream=False)).status == 200


async def test_reset_faults_drops_queued_and_random_faults(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """reset_faults() empties queues and removes random rules."""
    emu.enqueue(Fault.status(500), times=3)
    emu.set_random_faults(Fault.status(500), rate=1.0)
    emu.reset_faults()
    assert emu.pending_faults() == 0
    assert (await exchange(http, emu, stream=False)).status == 200


async def test_injected_fault_is_recorded_and_counted(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """The request log names the fault each request got; stats count injections."""
    await exchange(http, emu, "truncate-stream", "header")
    await exchange(http, emu)
    assert [r.fault for r in emu.requests] == [Fault.truncate_stream(3), None]
    assert emu.stats.faults == 1


async def test_body_faults_leave_error_responses_intact(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """A body fault on a request that fails auth still yields the plain 401."""
    outcome = await exchange(http, emu, "truncate-stream", headers={})
    assert outcome.status == 401
    assert json.loads(outcome.body)["error"]["code"] == "invalid_api_key"


async def test_status_faults_apply_before_auth(
    http: aiohttp.ClientSession, emu: DosAIEmulator
) -> None:
    """Status faults replace any response, even one that would have been a 401."""
    outcome = await exchange(http, emu, "status-429", "header", headers={})
    assert outcome.status == 429
