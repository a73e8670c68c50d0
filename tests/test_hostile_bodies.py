"""Hostile bodies: whatever a server sends ends as this package's error, without the key.

A raw server (not the emulator) sends each shape: JSON nested 300 to 5,000 levels deep in
error bodies, successful bodies and stream events; and the API key echoed back in every place
a server can put it (non-2xx and 200 bodies, in-band stream errors, non-JSON and non-SSE
bodies, JSON-escaped spellings, response headers). Each call must raise this package's
exception, which prints, reprs and serialises without a ``RecursionError`` and without the
key; ``batch()`` keeps its other results; ``dosai chat`` and ``dosai batch`` print one line.
"""

from __future__ import annotations

import json
import re
import traceback
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import dosai_async as d
from dosai_async import AsyncDosAI, RetryPolicy
from tests._cli import dosai
from tests._rawserver import MESSAGES, Conn, RawServer, response, stream_final, stream_head

KEY = "dos_sk_HOSTILE_5b3e91c07d2a4f6e"
SECRET = KEY.removeprefix("dos_sk_")[:-4]  # what must never show; the last 4 may
MASKED = "dos_sk_…4f6e"

COMPLETION = (
    b'{"id":"c","object":"chat.completion","created":1,"model":"m",'
    b'"choices":[{"index":0,"message":{"role":"assistant","content":"ok"},'
    b'"finish_reason":"stop"}]}'
)
CHUNK = (
    b'{"id":"c","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]'
)


def deep(levels: int, inner: bytes = b"1") -> bytes:
    """An array nested ``levels`` deep."""
    return b"[" * levels + inner + b"]" * levels


def deep_object(levels: int) -> bytes:
    """An object nested ``levels`` deep."""
    return b'{"a":' * levels + b"1" + b"}" * levels


class Reply(NamedTuple):
    """What the server answers to every request; ``{key}`` is replaced by the key it got."""

    status: int
    body: bytes
    content_type: str = "application/json"
    stream: bool = False  # the call under test streams
    headers: dict[str, str] | None = None


def escaped(key: str, chars: str = "_", upper: bool = False) -> str:
    """``key`` JSON-escaped: each character in ``chars`` (all if empty) as ``\\uXXXX``."""
    return "".join(
        (f"\\u{ord(c):04X}" if upper else f"\\u{ord(c):04x}") if not chars or c in chars else c
        for c in key
    )


def serve(reply: Reply) -> Any:
    """A handler answering every request with ``reply``, the request's key filled in."""

    async def handler(conn: Conn) -> None:
        while (raw := await conn.request()) is not None:
            key = re.search(rb"Authorization: Bearer (\S+)", raw, re.IGNORECASE)
            got = key.group(1).decode() if key else ""
            body = reply.body.replace(b"{key}", got.encode())
            body = body.replace(b"{escaped}", escaped(got).encode())
            body = body.replace(b"{escaped2}", escaped(got).replace("\\", "\\\\").encode())
            body = body.replace(b"{ESCAPED}", escaped(got, "", upper=True).encode())
            headers = {k: v.replace("{key}", got) for k, v in (reply.headers or {}).items()}
            if reply.stream and reply.status == 200:
                head = stream_head(reply.content_type)
                await conn.send(
                    head[:-2]
                    + "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
                    + b"\r\n"
                    + body
                )
                return
            await conn.send(
                response(reply.status, body, content_type=reply.content_type, headers=headers)
            )

    return handler


def client(base_url: str, **options: Any) -> AsyncDosAI:
    """A client holding the key, retrying once without sleeping."""
    options.setdefault("retry", RetryPolicy.zero_wait(1))
    return AsyncDosAI(api_key=KEY, base_url=base_url, **options)


async def call(base_url: str, reply: Reply) -> d.DosAIError:
    """Make the call ``reply`` answers and return the error it raised (it must raise one)."""
    async with client(base_url) as c:
        with pytest.raises(d.DosAIError) as info:
            await (
                stream_final(c) if reply.stream else c.chat.completions.create(messages=MESSAGES)
            )
    return info.value


def texts_of(error: BaseException) -> list[str]:
    """Everything a user may print of an error: str, repr, attributes, body as JSON, traceback.

    Each one raising ``RecursionError`` fails the test, which is half the point.
    """
    texts = ["".join(traceback.format_exception(error)), str(error), repr(error)]
    texts += [repr(value) for value in vars(error).values()]
    texts.append(json.dumps(getattr(error, "body", None), ensure_ascii=False, default=repr))
    return texts


def leaks(*texts: str) -> list[str]:
    """The texts holding the secret, as written or with ``\\uXXXX`` escapes decoded."""
    unescape = re.compile(r"\\u([0-9a-fA-F]{4})")
    decoded = (unescape.sub(lambda m: chr(int(m.group(1), 16)), text) for text in texts)
    return [text for text in decoded if SECRET in text]


