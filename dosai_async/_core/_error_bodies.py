"""Error bodies: the one place a server's bytes become an error of the tree in ``_exceptions``.

Error bodies come in many shapes (see ``parse_error_body``); every shape parses and none
crashes. ``ResponseErrors`` is the one place a server's bytes become an error: each body passes
through ``mask_secret`` (the API key, in any JSON spelling, never reaches an error) and
``parse_body`` (JSON nested deeper than ``MAX_DEPTH`` stays text, so no ``RecursionError``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ._exceptions import (
    APIStatusError,
    APIStreamError,
    BadRequestError,
    ContextWindowBadRequestError,
    ErrorInfo,
    ResponseValidationError,
    status_class,
    stream_error_class,
)

# In-band stream errors name their kind by an int ``code``, a ``status_code`` field, or only
# by a string ``code`` / ``type``: this table gives those strings the status they stand for.
_STATUS_BY_NAME: Mapping[str, int] = {
    "invalid_request_error": 400,
    "BadRequestError": 400,
    "guardrails_blocked": 400,
    "authentication_error": 401,
    "invalid_api_key": 401,
    "payment_required": 402,
    "insufficient_credits": 402,
    "permission_denied": 403,
    "model_not_found": 404,
    "not_found_error": 404,
    "context_length_exceeded": 413,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "server_error": 500,
    "internal_error": 500,
    "service_unavailable": 503,
    "overloaded_error": 503,
}


def status_of(obj: Mapping[str, Any], info: ErrorInfo) -> int | None:
    """The HTTP status an in-band error object stands for, if it says."""
    for candidate in (obj.get("status_code"), obj.get("status"), info.code):
        if (
            isinstance(candidate, int)
            and not isinstance(candidate, bool)
            and 100 <= candidate < 600
        ):
            return candidate
    for name in (info.code, info.type):
        if isinstance(name, str) and name in _STATUS_BY_NAME:
            return _STATUS_BY_NAME[name]
    return None


class ResponseErrors:
    """The errors one response can turn into: the one place a server's bytes become errors.

    Every body (non-2xx, an error object in a 200, an in-band stream error, a body that does
    not fit) passes through ``mask_secret`` with the request's API key, and through
    ``parse_body``, so what an error holds (``message``, ``body``, ``headers``, ``str()``)
    never shows the key and never recurses without bound. Built only when something failed.
    """

    __slots__ = ("_headers", "_request_id", "_secret", "_status")

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str],
        request_id: str | None,
        secret: str = "",
    ) -> None:
        self._status = status
        self._headers = headers
        self._request_id = request_id
        self._secret = secret

    def status_error(self, raw: bytes) -> APIStatusError:
        """The typed error for a non-2xx response from its raw body."""
        parsed, info = parse_error_body(raw, self._status, self._secret)
        cls = _refined(status_class(self._status), info)
        return cls(info, status_code=self._status, body=parsed, **self._context())

    def in_band(self, raw: bytes | str, *, partial: object = None) -> APIStreamError:
        """The typed error for an error object in a 200 body or an error event in a stream."""
        text = self._text(raw)
        payload = parse_body(text)
        if isinstance(payload, str):  # not JSON (or too deep): the text is the message
            message = _text_message(text, None) if text else "error event without data"
            payload = {"error": {"message": message}}
        obj = payload.get("error", payload) if isinstance(payload, dict) else payload
        info = error_info(payload)
        status = status_of(obj, info) if isinstance(obj, dict) else None
        cls = stream_error_class(status) if status is not None else APIStreamError
        error = cls(info, status_code=status or 200, body=payload, **self._context())
        error.partial = partial
        return error

    def invalid(
        self,
        message: str,
        raw: bytes | str,
        *,
        quote: int = 0,
        errors: tuple[str, ...] = (),
    ) -> ResponseValidationError:
        """A 2xx body (or stream event) that does not fit; ``quote`` > 0 appends the first
        that many characters of it, cut after masking so no piece of the key shows."""
        text = self._text(raw)
        if quote:
            message = f"{message}: {text[:quote].strip() or 'an empty body'!r}"
        return ResponseValidationError(
            mask_secret(message, self._secret),
            body=parse_body(text),
            status_code=self._status,
            errors=tuple(mask_secret(error, self._secret) for error in errors),
        )

    def _text(self, raw: bytes | str) -> str:
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        return mask_secret(text, self._secret)

    def _context(self) -> dict[str, Any]:
        # Servers echo headers too (a debug header quoting the Authorization it got).
        headers = {name: mask_secret(value, self._secret) for name, value in self._headers.items()}
        return {"request_id": self._request_id, "headers": headers}


def status_error(
    status: int,
    body: bytes,
    *,
    headers: Mapping[str, str],
    request_id: str | None,
    secret: str = "",
) -> APIStatusError:
    """Build the typed error for a non-2xx response from its raw body (key masked)."""
    return ResponseErrors(status, headers, request_id, secret).status_error(body)


# A 400 that reports a context overflow, recognised by what it names: OpenAI's symbolic code,
# vLLM's ``param``, or the words vLLM and OpenAI use ("This model's maximum context length is
# 2048 tokens...", "max_tokens=3000 cannot be greater than max_model_len=2048").
_OVERFLOW_CODES = frozenset({"context_length_exceeded"})
_OVERFLOW_PARAMS = frozenset({"input_tokens"})
_OVERFLOW_WORDS = re.compile(r"maximum context length|\bmax_model_len\b", re.IGNORECASE)


def is_context_overflow(info: ErrorInfo) -> bool:
    """Whether an error body says the request does not fit the model's context window."""
    return (
        info.code in _OVERFLOW_CODES
        or info.param in _OVERFLOW_PARAMS
        or _OVERFLOW_WORDS.search(info.message) is not None
    )


