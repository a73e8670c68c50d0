"""What each route answers when nothing goes wrong: request data in, a ``Plan`` out, no I/O.

Checks run in the order the real gateway runs them: auth (401), rate limit (429, only when
enforced), JSON (400), model (404), fields (400), context length (413). The reply then comes
from ``_replies`` and is rendered by ``_wire``.

``dos-auto`` is answered as ``dos-ai``: the real API may report another model than the one
asked for, and clients must cope.
"""

from __future__ import annotations

import os
import time
from typing import Any

import attrs
import orjson

from ._plan import Plan, json_plan
from ._records import RateWindow
from ._replies import ReplyStyle, make_reply, prompt_tokens
from ._request import ChatRequest, RequestError, parse_chat_request
from ._wire import Envelope, Latency, completion_plan, model_object, models_body, stream_plan

__all__ = ["NO_BODY", "Api", "parse_body"]

NO_BODY = object()  # the parsed body when there is none or it is not JSON
_ROUTED = {"dos-auto": "dos-ai"}
_FIXED_HEADERS = (("X-DOS-Cache", "miss"), ("X-Provider", "dos-emulator"))


def parse_body(raw: bytes) -> Any:
    """The JSON body, or ``NO_BODY`` when empty or invalid."""
    if not raw:
        return NO_BODY
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return NO_BODY


@attrs.define
class Api:
    """The emulated API's settings and its answers to valid and invalid requests."""

    models: tuple[str, ...]
    api_key: str | None
    style: ReplyStyle
    reasoning_field: str
    context_length: int
    rate: RateWindow
    enforce_rate_limit: bool

    def chat(self, authorization: str, body: Any, latency: Latency, as_json: bool) -> Plan:
        """``POST /v1/chat/completions``; ``as_json`` answers a stream request with JSON."""
        try:
            self.authorize(authorization)
            remaining = self.take_rate()
            chat = self.chat_request(body)
        except RequestError as error:
            return error.plan
        model = _ROUTED.get(chat.model, chat.model)
        reply = make_reply(chat, model, self.style)
        envelope = Envelope(
            f"chatcmpl-{os.urandom(8).hex()}", int(time.time()), model, self.reasoning_field
        )
        if chat.stream and not as_json:
            plan = stream_plan(reply, envelope, latency, chat.include_usage)
        else:
            plan = completion_plan(reply, envelope, latency)
        headers = (*_rate_headers(self.rate.limit, remaining), *_FIXED_HEADERS)
        return attrs.evolve(plan, headers=plan.headers + headers)

    def model_list(self, authorization: str) -> Plan:
        """``GET /v1/models``."""
        try:
            self.authorize(authorization)
        except RequestError as error:
            return error.plan
        return json_plan(200, models_body(self.models, self.context_length))

    def model(self, authorization: str, model: str) -> Plan:
        """``GET /v1/models/{id}``."""
        try:
            self.authorize(authorization)
            self.check_model(model)
        except RequestError as error:
            return error.plan
        return json_plan(200, model_object(model, self.context_length))

    def authorize(self, authorization: str) -> None:
        """401 unless ``Authorization: Bearer <key>`` carries an accepted key."""
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise RequestError(
                401, "Missing API key: send 'Authorization: Bearer <key>'", "invalid_api_key"
            )
        if self.api_key is not None and token != self.api_key:
            raise RequestError(401, "Invalid API key", "invalid_api_key")

    def take_rate(self) -> int:
        """Count the request in the rate window (429 past the limit when enforced)."""
        remaining = self.rate.remaining()
        if self.enforce_rate_limit and remaining <= 0:
            retry = ("Retry-After", str(self.rate.retry_after()))
            raise RequestError(429, None, None, headers=(retry, *_rate_headers(self.rate.limit, 0)))
        self.rate.take()
        return max(remaining - 1, 0)

    def chat_request(self, body: Any) -> ChatRequest:
        """Parse and check the body against the served models and the context length."""
        if body is NO_BODY:
            raise RequestError(400, "Request body is not valid JSON", "invalid_json")
        chat = parse_chat_request(body, self.models[0])
        self.check_model(chat.model)
        used = prompt_tokens(chat)
        if used > self.context_length:
            message = (
                f"This model's maximum context length is {self.context_length} tokens. "
                f"However, your messages resulted in {used} tokens."
            )
            raise RequestError(413, message, "context_length_exceeded", "messages")
        return chat

    def check_model(self, model: str) -> None:
        """404 for a model the emulator does not serve."""
        if model not in self.models:
            message = f"The model `{model}` does not exist"
            raise RequestError(404, message, "model_not_found", "model")


def _rate_headers(limit: int, remaining: int) -> tuple[tuple[str, str], ...]:
    """``X-RateLimit-Limit`` and ``X-RateLimit-Remaining``."""
    return (("X-RateLimit-Limit", str(limit)), ("X-RateLimit-Remaining", str(remaining)))