# -- item 2: deeply nested JSON ---------------------------------------------------------------


DEEP: dict[str, tuple[Reply, type[d.DosAIError]]] = {
    "400 array 1,000 deep": (Reply(400, deep(1000)), d.BadRequestError),
    "400 message 5,000 deep": (
        Reply(400, b'{"error":{"message":' + deep(5000) + b"}}"),
        d.BadRequestError,
    ),
    "422 message 1,020 deep (orjson parses it)": (
        Reply(422, b'{"error":{"message":' + deep(1020) + b"}}"),
        d.UnprocessableEntityError,
    ),
    "500 object 1,000 deep": (Reply(500, deep_object(1000)), d.InternalServerError),
    "200 array 1,000 deep": (Reply(200, deep(1000)), d.ResponseValidationError),
    "200 completion with an unknown field 1,000 deep": (
        Reply(200, COMPLETION[:-1] + b',"x":' + deep(1000) + b"}"),
        d.ResponseValidationError,
    ),
    "200 completion with a content 1,000 deep": (
        Reply(200, COMPLETION.replace(b'"ok"', deep(1000))),
        d.ResponseValidationError,
    ),
    "200 error object 1,000 deep": (
        Reply(200, b'{"error":{"message":' + deep(1000) + b"}}"),
        d.APIStreamError,
    ),
    "stream data error 1,000 deep": (
        Reply(
            200, b'data: {"error":{"message":' + deep(1000) + b"}}\n\n", "text/event-stream", True
        ),
        d.APIStreamError,
    ),
    "stream event: error 1,000 deep": (
        Reply(200, b"event: error\ndata: " + deep(1000) + b"\n\n", "text/event-stream", True),
        d.APIStreamError,
    ),
    "stream chunk with an unknown field 1,000 deep": (
        Reply(200, b"data: " + CHUNK + b',"x":' + deep(1000) + b"}\n\n", "text/event-stream", True),
        d.ResponseValidationError,
    ),
    "stream answered by a JSON error 1,000 deep": (
        Reply(200, b'{"error":{"message":' + deep(1000) + b"}}", "application/json", True),
        d.APIStreamError,
    ),
}


@pytest.mark.parametrize("name", DEEP)
async def test_deep_json_ends_as_this_packages_error(name: str) -> None:
    """Every deeply nested body raises its typed error, which prints and serialises."""
    reply, expected = DEEP[name]
    with RawServer(serve(reply)) as server:
        error = await call(server.base_url, reply)
    assert type(error) is expected, f"{type(error).__name__}: {error}"
    assert all(isinstance(text, str) for text in texts_of(error))
    assert len(str(error)) < 1_000  # the message is a snippet, not the whole body


async def test_deep_error_body_is_kept_as_text_and_retried() -> None:
    """A 500 too deep to parse is still an InternalServerError (raw text body), retried."""
    reply = Reply(500, b'{"error":{"message":' + deep(1000) + b"}}")
    with RawServer(serve(reply)) as server:
        error = await call(server.base_url, reply)
    assert type(error) is d.InternalServerError
    assert error.body == reply.body.decode()
    assert len(server.requests) == 2  # the retry happened: max_retries=1


async def test_batch_keeps_its_other_results_when_one_body_is_deep() -> None:
    """One request answered with a deep error body fails alone; the others complete."""

    async def handler(conn: Conn) -> None:
        while (raw := await conn.request()) is not None:
            hostile = b'"deep"' in raw
            body = b'{"error":{"message":' + deep(2000) + b"}}" if hostile else COMPLETION
            await conn.send(response(400 if hostile else 200, body))

    requests = [{"messages": [{"role": "user", "content": text}]} for text in ("a", "deep", "b")]
    with RawServer(handler) as server:
        async with client(server.base_url) as c:
            results = await c.chat.completions.batch(requests, concurrency=2)
    assert [type(result).__name__ for result in results] == [
        "ChatCompletion",
        "BadRequestError",
        "ChatCompletion",
    ]


def test_chat_cli_prints_one_line_for_a_deep_error_body() -> None:
    """``dosai chat`` against a deep error body: one ``error:`` line, no traceback."""
    reply = Reply(400, b'{"error":{"message":' + deep(3000) + b"}}")
    with RawServer(serve(reply)) as server:
        result = dosai("chat", "hi", DOS_AI_BASE_URL=server.base_url, DOS_AI_API_KEY=KEY)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: 400"), result.stderr


# -- item 3: the key, echoed back ---------------------------------------------------------------