def _refined(cls: type[APIStatusError], info: ErrorInfo) -> type[APIStatusError]:
    """The status's class, or a more precise one the body calls for."""
    if cls is BadRequestError and is_context_overflow(info):
        return ContextWindowBadRequestError
    return cls


def parse_error_body(
    body: bytes, status: int | None = None, secret: str = ""
) -> tuple[object, ErrorInfo]:
    """Parse any error body shape into (parsed body, ErrorInfo); never raises.

    Shapes: ``{"error": {...}}`` (int or string code, maybe no code), ``{"error": "text"}``,
    flat ``{"object": "error", "message": ...}``, ``{"detail": ...}`` (FastAPI), a JSON list of
    those (some gateways), and anything else (HTML, plain text, empty, JSON nested deeper than
    ``MAX_DEPTH``), kept as text. ``secret`` is masked in the text before anything reads it.
    """
    text = mask_secret(body.decode("utf-8", errors="replace"), secret)
    parsed = parse_body(text)
    if isinstance(parsed, str):
        return text, ErrorInfo(_text_message(text, status))
    return parsed, error_info(parsed, status)


#: How deep a body's JSON may nest. Real bodies nest a few levels; this bound keeps every
#: later step (parsing, ``repr``, ``json.dumps``, orjson's 255-level writer in batch output
#: files) far from Python's recursion limit, wherever on the stack it runs.
MAX_DEPTH = 200

# JSON strings (whose brackets do not nest) and brackets. The string alternative is the
# "unrolled loop" form: linear even on an unterminated string.
_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def parse_body(text: str) -> object:
    """``text`` parsed as JSON, or ``text`` itself if it is not JSON or nests too deep.

    A JSON string body (``"oops"``) comes back as that string, like any non-JSON text.
    """
    if text_too_deep(text):
        return text
    try:
        parsed: object = json.loads(text)
    except ValueError:
        return text
    return parsed


