"""The error tree, and the one table that maps an HTTP status to its class.

::

    DosAIError
    ├── APIConnectionError        no usable response (refused, reset, TLS, cut off)
    │   └── APITimeoutError       a configured deadline elapsed (also a builtin TimeoutError)
    ├── APIStatusError            non-2xx: status_code, message, type, code, param, request_id, ...
    │   ├── BadRequestError 400   AuthenticationError 401   InsufficientCreditsError 402
    │   ├── PermissionDeniedError 403   NotFoundError 404   ConflictError 409
    │   ├── ContextLengthExceededError 413   UnprocessableEntityError 422
    │   ├── RateLimitError 429 (retry_after)   InternalServerError 5xx
    │   └──   └── ServiceUnavailableError 503
    ├── APIStreamError            in-band error inside a 200 stream (also typed like its status)
    └── ResponseValidationError   a 2xx body that does not fit the model

Error bodies come in many shapes (see ``_parse_error_body``); every shape parses and none
crashes. Nothing here ever holds the API key: requests are described by method and URL only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ._config import parse_retry_after


class DosAIError(Exception):
    """Base class of every error this package raises."""

    message: str
    status_code: int | None = None
    type: str | None = None
    code: str | int | None = None
    param: str | None = None
    request_id: str | None = None
    body: object | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class APIConnectionError(DosAIError):
    """No usable response: refused, reset, TLS failure, or a body cut off mid-way.

    ``partial`` holds what a stream had accumulated before it was cut (a ``ChatCompletion``),
    or ``None`` for non-streaming calls.
    """

    def __init__(
        self,
        message: str = "Connection error.",
        *,
        partial: object = None,
        response_started: bool = False,
    ) -> None:
        super().__init__(message)
        self.partial = partial
        #: Whether any of the response had arrived; only failures before it are retried.
        self.response_started = response_started


class APITimeoutError(APIConnectionError, TimeoutError):
    """A configured deadline elapsed; ``deadline`` names which one (connect, read, total...)."""

    def __init__(
        self,
        message: str = "Request timed out.",
        *,
        deadline: str = "total",
        partial: object = None,
    ) -> None:
        super().__init__(message, partial=partial)
        self.deadline = deadline


class ErrorInfo:
    """The fields every error-body shape is boiled down to."""

    __slots__ = ("code", "message", "param", "type")

    def __init__(
        self,
        message: str,
        type: str | None = None,
        code: str | int | None = None,
        param: str | None = None,
    ) -> None:
        self.message = message
        self.type = type
        self.code = code
        self.param = param


class APIStatusError(DosAIError):
    """The server answered with a non-2xx status.

    Carries everything the server said: ``status_code``, ``message``, ``type``, ``code``,
    ``param``, ``request_id``, the response ``headers`` and the parsed (or raw text) ``body``.
    """

    def __init__(
        self,
        info: ErrorInfo,
        *,
        status_code: int,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: object = None,
    ) -> None:
        super().__init__(info.message)
        self.status_code = status_code
        self.type = info.type
        self.code = info.code
        self.param = info.param
        self.request_id = request_id
        self.headers: Mapping[str, str] = headers or {}
        self.body = body

    def __str__(self) -> str:
        # "429 rate_limit_error: Rate limit exceeded (request_id=req_1)"
        kind = f" {self.type}" if self.type else ""
        rid = f" (request_id={self.request_id})" if self.request_id else ""
        return f"{self.status_code}{kind}: {self.message}{rid}"


class BadRequestError(APIStatusError):
    """400: the request was malformed (also guardrail blocks)."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or revoked."""


class InsufficientCreditsError(APIStatusError):
    """402: the account has no credits left. Never retried."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not use this resource."""


class NotFoundError(APIStatusError):
    """404: unknown model or path."""


class ConflictError(APIStatusError):
    """409: a conflicting request; retried."""


class ContextLengthExceededError(APIStatusError):
    """413: the prompt does not fit the model's context window. Never retried."""


