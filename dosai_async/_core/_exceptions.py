"""The error tree, and the one table that maps an HTTP status to its class.

::

    DosAIError                    also the client's own errors (no API key, closed client, ...)
    ├── PreflightError            a batch the balance clearly cannot pay for; nothing was sent
    └── APIError                  openai's name: whatever the API call itself ran into
        ├── APIConnectionError    no usable response (refused, reset, TLS, cut off)
        │   └── APITimeoutError   a configured deadline elapsed (also a builtin TimeoutError)
        ├── APIStatusError        non-2xx: status_code, message, type, code, param, request_id,
        │   │                     response (a ResponseMeta), headers, body
        │   ├── BadRequestError 400   AuthenticationError 401   InsufficientCreditsError 402
        │   ├── PermissionDeniedError 403   NotFoundError 404   ConflictError 409
        │   ├── ContextLengthExceededError 413   UnprocessableEntityError 422
        │   ├── RateLimitError 429 (retry_after)   InternalServerError 5xx
        │   ├──   └── ServiceUnavailableError 503
        │   ├── ContextWindowBadRequestError 400 that says the context window overflowed
        │   │                     (vLLM's way): both a BadRequestError and a ContextLength...
        │   └── APIStreamError    in-band error inside a 200 stream (also typed like its status)
        └── ResponseValidationError   a 2xx body that does not fit the model

How a server's bytes become one of these errors (every body shape, the key masked, hostile
nesting kept as text) lives next door, in ``_error_bodies``. Requests are described by method
and URL only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, cast

from ._config import parse_retry_after
from ._meta import ResponseMeta

#: Where every public exception says it lives (``dosai_async.RateLimitError`` in tracebacks,
#: reprs and pickles, as httpx's do): each sets ``__module__`` to it in its own body, since
#: the lazy front door cannot rename classes it has not loaded. Models keep their private
#: module, where their annotations are resolved.
PUBLIC_MODULE: Final = "dosai_async"


class DosAIError(Exception):
    """Base class of every error this package raises."""

    __module__ = PUBLIC_MODULE

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


class APIError(DosAIError):
    """Base of the errors of an API call: connection, status and response-body errors.

    openai's ``APIError``: ``except APIError`` catches what it catches there
    (``APIConnectionError``, ``APITimeoutError``, ``APIStatusError`` and its subclasses,
    ``ResponseValidationError``, openai's ``APIResponseValidationError``). Errors raised
    before any request (no API key, bad arguments, a closed client) are ``DosAIError`` only.
    """

    __module__ = PUBLIC_MODULE


class APIConnectionError(APIError):
    """No usable response: refused, reset, TLS failure, or a body cut off mid-way.

    ``partial`` holds what a stream had accumulated before it was cut (a ``ChatCompletion``),
    or ``None`` for non-streaming calls.
    """

    __module__ = PUBLIC_MODULE

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

    __module__ = PUBLIC_MODULE

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


class APIStatusError(APIError):
    """The server answered with a non-2xx status.

    Carries everything the server said: ``status_code``, ``message``, ``type``, ``code``,
    ``param``, ``request_id``, the response ``headers`` and the parsed (or raw text) ``body``.
    """

    __module__ = PUBLIC_MODULE

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

    @property
    def response(self) -> ResponseMeta:
        """The HTTP facts of the response: ``status_code``, ``headers``, ``request_id``.

        openai's ``e.response`` is the httpx response; code that reads its ``status_code``
        or ``headers`` reads the same here. The body is ``e.body``.
        """
        # status_code is typed on DosAIError (None there); __init__ set it from an int.
        return ResponseMeta(cast(int, self.status_code), self.headers, self.request_id)

    def __str__(self) -> str:
        # "429 rate_limit_error: Rate limit exceeded (request_id=req_1)"
        kind = f" {self.type}" if self.type else ""
        rid = f" (request_id={self.request_id})" if self.request_id else ""
        return f"{self.status_code}{kind}: {self.message}{rid}"


class BadRequestError(APIStatusError):
    """400: the request was malformed (also guardrail blocks)."""

    __module__ = PUBLIC_MODULE


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or revoked."""

    __module__ = PUBLIC_MODULE


class InsufficientCreditsError(APIStatusError):
    """402: the account has no credits left. Never retried."""

    __module__ = PUBLIC_MODULE


class PermissionDeniedError(APIStatusError):
    """403: the key may not use this resource."""

    __module__ = PUBLIC_MODULE


class NotFoundError(APIStatusError):
    """404: unknown model or path."""

    __module__ = PUBLIC_MODULE


class ConflictError(APIStatusError):
    """409: a conflicting request; retried."""

    __module__ = PUBLIC_MODULE


class ContextLengthExceededError(APIStatusError):
    """413: the prompt does not fit the model's context window. Never retried."""

    __module__ = PUBLIC_MODULE


class ContextWindowBadRequestError(BadRequestError, ContextLengthExceededError):
    """400 saying the prompt (or prompt plus ``max_tokens``) does not fit the context window.

    vLLM reports an overflow as a plain 400 (``param: "input_tokens"``, or a ``max_tokens``
    above ``max_model_len``), with no symbolic code. Raised as this class, so both
    ``except ContextLengthExceededError`` and ``except BadRequestError`` catch it; never
    retried. ``status_code`` stays 400.
    """

    __module__ = PUBLIC_MODULE


class UnprocessableEntityError(APIStatusError):
    """422: the request was well-formed but semantically invalid."""

    __module__ = PUBLIC_MODULE


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` is the server's wait hint in seconds, if any."""

    __module__ = PUBLIC_MODULE

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked us to wait (``retry-after-ms`` or ``Retry-After``)."""
        return parse_retry_after(self.headers)


class InternalServerError(APIStatusError):
    """5xx: the server failed."""

    __module__ = PUBLIC_MODULE


class ServiceUnavailableError(InternalServerError):
    """503: the service is overloaded or down for maintenance."""

    __module__ = PUBLIC_MODULE


class APIStreamError(APIStatusError):
    """An error event inside a 200 stream.

    Raised as a subclass that also inherits the class its ``status_code`` maps to (an in-band
    ``code: 429`` is both an ``APIStreamError`` and a ``RateLimitError``). ``partial`` holds the
    ``ChatCompletion`` accumulated before the error.
    """

    __module__ = PUBLIC_MODULE

    partial: object = None
    #: Whether content had reached the stream before the error; only errors before it are
    #: retried (a retry after content would duplicate tokens).
    response_started: bool = True


class ResponseValidationError(APIError):
    """A 2xx body that does not fit the expected model; the message names the field path.

    ``errors`` lists each finding as ``"<what> @ <path>"`` (e.g.
    ``"invalid value for type, expected str @ ChatCompletion.choices[0].message.content"``).
    """

    __module__ = PUBLIC_MODULE

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


class PreflightError(DosAIError):
    """A batch refused before sending anything: even its lowest cost exceeds the balance.

    ``code`` is ``"insufficient_credits"`` (as a 402 would say); ``balance`` and
    ``lower_bound`` are USD; ``estimate`` is the ``CostEstimate`` behind the decision.
    """

    __module__ = PUBLIC_MODULE

    code = "insufficient_credits"

    def __init__(self, message: str, *, balance: float, lower_bound: float, estimate: object):
        super().__init__(message)
        self.balance = balance
        self.lower_bound = lower_bound
        self.estimate = estimate


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
