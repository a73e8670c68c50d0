"""What each route answers when nothing goes wrong: request data in, a ``Plan`` out, no I/O.

Checks run in the order the real gateway runs them: auth (401), rate limit (429, only when
enforced), credits (402), JSON (400), model (404), fields (400), context length (413). The
reply then comes from ``_replies`` and is rendered by ``_wire``.

``batch_line`` answers one line of a batch with the same engine as the chat and embeddings
routes (no auth or rate limit: the batch was authorised when created; half price).

``dos-auto`` is answered as ``dos-ai``: the real API may report another model than the one
asked for, and clients must cope.
"""

from __future__ import annotations

import os
import time
from typing import Any

import attrs
import orjson

from ._account import BATCH_DISCOUNT, Account, Charge
from ._embeddings import (
    EmbeddingRequest,
    embedding_body,
    embedding_cost,
    embedding_model_object,
    parse_embedding_request,
)
from ._plan import Plan, json_plan
from ._records import RateWindow
from ._replies import Reply, ReplyStyle, make_reply, prompt_tokens
from ._request import ChatRequest, RequestError, invalid, parse_chat_request
from ._wire import (
    Envelope,
    Latency,
    completion_body,
    completion_plan,
    model_object,
    models_body,
    stream_plan,
)

__all__ = ["CHAT_URL", "EMBEDDINGS_URL", "NO_BODY", "Api", "parse_body"]

CHAT_URL = "/v1/chat/completions"
EMBEDDINGS_URL = "/v1/embeddings"

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
    account: Account
    embedding_models: tuple[str, ...]

    def chat(self, authorization: str, body: Any, latency: Latency, as_json: bool) -> Plan:
        """``POST /v1/chat/completions``; ``as_json`` answers a stream request with JSON."""
        try:
            self.authorize(authorization)
            remaining = self.take_rate()
            self.account.check()
            chat = self.chat_request(body)
        except RequestError as error:
            return error.plan
        reply, envelope = self.reply(chat)
        if chat.stream and not as_json:
            plan = stream_plan(reply, envelope, latency, chat.include_usage)
        else:
            plan = completion_plan(reply, envelope, latency)
        headers = (*_rate_headers(self.rate.limit, remaining), *_FIXED_HEADERS)
        return attrs.evolve(plan, headers=plan.headers + headers, effects=(Charge(reply.cost),))

    def embeddings(self, authorization: str, body: Any) -> Plan:
        """``POST /v1/embeddings``."""
        try:
            self.authorize(authorization)
            remaining = self.take_rate()
            self.account.check()
            request = self.embedding_request(body)
        except RequestError as error:
            return error.plan
        plan = json_plan(200, embedding_body(request), _rate_headers(self.rate.limit, remaining))
        return attrs.evolve(plan, effects=(Charge(embedding_cost(request)),))

    def batch_line(self, url: str, body: Any) -> tuple[int, dict[str, Any]]:
        """One batch line through the chat or embeddings engine: status and body, charged."""
        try:
            self.account.check()
            if url == EMBEDDINGS_URL:
                request = self.embedding_request(body)
                self.account.charge(embedding_cost(request) * BATCH_DISCOUNT)
                return 200, embedding_body(request)
            chat = self.chat_request(body)
            if chat.stream:
                raise invalid("Streaming is not supported in a batch", "invalid_value", "stream")
        except RequestError as error:
            return error.status, error.body
        reply, envelope = self.reply(chat)
        self.account.charge(reply.cost * BATCH_DISCOUNT)
        return 200, completion_body(reply, envelope)

    def reply(self, chat: ChatRequest) -> tuple[Reply, Envelope]:
        """What the model says to a valid chat request, and the envelope it goes out in."""
        model = _ROUTED.get(chat.model, chat.model)
        reply = make_reply(chat, model, self.style)
        envelope = Envelope(
            f"chatcmpl-{os.urandom(8).hex()}", int(time.time()), model, self.reasoning_field
        )
        return reply, envelope

    def embedding_request(self, body: Any) -> EmbeddingRequest:
        """Parse an embeddings body (400 for invalid JSON or fields, 404 for the model)."""
        if body is NO_BODY:
            raise RequestError(400, "Request body is not valid JSON", "invalid_json")
        return parse_embedding_request(body, self.embedding_models)

    def model_list(self, authorization: str) -> Plan:
        """``GET /v1/models``: chat models, then embedding models."""
        try:
            self.authorize(authorization)
        except RequestError as error:
            return error.plan
        embedding = [embedding_model_object(m) for m in self.embedding_models]
        return json_plan(200, models_body(self.models, self.context_length, embedding))

    def model(self, authorization: str, model: str) -> Plan:
        """``GET /v1/models/{id}``."""
        try:
            self.authorize(authorization)
            if model in self.embedding_models:
                return json_plan(200, embedding_model_object(model))
            self.check_model(model)
        except RequestError as error:
            return error.plan
        return json_plan(200, model_object(model, self.context_length))

    def key(self, authorization: str) -> Plan:
        """``GET /v1/key`` (DOS): the key's label, spending, limit and rate limit."""
        try:
            self.authorize(authorization)
        except RequestError as error:
            return error.plan
        return json_plan(200, self.account.key_body())

    def balance(self, authorization: str) -> Plan:
        """``GET /v1/user/balance`` (DOS): the credit balance in USD."""
        try:
            self.authorize(authorization)
        except RequestError as error:
            return error.plan
        return json_plan(200, self.account.balance_body())

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
        if model in self.embedding_models:
            message = f"`{model}` is an embedding model: send it to /v1/embeddings"
            raise RequestError(400, message, "invalid_value", "model")
        if model not in self.models:
            message = f"The model `{model}` does not exist"
            raise RequestError(404, message, "model_not_found", "model")


def _rate_headers(limit: int, remaining: int) -> tuple[tuple[str, str], ...]:
    """``X-RateLimit-Limit`` and ``X-RateLimit-Remaining``."""
    return (("X-RateLimit-Limit", str(limit)), ("X-RateLimit-Remaining", str(remaining)))
