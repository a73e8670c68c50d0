"""``dosai balance``: the account's credit and the key's spending and limits (DOS only)."""

from __future__ import annotations

import argparse
import json

from dosai_async import Balance, KeyInfo

from ._common import add_client_options, console, open_client, plain


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``dosai balance``."""
    parser = subparsers.add_parser(
        "balance",
        help="show the credit balance and the API key's usage",
        description="Show the account's credit balance and the API key's usage and limits.",
    )
    parser.add_argument("--json", action="store_true", help="print both answers as JSON")
    add_client_options(parser)
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    """Fetch the balance and the key, and print them."""
    out = console()
    async with open_client(args) as client:
        balance = await client.balance.retrieve()
        key = await client.key.retrieve()
    if args.json:
        out.print_json(json.dumps({"balance": plain(balance), "key": plain(key)}))
        return 0
    for line in summary(balance, key):
        out.print(line, markup=False)
    return 0


def summary(balance: Balance, key: KeyInfo) -> list[str]:
    """What a user asks first: what is left, what was spent, and the key's limits."""
    lines = [f"balance: {_money(balance.balance, balance.currency)}"]
    if balance.total_spent is not None:
        lines.append(f"spent:   {_money(balance.total_spent, balance.currency)}")
    if balance.is_active is False:
        lines.append("status:  inactive (add credits to your DOS AI account)")
    lines.append(f"key:     {key.label or '?'}, used {_money(key.usage, 'USD')}")
    lines.append(f"limit:   {_money(key.limit, 'USD')} ({_money(key.limit_remaining, 'USD')} left)")
    rate = key.rate_limit
    if rate is not None and rate.requests is not None:
        lines.append(f"rate:    {rate.requests} requests per {rate.interval or '?'}")
    return lines


def _money(amount: float | None, currency: str) -> str:
    return "unlimited" if amount is None else f"{amount:.6f} {currency}"
