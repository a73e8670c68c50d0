"""``client.embeddings``: ``create`` (one request) and ``create_many`` (chunked fan-out).

``create`` mirrors openai's ``embeddings.create`` with one difference: ``embedding`` is always
a ``list[float]``. openai asks for base64 when the caller does not say and decodes it, but
hands back the base64 string when the caller asks for ``"base64"`` explicitly; here
``encoding_format`` only picks the wire encoding and both decode to the same floats (see
``DEFAULT_ENCODING_FORMAT`` for why base64 is the default).

``create_many`` has no openai twin: it cuts any number of texts into requests of
``batch_size`` and sends them through the chat batches' ``Batch`` (bounded concurrency, 429
pauses, retries per chunk), then joins the answers in input order.
"""

from __future__ import annotations

import contextlib
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import Any, Literal, Unpack, cast

from dosai_async._batch._fanout import Batch
from dosai_async._batch._item import BatchItem
from dosai_async._core._config import RetryPolicy
from dosai_async._core._exceptions import DosAIError
from dosai_async._models._embeddings import CreateEmbeddingResponse, Embedding, EmbeddingUsage
from dosai_async._models._params import CreateFn, EncodingFormat, RequestOptions

from ._base import CallOptionsFn, RequesterFn
from ._raw_namespaces import EmbeddingsWithRawResponse, EmbeddingsWithStreamingResponse

DEFAULT_EMBEDDING_MODEL = "qwen3-embedding-4b"
#: Measured over loopback (``benchmarks/embeddings_encoding.py``: 256 texts x 2560 dimensions
#: in one answer, client work only): float is a 14.0 MB body taking ~110 ms to read and
#: decode, base64 a 3.5 MB body taking ~37 ms. So base64 is asked for unless the caller says.
DEFAULT_ENCODING_FORMAT: Literal["base64"] = "base64"
_OPTIONS = frozenset(RequestOptions.__annotations__)