class UnprocessableEntityError(APIStatusError):
    """422: the request was well-formed but semantically invalid."""


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` is the server's wait hint in seconds, if any."""

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked us to wait (``retry-after-ms`` or ``Retry-After``)."""
        return parse_retry_after(self.headers)


class InternalServerError(APIStatusError):
    """5xx: the server failed."""


class ServiceUnavailableError(InternalServerError):
    """503: the service is overloaded or down for maintenance."""


class APIStreamError(APIStatusError):
    """An error event inside a 200 stream.

    Raised as a subclass that also inherits the class its ``status_code`` maps to (an in-band
    ``code: 429`` is both an ``APIStreamError`` and a ``RateLimitError``). ``partial`` holds the
    ``ChatCompletion`` accumulated before the error.
    """

    partial: object = None
    #: Whether content had reached the stream before the error; only errors before it are
    #: retried (a retry after content would duplicate tokens).
    response_started: bool = True


class ResponseValidationError(DosAIError):
    """A 2xx body that does not fit the expected model; the message names the field path.

    ``errors`` lists each finding as ``"<what> @ <path>"`` (e.g.
    ``"invalid value for type, expected str @ ChatCompletion.choices[0].message.content"``).
    """

    def __init__(
        self,
        message: str,
        *,
        body: object = None,
        status_code: int | None = None,
        errors: tuple[str, ...] = (),
    ):
        super().__init__(message)
        self.body = body
        self.status_code = status_code
        self.errors = errors


# The one status table. Lookup falls back to InternalServerError for other 5xx and to
# APIStatusError for anything else.
_STATUS_CLASSES: Mapping[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: ContextLengthExceededError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def status_class(status: int) -> type[APIStatusError]:
    """The error class for an HTTP status."""
    cls = _STATUS_CLASSES.get(status)
    if cls is not None:
        return cls
    return InternalServerError if status >= 500 else APIStatusError


_STREAM_CLASSES: dict[type[APIStatusError], type[APIStreamError]] = {}


def stream_error_class(status: int) -> type[APIStreamError]:
    """``APIStreamError`` mixed with the class ``status`` maps to, created once per class."""
    base = status_class(status)
    if base is APIStatusError:
        return APIStreamError
    cls = _STREAM_CLASSES.get(base)
    if cls is None:
        name = base.__name__.removesuffix("Error") + "StreamError"
        cls = type(name, (APIStreamError, base), {"__module__": __name__})
        _STREAM_CLASSES[base] = cls
    return cls


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


def in_band_error(
    payload: object, *, request_id: str | None, headers: Mapping[str, str], partial: object
) -> APIStreamError:
    """The typed error for an error event or error object inside a 200 stream."""
    obj = payload.get("error", payload) if isinstance(payload, dict) else payload
    info = error_info(payload)
    status = status_of(obj, info) if isinstance(obj, dict) else None
    cls = stream_error_class(status) if status is not None else APIStreamError
    error = cls(
        info, status_code=status or 200, request_id=request_id, headers=headers, body=payload
    )
    error.partial = partial
    return error


def status_error(
    status: int,
    body: bytes,
    *,
    headers: Mapping[str, str],
    request_id: str | None,
) -> APIStatusError:
    """Build the typed error for a non-2xx response from its raw body."""
    parsed, info = parse_error_body(body, status)
    cls = status_class(status)
    return cls(info, status_code=status, request_id=request_id, headers=headers, body=parsed)


def parse_error_body(body: bytes, status: int | None = None) -> tuple[object, ErrorInfo]:
    """Parse any error body shape into (parsed body, ErrorInfo); never raises.

    Shapes: ``{"error": {...}}`` (int or string code, maybe no code), ``{"error": "text"}``,
    flat ``{"object": "error", "message": ...}``, ``{"detail": ...}`` (FastAPI), a JSON list of
    those (some gateways), and anything else (HTML, plain text, empty), kept as text.
    """
    text = body.decode("utf-8", errors="replace")
    try:
        parsed: object = json.loads(text)
    except ValueError:
        return text, ErrorInfo(_text_message(text, status))
    return parsed, error_info(parsed, status)


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
