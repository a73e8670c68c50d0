"""Checked by mypy --strict, never executed: the lazy front door keeps every name typed."""

from __future__ import annotations

from typing import assert_type

import dosai_async
from dosai_async import AsyncDosAI, BatchJob, RateLimitError


def front_door() -> None:
    # Attribute access sees the real classes (the TYPE_CHECKING imports), not ``object``.
    assert_type(dosai_async.AsyncDosAI, type[AsyncDosAI])
    assert_type(dosai_async.BatchJob, type[BatchJob])
    assert_type(dosai_async.RateLimitError, type[RateLimitError])
    assert_type(dosai_async.__version__, str)
    # The run-time __getattr__ is hidden from mypy: a misspelt name stays an error (this
    # ignore would be "unused", and fail --strict, if mypy accepted the name).
    dosai_async.AsyncDosAl  # type: ignore[attr-defined]  # noqa: B018
