"""Files of the Files API: ``FileObject``, ``FileDeleted`` and a page of them (``FileList``).

Named and shaped as in ``openai.types``. ``purpose`` and ``status`` are open sets (plain
``str``), so a new value from the server never breaks parsing.
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
class FileObject(WireModel):
    """An uploaded file (``purpose`` "batch") or one the API wrote ("batch_output")."""

    id: str
    bytes: int = 0
    created_at: int = 0
    filename: str = ""
    purpose: str = ""
    object: str = "file"
    status: str | None = None
    expires_at: int | None = None
    status_details: str | None = None
    extra: Mapping[str, Any] = _extra()
    response: ResponseMeta | None = attrs.field(default=None, kw_only=True, repr=False, eq=False)


@attrs.frozen
class FileDeleted(WireModel):
    """The answer of ``files.delete``."""

    id: str
    deleted: bool = False
    object: str = "file"
    extra: Mapping[str, Any] = _extra()
    response: ResponseMeta | None = attrs.field(default=None, kw_only=True, repr=False, eq=False)


@attrs.frozen
class FileList(WireModel):
    """One page of ``files.list``; iterating it yields its ``FileObject`` items."""

    data: list[FileObject] = attrs.field(factory=list)
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None
    object: str = "list"
    extra: Mapping[str, Any] = _extra()

    def __iter__(self) -> Iterator[FileObject]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)
