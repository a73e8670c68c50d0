"""Embeddings: validate a ``POST /v1/embeddings`` body and compute deterministic vectors.

The model is ``qwen3-embedding-4b`` (2560 dimensions, as DOS serves it). A text's vector is
drawn from an RNG seeded by the model and the text, then unit-normalised, so the same text
always embeds the same way and different texts almost never do. ``dimensions`` keeps the first
components and renormalises (Matryoshka-style, as Qwen3-Embedding does). Components are
rounded to float32, so the ``float`` and ``base64`` encodings (little-endian float32 bytes, as
OpenAI sends them) decode to the same numbers.

Checks (400 in DOS's shape): ``input`` a non-empty string or a non-empty list of at most
2048 non-empty strings (token arrays are refused by name), ``encoding_format`` "float" or
"base64", ``dimensions`` an integer in 1..2560. An unknown model is a 404.
"""

from __future__ import annotations

import base64
import math
import random
import struct
from collections.abc import Sequence
from typing import Any

import attrs

from ._request import RequestError, invalid
from ._words import tokens

__all__ = [
    "EMBEDDING_DIMENSIONS",
    "EMBEDDING_MODEL",
    "EmbeddingRequest",
    "embedding_body",
    "embedding_cost",
    "embedding_model_object",
    "parse_embedding_request",
]

EMBEDDING_MODEL = "qwen3-embedding-4b"
EMBEDDING_DIMENSIONS = 2560
_CONTEXT = 32_768
_MAX_INPUTS = 2048
_PRICE = 0.02e-6  # USD per input token (made up, like the chat prices)
_MODEL_CREATED = 1767225600


@attrs.frozen
class EmbeddingRequest:
    """The parts of a valid embeddings request that shape the answer."""

    model: str
    texts: tuple[str, ...]
    base64: bool
    dimensions: int

    @property
    def prompt_tokens(self) -> int:
        """Tokens over every input text."""
        return sum(len(tokens(text)) for text in self.texts)


def parse_embedding_request(body: Any, models: Sequence[str]) -> EmbeddingRequest:
    """Validate ``body`` (parsed JSON) or raise RequestError carrying DOS's error."""
    if not isinstance(body, dict):
        raise invalid("Request body must be a JSON object", "invalid_request")
    model = body.get("model")
    if not isinstance(model, str):
        raise invalid("'model' is required and must be a string", "invalid_type", "model")
    if model not in models:
        message = f"The model `{model}` does not exist or does not serve embeddings"
        raise RequestError(404, message, "model_not_found", "model")
    return EmbeddingRequest(
        model, _texts(body.get("input")), _base64(body), _dimensions(body.get("dimensions"))
    )


def _texts(value: Any) -> tuple[str, ...]:
    """``input`` as strings; token arrays and empty inputs are refused."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise invalid("'input' must be a non-empty string or array", "invalid_value", "input")
    if any(isinstance(item, (int, list)) for item in items):
        raise invalid(
            "Token arrays are not supported as 'input': send text", "invalid_value", "input"
        )
    if not all(isinstance(item, str) for item in items):
        raise invalid("'input' must contain only strings", "invalid_type", "input")
    if len(items) > _MAX_INPUTS:
        raise invalid(f"'input' holds at most {_MAX_INPUTS} items", "invalid_value", "input")
    if not all(items):
        raise invalid("'input' cannot contain an empty string", "invalid_value", "input")
    return tuple(items)


def _base64(body: dict[str, Any]) -> bool:
    """True for ``encoding_format: "base64"``; "float" (the default) is False."""
    value = body.get("encoding_format") or "float"
    if value not in ("float", "base64"):
        raise invalid(
            "'encoding_format' must be 'float' or 'base64'", "invalid_value", "encoding_format"
        )
    return bool(value == "base64")


def _dimensions(value: Any) -> int:
    """``dimensions`` within 1..2560 (the model's full size when absent)."""
    if value is None:
        return EMBEDDING_DIMENSIONS
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid("'dimensions' must be an integer", "invalid_type", "dimensions")
    if not 1 <= value <= EMBEDDING_DIMENSIONS:
        raise invalid(
            f"'dimensions' must be between 1 and {EMBEDDING_DIMENSIONS}",
            "invalid_value",
            "dimensions",
        )
    return value


def vector(model: str, text: str, dimensions: int) -> list[float]:
    """The unit vector of ``text``, float32-exact, cut to ``dimensions`` and renormalised."""
    rng = random.Random(f"{model}\0{text}")
    full = [rng.gauss(0.0, 1.0) for _ in range(EMBEDDING_DIMENSIONS)][:dimensions]
    norm = math.sqrt(math.fsum(x * x for x in full)) or 1.0
    packed = struct.pack(f"<{dimensions}f", *(x / norm for x in full))
    return list(struct.unpack(f"<{dimensions}f", packed))


def embedding_cost(request: EmbeddingRequest) -> float:
    """Price of the request in USD."""
    return round(request.prompt_tokens * _PRICE, 10)


def embedding_body(request: EmbeddingRequest) -> dict[str, Any]:
    """OpenAI's ``CreateEmbeddingResponse`` (plus DOS's ``usage.cost``)."""
    used = request.prompt_tokens
    data = [
        {"object": "embedding", "index": index, "embedding": _encoded(request, text)}
        for index, text in enumerate(request.texts)
    ]
    usage = {"prompt_tokens": used, "total_tokens": used, "cost": embedding_cost(request)}
    return {"object": "list", "data": data, "model": request.model, "usage": usage}


def _encoded(request: EmbeddingRequest, text: str) -> list[float] | str:
    """The vector as floats, or as base64 of little-endian float32 bytes."""
    values = vector(request.model, text, request.dimensions)
    if not request.base64:
        return values
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def embedding_model_object(model: str) -> dict[str, Any]:
    """An embedding model as ``GET /models`` lists it: ``type: "embedding"``, its dimensions."""
    return {
        "id": model,
        "object": "model",
        "created": _MODEL_CREATED,
        "owned_by": "dos",
        "type": "embedding",
        "context_length": _CONTEXT,
        "dimensions": EMBEDDING_DIMENSIONS,
        "pricing": {"prompt": f"{_PRICE:.8f}", "completion": "0"},
        "max_model_len": _CONTEXT,
    }