def text_too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON ``text`` nests deeper than ``limit`` (brackets inside strings ignored)."""
    if text.count("[") + text.count("{") <= limit:  # the common case: one C-speed pass each
        return False
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token == "[" or token == "{":
            depth += 1
            if depth > limit:
                return True
        elif token == "]" or token == "}":
            depth -= 1
    return False


def value_too_deep(value: object, limit: int = MAX_DEPTH) -> bool:
    """Whether parsed JSON ``value`` nests lists/objects deeper than ``limit`` (no recursion)."""
    if not isinstance(value, (dict, list)):
        return False
    todo: list[tuple[Any, int]] = [(value, 0)]
    while todo:
        item, depth = todo.pop()
        if depth >= limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        todo += [(child, depth + 1) for child in children if isinstance(child, (dict, list))]
    return False


_KEY_PREFIX = "dos_sk_"


def masked_key(key: str) -> str:
    """How a key shows when masked: ``dos_sk_…3f9d`` (no tail for short keys)."""
    prefix = _KEY_PREFIX if key.startswith(_KEY_PREFIX) else ""
    secret = key[len(prefix) :]
    return f"{prefix}…{secret[-4:] if len(secret) >= 12 else ''}"


def mask_secret(text: str, secret: str) -> str:
    """``text`` with every spelling of ``secret`` masked: the one masking function.

    A server may echo the key as it is or JSON-escaped, any character written as ``\\uXXXX``
    (``dos\\u005fsk_…``); both the raw and the escaped forms are replaced, so the text and
    anything parsed from it are clean. Keys shorter than 8 characters are left alone: masking
    them would garble ordinary words.
    """
    if len(secret) < 8 or not text:
        return text
    if secret in text:
        text = text.replace(secret, masked_key(secret))
    if "\\" in text:  # only then can an escaped spelling be there
        text = _escaped_pattern(secret).sub(masked_key(secret), text)
    return text


def _escaped_pattern(secret: str) -> re.Pattern[str]:
    # Each character as itself or as \uXXXX with hex digits in either case, behind any number
    # of backslashes: a server that escaped the key twice sends ``dos\\u005fsk_``, whose
    # decoded message still spells the key with one backslash.
    parts = []
    for char in secret:
        hex_digits = f"{ord(char):04x}"
        digits = "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in hex_digits)
        parts.append(f"(?:{re.escape(char)}|\\\\+u{digits})")
    return re.compile("".join(parts))  # compiled patterns are cached by ``re``


def error_info(parsed: object, status: int | None = None) -> ErrorInfo:
    """Boil a parsed JSON error body (any known shape) down to ``ErrorInfo``."""
    if isinstance(parsed, list) and parsed:
        parsed = parsed[0]
    if not isinstance(parsed, dict):
        return ErrorInfo(_text_message(str(parsed), status))
    inner = parsed.get("error")
    if isinstance(inner, dict):
        return _info_from_mapping(inner, status)
    if isinstance(inner, str):
        return _info_from_mapping({**parsed, "message": inner}, status)
    if "detail" in parsed and "message" not in parsed:
        return ErrorInfo(_detail_message(parsed["detail"]))
    return _info_from_mapping(parsed, status)


def _info_from_mapping(obj: Mapping[str, Any], status: int | None) -> ErrorInfo:
    message = obj.get("message")
    if not isinstance(message, str) or not message:
        message = _text_message("", status) if message is None else json.dumps(message)
    code = obj.get("code")
    param = obj.get("param")
    kind = obj.get("type")
    return ErrorInfo(
        message,
        type=kind if isinstance(kind, str) else None,
        code=code if isinstance(code, (str, int)) and not isinstance(code, bool) else None,
        param=param if isinstance(param, str) else None,
    )


def _detail_message(detail: object) -> str:
    if isinstance(detail, str):
        return detail
    return json.dumps(detail, ensure_ascii=False)


_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _text_message(text: str, status: int | None) -> str:
    # A proxy's HTML error page says what happened in its <title>; the rest is markup.
    title = _HTML_TITLE.search(text)
    snippet = " ".join((title.group(1) if title else text).split())[:200]
    if snippet:
        return snippet
    return f"HTTP {status} with an empty body" if status else "empty error body"