class Embeddings:
    """``client.embeddings``: vectors for texts (``qwen3-embedding-4b`` on DOS)."""

    def __init__(self, requester: RequesterFn, call_options: CallOptionsFn) -> None:
        self._requester = requester
        self._call_options = call_options

    @property
    def with_raw_response(self) -> EmbeddingsWithRawResponse:
        """``create`` returning a ``RawResponse`` (``create_many`` sends many: refused)."""
        return EmbeddingsWithRawResponse(self)

    @property
    def with_streaming_response(self) -> EmbeddingsWithStreamingResponse:
        """``create`` as ``async with`` around its ``AsyncRawResponse``."""
        return EmbeddingsWithStreamingResponse(self)

    async def create(
        self,
        *,
        input: str | Sequence[str],
        model: str = DEFAULT_EMBEDDING_MODEL,
        encoding_format: EncodingFormat | None = None,
        dimensions: int | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> CreateEmbeddingResponse:
        """``POST /embeddings``: one ``Embedding`` per text of ``input``, in input order.

        ``input`` is a string or a list of strings (at most 2048 on DOS, none empty).
        ``dimensions`` shortens the vectors (Matryoshka: the first components, renormalised).
        ``encoding_format`` picks the wire encoding only (base64 unless set): ``embedding``
        is a ``list[float]`` either way. Options: ``timeout``, ``max_retries``, ``retry``,
        ``extra_headers``, ``extra_body``.
        """
        body = _body(model, _check_input(input), encoding_format, dimensions, user, options)
        call = self._call_options(options)
        requester = self._requester()
        return await requester.request_json(
            "POST", "/embeddings", CreateEmbeddingResponse, call, body
        )

    async def create_many(
        self,
        inputs: Iterable[str] | AsyncIterable[str],
        *,
        model: str = DEFAULT_EMBEDDING_MODEL,
        batch_size: int = 128,
        concurrency: int = 8,
        encoding_format: EncodingFormat | None = None,
        dimensions: int | None = None,
        requests_per_minute: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> CreateEmbeddingResponse:
        """Embed any number of texts: ``batch_size`` per request, ``concurrency`` at once.

        Returns one ``CreateEmbeddingResponse`` whose ``data`` holds every text's vector in
        input order (``index`` is the position in ``inputs``) and whose ``usage`` sums the
        requests'. Requests are paced as a chat ``batch()``: a 429 or 503 pauses them all for
        the server's ``Retry-After``; each request is retried under the client's retry policy
        (or ``max_retries`` / ``retry``). The first request that still fails cancels the rest
        and raises its error. ``inputs`` are read lazily, a chunk at a time.
        """
        _check_pacing(batch_size, concurrency)
        _body(model, "probe", encoding_format, dimensions, None, options)  # fail before sending
        template = {"model": model, **_fields(encoding_format, dimensions), **options}
        requests = _requests(inputs, batch_size, template)
        create = cast(CreateFn, self._create_chunk)  # Batch is typed for chat; see _item
        batch = Batch(
            create,
            self._retry_policy,
            requests,
            concurrency=concurrency,
            requests_per_minute=requests_per_minute,
            prompt_key="input",
        )
        return _join(await _collect(batch), batch_size, model)

    async def _create_chunk(self, **request: Any) -> CreateEmbeddingResponse:
        return await self.create(**request)

    def _retry_policy(self, params: Mapping[str, Any]) -> RetryPolicy:
        return self._call_options(params).retry


def _check_input(value: object) -> str | list[str]:
    if isinstance(value, str):
        if not value:
            raise ValueError("input must not be an empty string")
        return value
    if isinstance(value, (bytes, Mapping)) or not isinstance(value, Iterable):
        raise TypeError(f"input must be a string or a list of strings, not {type(value).__name__}")
    texts = list(value)
    if not texts:
        raise ValueError("input must hold at least one string")
    for position, text in enumerate(texts):
        _check_text(text, position)
    return texts


def _check_text(text: object, position: int) -> None:
    if not isinstance(text, str):
        raise TypeError(f"input[{position}] must be a string, not {type(text).__name__}")
    if not text:
        raise ValueError(f"input[{position}] is an empty string; the API refuses those")


def _fields(encoding_format: str | None, dimensions: int | None) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if encoding_format is not None:
        fields["encoding_format"] = encoding_format
    if dimensions is not None:
        fields["dimensions"] = dimensions
    return fields


def _body(
    model: str,
    texts: str | list[str],
    encoding_format: str | None,
    dimensions: int | None,
    user: str | None,
    options: Mapping[str, Any],
) -> dict[str, Any]:
    if encoding_format not in (None, "float", "base64"):
        raise ValueError(f"encoding_format must be 'float' or 'base64', not {encoding_format!r}")
    if dimensions is not None and (isinstance(dimensions, bool) or not isinstance(dimensions, int)):
        raise TypeError(f"dimensions must be an int, not {type(dimensions).__name__}")
    body: dict[str, Any] = {"model": model, "input": texts}
    body["encoding_format"] = encoding_format or DEFAULT_ENCODING_FORMAT
    if dimensions is not None:
        body["dimensions"] = dimensions
    if user is not None:
        body["user"] = user
    unknown = set(options) - _OPTIONS
    if unknown:
        names = ", ".join(sorted(unknown))
        raise TypeError(f"unexpected keyword argument(s): {names}; pass others in extra_body")
    body.update(options.get("extra_body") or {})
    return body


def _check_pacing(batch_size: int, concurrency: int) -> None:
    for name, value in (("batch_size", batch_size), ("concurrency", concurrency)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, not {value!r}")


async def _requests(
    inputs: Iterable[str] | AsyncIterable[str], size: int, template: Mapping[str, Any]
) -> AsyncIterator[dict[str, Any]]:
    """One request per ``size`` texts, pulled lazily (the batch asks when it has room)."""
    chunk: list[str] = []
    position = 0
    async for text in _each(inputs):
        _check_text(text, position)
        position += 1
        chunk.append(text)
        if len(chunk) == size:
            yield {**template, "input": chunk}
            chunk = []
    if chunk:
        yield {**template, "input": chunk}


async def _each(inputs: Iterable[str] | AsyncIterable[str]) -> AsyncIterator[str]:
    if isinstance(inputs, (str, bytes, Mapping)):
        raise TypeError("inputs must be an iterable of strings, not a single string")
    if isinstance(inputs, AsyncIterable):
        async for text in inputs:
            yield text
    else:
        for text in inputs:
            yield text


async def _collect(batch: Batch) -> dict[int, CreateEmbeddingResponse]:
    """Each chunk's answer by chunk number; the first failure cancels the rest and raises."""
    answers: dict[int, CreateEmbeddingResponse] = {}
    # Batch iterates with an async generator: closing it cancels what is still in flight.
    items = cast(AsyncGenerator[BatchItem, None], aiter(batch))
    async with contextlib.aclosing(items):
        async for item in items:
            if isinstance(item.result, DosAIError):
                raise item.result
            answers[item.index] = cast(CreateEmbeddingResponse, item.result)
    return answers


def _join(
    answers: Mapping[int, CreateEmbeddingResponse], size: int, model: str
) -> CreateEmbeddingResponse:
    data: list[Embedding] = []
    prompt = total = 0
    cost: float | None = None
    for number in range(len(answers)):
        answer = answers[number]
        data.extend(_renumbered(answer.data, number * size))
        if answer.usage is not None:
            prompt += answer.usage.prompt_tokens
            total += answer.usage.total_tokens
            if answer.usage.cost is not None:
                cost = (cost or 0.0) + answer.usage.cost
    served = answers[0].model if answers else model
    usage = EmbeddingUsage(prompt_tokens=prompt, total_tokens=total, cost=cost)
    return CreateEmbeddingResponse(data=data, model=served, usage=usage)


def _renumbered(data: Sequence[Embedding], offset: int) -> Iterator[Embedding]:
    for item in sorted(data, key=lambda e: e.index):
        yield Embedding(item.embedding, offset + item.index, item.object, extra=item.extra)
