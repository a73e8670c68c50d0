"""Jobs of the hosted Batch API: ``Batch`` and its parts, named and shaped as in ``openai.types``.

``dosai_async.Batch`` is the local fan-out (``chat.completions.batch()``); this ``Batch`` is the
server's job object, exported as ``dosai_async.types.Batch`` and, at the top level, as
``BatchJob``. ``status`` is an open set (plain ``str``): "validating", "in_progress",
"finalizing", "completed", "failed", "expired", "cancelling", "cancelled".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from ._base import WireModel
from ._types import NO_EXTRA, ResponseMeta

#: Statuses after which a batch never changes again.
TERMINAL_STATUSES = frozenset({"completed", "failed", "expired", "cancelled"})


def _extra() -> Any:
    return attrs.field(default=NO_EXTRA, kw_only=True, repr=False)


@attrs.frozen
class BatchRequestCounts(WireModel):
    """Requests of a batch: ``total``, ``completed`` (2xx answers) and ``failed`` (others)."""

    total: int = 0
    completed: int = 0
    failed: int = 0
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class BatchError(WireModel):
    """Why a batch failed validation; ``line`` is the input line at fault, if one is."""

    code: str | None = None
    message: str | None = None
    param: str | None = None
    line: int | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class BatchErrors(WireModel):
    """The ``errors`` list of a failed batch."""

    data: list[BatchError] | None = None
    object: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class Batch(WireModel):
    """A hosted batch job: where it is (``status``, ``request_counts``) and its result files.

    ``output_file_id`` holds the successful lines, ``error_file_id`` the failed ones (and, for
    an expired or cancelled batch, the lines that never ran); either is ``None`` while the
    batch runs or when it has no such lines.
    """

    id: str
    status: str = ""
    endpoint: str = ""
    input_file_id: str = ""
    completion_window: str = "24h"
    created_at: int = 0
    object: str = "batch"
    request_counts: BatchRequestCounts | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: BatchErrors | None = None
    metadata: dict[str, str] | None = None
    model: str | None = None
    expires_at: int | None = None
    in_progress_at: int | None = None
    finalizing_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None
    expired_at: int | None = None
    cancelling_at: int | None = None
    cancelled_at: int | None = None
    extra: Mapping[str, Any] = _extra()
    response: ResponseMeta | None = attrs.field(default=None, kw_only=True, repr=False, eq=False)

    @property
    def is_done(self) -> bool:
        """True once the batch reached a final status (it will not change any more)."""
        return self.status in TERMINAL_STATUSES


@attrs.frozen
class BatchList(WireModel):
    """One page of ``batches.list`` (newest first); iterating it yields its ``Batch`` items."""

    data: list[Batch] = attrs.field(factory=list)
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None
    object: str = "list"
    extra: Mapping[str, Any] = _extra()

    def __iter__(self) -> Iterator[Batch]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)
