"""Models of DOS's account endpoints: ``GET /key`` and ``GET /user/balance`` (no OpenAI twin).

Amounts are USD. ``None`` for ``limit``, ``limit_remaining`` or ``balance`` means unlimited.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._base import WireModel
from ._types import NO_EXTRA, ResponseMeta


def _extra() -> Any:
    return attrs.field(default=NO_EXTRA, kw_only=True, repr=False)


@attrs.frozen
class KeyRateLimit(WireModel):
    """The key's request rate limit: ``requests`` per ``interval`` (e.g. 300 per "60s")."""

    requests: int | None = None
    interval: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class KeyInfo(WireModel):
    """``client.key.retrieve()``: the API key's label, spending (``usage``) and limits."""

    label: str | None = None
    usage: float | None = None
    limit: float | None = None
    limit_remaining: float | None = None
    is_free_tier: bool | None = None
    rate_limit: KeyRateLimit | None = None
    extra: Mapping[str, Any] = _extra()
    response: ResponseMeta | None = attrs.field(default=None, kw_only=True, repr=False, eq=False)


@attrs.frozen
class KeyInfoEnvelope(WireModel):
    """``GET /key`` wraps the key's facts in ``data``; the resource hands out ``data``."""

    data: KeyInfo
    extra: Mapping[str, Any] = _extra()
    response: ResponseMeta | None = attrs.field(default=None, kw_only=True, repr=False, eq=False)


@attrs.frozen
class Balance(WireModel):
    """``client.balance.retrieve()``: the account's credit; ``balance`` None is unlimited."""

    balance: float | None = None
    currency: str = "USD"
    is_active: bool | None = None
    total_spent: float | None = None
    updated_at: int | None = None
    extra: Mapping[str, Any] = _extra()
    response: ResponseMeta | None = attrs.field(default=None, kw_only=True, repr=False, eq=False)