ECHO: dict[str, tuple[Reply, type[d.DosAIError]]] = {
    "401 body": (
        Reply(401, b'{"error":{"message":"Incorrect API key provided: {key}"}}'),
        d.AuthenticationError,
    ),
    "401 body, key JSON-escaped (\\u005f)": (
        Reply(401, b'{"error":{"message":"Incorrect API key provided: {escaped}"}}'),
        d.AuthenticationError,
    ),
    "400 body, key escaped twice (its decoded message still reads dos\\u005fsk_)": (
        Reply(400, b'{"error":{"message":"echo {escaped2}"}}'),
        d.BadRequestError,
    ),
    "400 body, every character escaped, upper-case hex": (
        Reply(400, b'{"error":{"message":"bad key","param":"{ESCAPED}"}}'),
        d.BadRequestError,
    ),
    "403 with the key in a response header": (
        Reply(403, b'{"error":{"message":"no"}}', headers={"X-Debug-Auth": "Bearer {key}"}),
        d.PermissionDeniedError,
    ),
    "502 HTML page": (
        Reply(502, b"<html><title>Bad key {key}</title></html>", "text/html"),
        d.InternalServerError,
    ),
    "200 JSON error object": (
        Reply(200, b'{"error":{"message":"invalid key {key}","code":401}}'),
        d.AuthenticationError,
    ),
    "200 non-JSON body": (
        Reply(200, b"gateway rejected {key}", "text/plain"),
        d.ResponseValidationError,
    ),
    "200 non-JSON body, key across the quoted snippet's end": (
        Reply(200, b"x" * 190 + b" {key} and more", "text/plain"),
        d.ResponseValidationError,
    ),
    "200 body that does not fit": (
        Reply(200, b'{"id":"{key}","choices":"none"}'),
        d.ResponseValidationError,
    ),
    "stream data error": (
        Reply(
            200, b'data: {"error":{"message":"key {key} revoked"}}\n\n', "text/event-stream", True
        ),
        d.APIStreamError,
    ),
    "stream event: error": (
        Reply(
            200, b'event: error\ndata: {"message":"key {escaped}"}\n\n', "text/event-stream", True
        ),
        d.APIStreamError,
    ),
    "stream event: error, not JSON": (
        Reply(200, b"event: error\ndata: key {key} revoked\n\n", "text/event-stream", True),
        d.APIStreamError,
    ),
    "stream event not JSON": (
        Reply(200, b"data: oops {key}\n\n", "text/event-stream", True),
        d.ResponseValidationError,
    ),
    "stream chunk that does not fit": (
        Reply(200, b'data: {"id":"{key}","choices":"none"}\n\n', "text/event-stream", True),
        d.ResponseValidationError,
    ),
    "stream answered by plain text": (
        Reply(200, b"proxy refused {key}", "text/plain", True),
        d.ResponseValidationError,
    ),
    "stream answered by a JSON error": (
        Reply(200, b'{"error":{"message":"{escaped} is not valid"}}', "application/json", True),
        d.APIStreamError,
    ),
    "stream 401": (
        Reply(401, b'{"error":{"message":"Incorrect API key provided: {key}"}}', stream=True),
        d.AuthenticationError,
    ),
}


@pytest.mark.parametrize("name", ECHO)
async def test_echoed_key_is_masked_in_every_error(name: str) -> None:
    """The key a server echoes (any spelling, any place) shows masked, never whole."""
    reply, expected = ECHO[name]
    with RawServer(serve(reply)) as server:
        error = await call(server.base_url, reply)
    assert isinstance(error, expected), f"{type(error).__name__}: {error}"
    assert leaks(*texts_of(error)) == []
    assert MASKED in "".join(texts_of(error))  # masked where the key was, not dropped


def test_chat_cli_error_line_masks_the_key() -> None:
    """``dosai chat`` with a server quoting the key: the error line shows it masked."""
    reply = Reply(401, b'{"error":{"message":"Incorrect API key provided: {escaped}"}}')
    with RawServer(serve(reply)) as server:
        result = dosai("chat", "hi", DOS_AI_BASE_URL=server.base_url, DOS_AI_API_KEY=KEY)
    assert result.returncode != 0
    assert f"error: 401: Incorrect API key provided: {MASKED}" in result.stderr
    assert leaks(result.stdout, result.stderr) == []


def test_batch_cli_output_file_and_console_mask_the_key(tmp_path: Path) -> None:
    """``dosai batch``: the error lines written and everything printed hide the key."""
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    line = {"method": "POST", "url": "/v1/chat/completions", "body": {"messages": MESSAGES}}
    source.write_text("".join(json.dumps({"custom_id": f"r{i}", **line}) + "\n" for i in range(3)))
    reply = Reply(400, b'{"error":{"message":"key {key} / {escaped}","code":"bad_key"}}')
    with RawServer(serve(reply)) as server:
        result = dosai(
            "batch", str(source), str(output), DOS_AI_BASE_URL=server.base_url, DOS_AI_API_KEY=KEY
        )
    written = output.read_text()
    records = [json.loads(text) for text in written.splitlines()]
    assert [r["error"]["code"] for r in records] == ["bad_key"] * 3
    assert MASKED in written
    assert leaks(written, result.stdout, result.stderr) == []
