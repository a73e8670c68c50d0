"""``ResponseMeta``: the HTTP facts of a response, shared by models, streams and errors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs


@attrs.frozen
class ResponseMeta:
    """HTTP facts of the response a model, stream or error came from.

    ``status_code``, ``headers`` and the server's ``x-request-id`` as ``request_id``. It is
    what ``.response`` holds on models, streams and ``APIStatusError`` (openai's
    ``e.response.status_code`` and ``e.response.headers`` read the same).
    """

    status_code: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    request_id: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # aiohttp's header multidict refuses pickle and deepcopy: the headers travel as
        # (name, value) pairs and come back as a read-only case-insensitive mapping.
        pairs = tuple(self.headers.items())
        return (_rebuild, (self.status_code, pairs, self.request_id))


def _rebuild(status_code: int, pairs: tuple[tuple[str, str], ...], request_id: str | None) -> Any:
    return ResponseMeta(status_code, CopiedHeaders(pairs), request_id)


class CopiedHeaders(Mapping[str, str]):
    """Headers of an unpickled or deep-copied ``ResponseMeta``: read-only, case-insensitive
    names as aiohttp's are; a repeated header reads as its first value, as ``.get`` does there.
    """

    __slots__ = ("_first", "_pairs")

    def __init__(self, pairs: tuple[tuple[str, str], ...]) -> None:
        self._pairs = pairs
        self._first: dict[str, str] = {}
        for name, value in pairs:
            self._first.setdefault(name.lower(), value)

    def __getitem__(self, name: str) -> str:
        return self._first[name.lower()]

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for name, _ in self._pairs:
            if name.lower() not in seen:
                seen.add(name.lower())
                yield name

    def __len__(self) -> int:
        return len(self._first)

    def __repr__(self) -> str:
        return f"CopiedHeaders({dict(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (CopiedHeaders, (self._pairs,))
