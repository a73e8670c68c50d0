"""The key's account: a credit balance, what was spent, and the DOS-specific answers.

The emulator's reading of the DOS docs (which name ``GET /key`` and ``GET /user/balance`` but
show no bodies), shaped after OpenRouter's ``GET /key``, which DOS's gateway resembles:

    GET /v1/key
    {"data": {"label": "dos_sk_…ator", "usage": 0.0012,      # USD spent with this key
              "limit": 5.0, "limit_remaining": 4.9988,       # null, null when unlimited
              "is_free_tier": false,
              "rate_limit": {"requests": 300, "interval": "60s"}}}

    GET /v1/user/balance
    {"balance": 4.9988, "currency": "USD", "is_active": true,  # balance null: unlimited
     "total_spent": 0.0012, "updated_at": 1767225600}

Charges: a chat request costs its ``usage.cost``, an embeddings request its ``usage.cost``, a
batch line half of it. The balance never goes below zero; at zero chat and embeddings answer
402 ``insufficient_credits``. ``balance=None`` is unlimited (nothing is ever refused).
"""

from __future__ import annotations

import time
from typing import Any

import attrs

from ._request import RequestError

__all__ = ["BATCH_DISCOUNT", "Account", "Charge"]

BATCH_DISCOUNT = 0.5


@attrs.frozen
class Charge:
    """A plan effect: take ``usd`` from the balance once the response is sent."""

    usd: float


class Account:
    """The emulated key's balance (USD; None is unlimited) and spending."""

    def __init__(self, balance: float | None, label: str, rate_limit: int) -> None:
        self.balance = balance
        self.limit = balance
        self.spent = 0.0
        self.label = label
        self.rate_limit = rate_limit
        self.updated_at = int(time.time())

    def check(self) -> None:
        """402 ``insufficient_credits`` once the balance is used up."""
        if self.balance is not None and self.balance <= 0:
            message = "Insufficient credits: add credits to your DOS AI account to continue"
            raise RequestError(402, message, "insufficient_credits")

    def charge(self, usd: float) -> None:
        """Spend ``usd``; the balance stops at zero, and only what it had is counted spent."""
        if self.balance is not None:
            usd = min(usd, self.balance)
            self.balance = round(self.balance - usd, 10)
        self.spent = round(self.spent + usd, 10)
        self.updated_at = int(time.time())

    def set_balance(self, balance: float | None) -> None:
        """A new balance (and limit); spending so far is kept."""
        self.balance = self.limit = balance
        self.updated_at = int(time.time())

    def key_body(self) -> dict[str, Any]:
        """``GET /v1/key``."""
        return {
            "data": {
                "label": self.label,
                "usage": self.spent,
                "limit": self.limit,
                "limit_remaining": self.balance,
                "is_free_tier": False,
                "rate_limit": {"requests": self.rate_limit, "interval": "60s"},
            }
        }

    def balance_body(self) -> dict[str, Any]:
        """``GET /v1/user/balance``."""
        return {
            "balance": self.balance,
            "currency": "USD",
            "is_active": self.balance is None or self.balance > 0,
            "total_spent": self.spent,
            "updated_at": self.updated_at,
        }
