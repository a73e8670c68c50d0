"""Models of ``POST /embeddings``: the response and its vectors (OpenAI's names, DOS's ``cost``).

A vector arrives as a JSON array of floats or, with ``encoding_format: "base64"``, as the
base64 of little-endian float32 bytes; the converter turns both into ``list[float]``
(``_converter``'s ``list[float]`` hook), so ``embedding`` is the same list either way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from ._base import WireModel
from ._types import NO_EXTRA, ResponseMeta


def _extra() -> Any:
    return attrs.field(default=NO_EXTRA, kw_only=True, repr=False)


@attrs.frozen
class Embedding(WireModel):
    """One input's vector; ``index`` is the input's position in the request."""

    embedding: list[float] = attrs.field(repr=lambda v: f"<{len(v)} floats>")
    index: int = 0
    object: str = "embedding"
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class EmbeddingUsage(WireModel):
    """Tokens read for an embeddings call; ``cost`` is the DOS charge in USD when sent."""

    prompt_tokens: int = 0
    total_tokens: int = 0
    cost: float | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class CreateEmbeddingResponse(WireModel):
    """The answer of ``POST /embeddings``: one ``Embedding`` per input, in input order.

    Iterating it yields the ``Embedding`` objects; ``vectors`` are their ``embedding`` lists.
    """

    data: list[Embedding] = attrs.field(factory=list)
    model: str = ""
    object: str = "list"
    usage: EmbeddingUsage | None = None
    extra: Mapping[str, Any] = _extra()
    response: ResponseMeta | None = attrs.field(default=None, kw_only=True, repr=False, eq=False)

    def __iter__(self) -> Iterator[Embedding]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    @property
    def vectors(self) -> list[list[float]]:
        """Each input's vector, in input order."""
        return [item.embedding for item in self.data]

    @property
    def request_id(self) -> str | None:
        """The server's ``x-request-id``, if it sent one."""
        return self.response.request_id if self.response else None
