"""Status -> error class, every error-body shape, and how errors read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import dosai_async as d
from dosai_async import AsyncDosAI, RetryPolicy
from tests.conftest import Scripted, conformance_dir

MESSAGES = [{"role": "user", "content": "hi"}]

STATUS_CLASSES: list[tuple[int, type[d.APIStatusError]]] = [
    (400, d.BadRequestError),
    (401, d.AuthenticationError),
    (402, d.InsufficientCreditsError),
    (403, d.PermissionDeniedError),
    (404, d.NotFoundError),
    (409, d.ConflictError),
    (413, d.ContextLengthExceededError),
    (422, d.UnprocessableEntityError),
    (429, d.RateLimitError),
    (500, d.InternalServerError),
    (502, d.InternalServerError),
    (503, d.ServiceUnavailableError),
    (504, d.InternalServerError),
    (418, d.APIStatusError),
]


@pytest.mark.parametrize(("status", "cls"), STATUS_CLASSES)
async def test_status_maps_to_class(
    client: AsyncDosAI, server: Scripted, status: int, cls: type[d.APIStatusError]
) -> None:
    """Each status raises its class, carrying what the server said."""
    body = {"error": {"message": "nope", "type": "some_type", "code": status, "param": "p"}}
    server.reply(status, body, x_request_id="req_1")
    with pytest.raises(cls) as info:
        await client.chat.completions.create(messages=MESSAGES, max_retries=0)
    error = info.value
    assert type(error) is cls
    assert isinstance(error, d.DosAIError)
    assert (error.status_code, error.message, error.type, error.code, error.param) == (
        status,
        "nope",
        "some_type",
        status,
        "p",
    )
    assert error.request_id == "req_1"
    assert error.body == body


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 413, 422])
async def test_client_errors_are_sent_once(
    client: AsyncDosAI, server: Scripted, status: int
) -> None:
    """Statuses that retrying cannot fix are never retried."""
    server.replies = [(status, {"error": {"message": "x"}}, {})] * 3
    with pytest.raises(d.APIStatusError):
        await client.chat.completions.create(messages=MESSAGES)
    assert len(server.requests) == 1


def _body_cases() -> list[Path]:
    return sorted(p for p in conformance_dir("bodies").glob("*.json"))


@pytest.mark.parametrize("case", _body_cases(), ids=lambda p: p.stem)
async def test_conformance_bodies(client: AsyncDosAI, server: Scripted, case: Path) -> None:
    """Every recorded body parses: success bodies to a completion, error bodies to errors."""
    meta: dict[str, Any] = json.loads(case.read_text())
    raw = case.with_suffix(".body").read_bytes()
    expected = meta["expected"]
    server.reply(meta["http_status"], raw, Content_Type=meta["content_type"])
    if not expected["raise"]:
        done = await client.chat.completions.create(messages=MESSAGES)
        _check_completion(done, expected)
        return
    with pytest.raises(d.APIStatusError) as info:
        await client.chat.completions.create(messages=MESSAGES, max_retries=0)
    error = info.value
    assert error.status_code == expected["http_status"]
    assert error.message == expected["message"]
    assert error.type == expected["type"]
    assert error.code == expected["code"]
    assert error.param == expected["param"]


def _check_completion(done: d.ChatCompletion, expected: dict[str, Any]) -> None:
    assert done.id == expected["id"]
    assert done.model == expected["model"]
    for choice, want in zip(done.choices, expected["choices"], strict=True):
        message = choice.message
        assert message.content == want.get("content")
        for field in ("reasoning", "reasoning_content"):
            if field in want:
                assert getattr(message, field) == want[field]
        calls = want.get("tool_calls")
        got = [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []]
        want_calls = [
            (c["id"], c["function"]["name"], c["function"]["arguments"]) for c in calls or []
        ]
        assert got == want_calls
        assert choice.finish_reason == want.get("finish_reason")


@pytest.mark.parametrize(
    ("body", "content_type", "message", "kind", "code"),
    [
        (b'{"object":"error","message":"flat","type":"BadRequestError","param":null,"code":400}',
         "application/json", "flat", "BadRequestError", 400),
        (b'{"detail":"Not authenticated"}', "application/json", "Not authenticated", None, None),
        (b'{"detail":[{"loc":["body"],"msg":"field required"}]}', "application/json",
         '[{"loc": ["body"], "msg": "field required"}]', None, None),
        (b"<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>",
         "text/html", "502 Bad Gateway", None, None),
        (b"", "text/plain", "HTTP 400 with an empty body", None, None),
        (b"upstream connect error", "text/plain", "upstream connect error", None, None),
        (b'{"error":{"message":"blocked","type":"guardrails_blocked"}}', "application/json",
         "blocked", "guardrails_blocked", None),
        (b'{"error":{"code":"NO_AVAILABLE_NODE","message":"busy","retryable":true}}',
         "application/json", "busy", None, "NO_AVAILABLE_NODE"),
        (b'{"error":"plain string error"}', "application/json", "plain string error", None, None),
        (b"[1, 2]", "application/json", "1", None, None),
    ],
)  # fmt: skip
async def test_error_body_shapes(
    client: AsyncDosAI,
    server: Scripted,
    body: bytes,
    content_type: str,
    message: str,
    kind: str | None,
    code: str | int | None,
) -> None:
    """Flat, detail, HTML, empty, text and DOS-specific error bodies all parse."""
    server.reply(400, body, Content_Type=content_type)
    with pytest.raises(d.BadRequestError) as info:
        await client.chat.completions.create(messages=MESSAGES)
    assert (info.value.message, info.value.type, info.value.code) == (message, kind, code)


def test_str_reads_like_status_type_message_request_id() -> None:
    """str(error) is '429 rate_limit_error: Rate limit exceeded (request_id=...)'."""
    error = d.RateLimitError(
        d._core._exceptions.ErrorInfo("Rate limit exceeded", type="rate_limit_error"),
        status_code=429,
        request_id="req_9",
        headers={"Retry-After": "3"},
    )
    assert str(error) == "429 rate_limit_error: Rate limit exceeded (request_id=req_9)"
    assert error.retry_after == 3.0


def test_timeout_error_is_also_builtin_timeout() -> None:
    """APITimeoutError is an APIConnectionError and a builtin TimeoutError."""
    error = d.APITimeoutError(deadline="idle")
    assert isinstance(error, d.APIConnectionError)
    assert isinstance(error, TimeoutError)
    assert error.deadline == "idle"


async def test_connection_refused(unused_tcp_port: int) -> None:
    """Nothing listening raises APIConnectionError after the retries."""
    client = AsyncDosAI(
        api_key="k",
        base_url=f"http://127.0.0.1:{unused_tcp_port}/v1",
        retry=RetryPolicy.zero_wait(1),
    )
    async with client:
        with pytest.raises(d.APIConnectionError, match="before a response"):
            await client.models.list()


def test_error_tree_is_one_tree() -> None:
    """Every exported error derives from DosAIError."""
    errors = [getattr(d, n) for n in d.__all__ if n.endswith("Error")]
    assert errors
    assert all(issubclass(e, d.DosAIError) for e in errors)
